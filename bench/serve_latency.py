"""Measure `suture serve` page latency on a seeded store, on SQLite and on PostgreSQL.

    .venv/bin/python bench/serve_latency.py                     # 100k runs, 10k releases, 1M events
    .venv/bin/python bench/serve_latency.py --runs 2000 --releases 200 --audit-events 20000
    .venv/bin/python bench/serve_latency.py --reuse             # the stores seeded last time
    .venv/bin/python bench/serve_latency.py --seed-only         # seed (and check), no server

Each backend's store is seeded by bench/seed_store.py under --workdir (kept for --reuse). The
real server runs as a subprocess (`suture serve --root DIR --port PORT`, SUTURE_DATABASE_URL for
PostgreSQL); once `GET /healthz` answers and the background audit-chain verification has
finished, every page gets 3 warm-up requests, then N sequential ones timed with httpx: the
overview `/`, the run list `/runs`, run detail `/runs/{id}` of random passed and failed runs, and
`GET /api/v1/metrics`. One Markdown table per backend: p50 / p95 / max in milliseconds.

PostgreSQL is $SUTURE_TEST_DATABASE_URL's server when set, else one started under --workdir the
way tests/fixtures/postgres.py starts its throwaway server (initdb on PATH or under
/usr/lib/postgresql/*/bin), kept on disk for --reuse and stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.fixtures.postgres
sys.path.insert(0, str(HERE))  # seed_store

import seed_store  # noqa: E402

from suture import proc  # noqa: E402
from suture.model import RunStatus  # noqa: E402
from suture.store.runs import open_store  # noqa: E402
from suture.store.tables import RunRow  # noqa: E402

PG_DATABASE = "suture_serve_bench"
SUTURE = Path(sys.executable).with_name("suture")
BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Timing:
    """Latency of one page over the timed requests."""

    page: str
    requests: int
    first_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    errors: int
    status: str


@dataclass(frozen=True)
class Seeded:
    """What is in a backend's store: the spec it was seeded with and how long that took."""

    backend: str
    runs: int
    releases: int
    audit_events: int
    seed: int
    seed_s: float
    verify_s: float
    size_mb: float


# -- PostgreSQL ----------------------------------------------------------------------------------


@contextmanager
def postgres_admin(workdir: Path) -> Iterator[str]:
    """The admin URL (…/postgres) of a server: $SUTURE_TEST_DATABASE_URL's, or one under workdir.

    The local server's data directory stays in workdir so --reuse finds the seeded database.
    """
    from tests.fixtures import postgres as pgfix

    if os.environ.get(pgfix.ENV_URL):
        yield pgfix.PgServer(os.environ[pgfix.ENV_URL]).admin_url()
        return
    bindir = pgfix._find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; "
                         f"set {pgfix.ENV_URL} or pass --backends sqlite")
    user, drop = pgfix._run_as_user()
    base = workdir / "pg"
    data, log = base / "data", base / "server.log"
    base.mkdir(parents=True, exist_ok=True)
    if drop:
        shutil.chown(base, user=user)
    if not (data / "PG_VERSION").exists():
        pgfix._check([*drop, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                      "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], "initdb")
    port = free_port()
    # The fixture's settings (no fsync: a benchmark server holds nothing worth a crash-safe
    # disk), plus enough shared memory that a seeded store's hot pages stay cached.
    opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c shared_buffers=1GB -c max_wal_size=4GB")
    pgfix._check([*drop, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t",
                  "120", "-o", opts, "start"], "pg_ctl start", log)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        pgfix._check([*drop, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                      "stop"], "pg_ctl stop", log)


def pg_database(admin_url: str, fresh: bool) -> str:
    """The bench database's URL; `fresh` drops and recreates it."""
    import psycopg

    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (PG_DATABASE,)).fetchone()
        if fresh and exists:
            conn.execute(f'DROP DATABASE "{PG_DATABASE}" WITH (FORCE)')
        if fresh or not exists:
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    return admin_url.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- seeding -------------------------------------------------------------------------------------


def seeded(workdir: Path, backend: str, url: str | None, spec: seed_store.SeedSpec,
           reuse: bool) -> Seeded:
    """Seed the backend's store (or, with `reuse`, take the one seeded before) and check it."""
    root = workdir / backend
    record = workdir / f"{backend}.json"
    if reuse:
        found = Seeded(**json.loads(record.read_text()))
        print(f"{backend}: reusing {root} ({found.runs:,} runs, {found.releases:,} releases, "
              f"{found.audit_events:,} audit events, seeded in {found.seed_s:.0f}s)")
        return found
    shutil.rmtree(root, ignore_errors=True)
    record.unlink(missing_ok=True)
    print(f"{backend}: seeding {root}: {spec.runs:,} runs, {spec.releases:,} releases, "
          f"{spec.audit_events:,} audit events")
    report = seed_store.seed(root, url, spec, progress=print)
    check = seed_store.check(root, url)
    found = Seeded(backend, spec.runs, spec.releases, spec.audit_events, spec.seed,
                   round(report.total_s, 1), round(check.verify_s, 1), size_mb(root, url))
    print(f"{backend}: seeded in {report.total_s:.0f}s, {found.size_mb:,.0f} MB")
    record.write_text(json.dumps(asdict(found), indent=2))
    return found


def size_mb(root: Path, url: str | None) -> float:
    """How big the store is on disk."""
    with open_store(root, url) as store, store.engine.connect() as conn:
        if store.backend == "postgresql":
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        else:
            size = sum(p.stat().st_size for p in (root / ".suture").glob("suture.db*"))
    return round(size / 1e6, 1)


def sample_runs(root: Path, url: str | None, status: RunStatus, n: int,
                rng: random.Random) -> list[str]:
    """Up to `n` random run ids of one status."""
    with open_store(root, url) as store, store.engine.connect() as conn:
        ids = list(conn.execute(select(RunRow.id).where(RunRow.status == status.value))
                   .scalars())
    return rng.sample(ids, min(n, len(ids)))


# -- the server ----------------------------------------------------------------------------------


@contextmanager
def server(workdir: Path, backend: str, url: str | None, wait_s: float,
           verify_every_s: float) -> Iterator[str]:
    """`suture serve` on the backend's store; yields its base URL once it answers."""
    port = free_port()
    log = workdir / f"serve-{backend}.log"
    log.unlink(missing_ok=True)
    # An empty SUTURE_DATABASE_URL means the SQLite file under --root, whatever the caller has.
    env = {"SUTURE_DATABASE_URL": url or ""}
    pid = proc.spawn([SUTURE, "serve", "--root", workdir / backend, "--port", str(port),
                      "--verify-every", str(verify_every_s)], env=env, log_path=log)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        wait_healthy(base, pid, log, wait_s)
        print(f"{backend}: server up in {time.monotonic() - started:.1f}s")
        waited = wait_chain(base, pid, wait_s)
        if waited is not None:
            print(f"{backend}: audit chain verified in the background after {waited:.0f}s")
        yield base
    finally:
        proc.terminate(pid)


def wait_healthy(base: str, pid: int, log: Path, wait_s: float) -> None:
    """Until `/healthz` answers 200 (or the server died, or `wait_s` passed)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not proc.running(pid):
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise SystemExit(f"suture serve exited before answering:\n{tail}")
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"suture serve did not answer /healthz within {wait_s:.0f}s (log: {log})")


def wait_chain(base: str, pid: int, wait_s: float) -> float | None:
    """Until the server's first background verification of the audit chain has a verdict.

    It takes a core for seconds to minutes on a million events; timing pages meanwhile would
    measure that instead. None when the server offers no such status.
    """
    started = time.monotonic()
    while time.monotonic() - started < wait_s and proc.running(pid):
        try:
            resp = httpx.get(f"{base}/api/v1/audit/verify", timeout=30)
        except httpx.HTTPError:
            resp = None
        if resp is not None and resp.status_code != 200:
            return None
        if resp is not None and resp.json().get("checked_at"):
            return time.monotonic() - started
        time.sleep(1.0)
    return None


def measure(client: httpx.Client, page: str, warm: Sequence[str],
            paths: Sequence[str]) -> Timing:
    """Time one request per path, sequentially, after the untimed `warm` ones; the first request
    of all is reported apart (it fills the server's caches)."""
    first_ms = 0.0
    for i, path in enumerate(warm):
        t0 = time.perf_counter()
        client.get(path).read()
        if i == 0:
            first_ms = (time.perf_counter() - t0) * 1000
    times: list[float] = []
    codes: dict[int, int] = {}
    for path in paths:
        t0 = time.perf_counter()
        resp = client.get(path)
        resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        codes[resp.status_code] = codes.get(resp.status_code, 0) + 1
    errors = sum(n for code, n in codes.items() if code != 200)
    status = ", ".join(f"{n}x{code}" for code, n in sorted(codes.items()))
    first_ms = first_ms or times[0]
    times.sort()
    return Timing(page, len(times), first_ms, percentile(times, 50), percentile(times, 95),
                  times[-1], errors, status)


def percentile(ordered: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of sorted values."""
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(p) - 1] if p < 100 \
        else ordered[-1]


def bench_backend(workdir: Path, backend: str, url: str | None, opts: argparse.Namespace,
                  rng: random.Random) -> list[Timing]:
    """Every page's timing on one backend."""
    root, n, warm = workdir / backend, opts.requests, opts.warmup
    passed = sample_runs(root, url, RunStatus.PASSED, n, rng)
    failed = sample_runs(root, url, RunStatus.FAILED, n, rng)
    # The server caches an overview (which the metrics API shares) for 30 s per period to the
    # minute, and the compliance report in it for 5 minutes per period to the hour. Periods
    # ending at other minutes of one past hour recompute the metrics but reuse that hour's
    # report (warmed first); periods ending in other hours recompute everything.
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def ends(hours_back: int, minutes: Sequence[int]) -> list[str]:
        """`until` values at these minutes of the hour `hours_back` hours ago."""
        base = hour - timedelta(hours=hours_back)
        return [(base + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M") for m in minutes]

    k, cold = opts.uncached, opts.cold
    new_minute = range(1, k + 1)
    cold_hours = [ends(h, [0])[0] for h in range(9, 9 + 2 * cold)]
    run_list = ("run list `/runs`", ["/runs"] * warm, ["/runs"] * n)
    # Light pages first, on a fresh server; the heavy overview computations leave big reports
    # in the server's caches, so the run list is timed again at the end to show their effect.
    pages = [
        run_list,
        ("run detail `/runs/{id}`, passed", [f"/runs/{r}" for r in passed[:warm]],
         [f"/runs/{r}" for r in passed]),
        ("run detail `/runs/{id}`, failed", [f"/runs/{r}" for r in failed[:warm]],
         [f"/runs/{r}" for r in failed]),
        ("overview `/`", ["/"] * warm, ["/"] * n),
        ("`GET /api/v1/metrics`", ["/api/v1/metrics"] * warm, ["/api/v1/metrics"] * n),
        ("overview `/`, new period (compliance cached)",
         [f"/?until={e}" for e in ends(3, [0])], [f"/?until={e}" for e in ends(3, new_minute)]),
        ("`GET /api/v1/metrics`, new period (compliance cached)",
         [f"/api/v1/metrics?until={e}" for e in ends(6, [0])],
         [f"/api/v1/metrics?until={e}" for e in ends(6, new_minute)]),
        ("overview `/`, new period and hour (no cache)", [],
         [f"/?until={e}" for e in cold_hours[:cold]]),
        ("`GET /api/v1/metrics`, new period and hour (no cache)", [],
         [f"/api/v1/metrics?until={e}" for e in cold_hours[cold:]]),
        ("run list `/runs`, again after the pages above", *run_list[1:]),
    ]
    out = []
    with server(workdir, backend, url, opts.wait, opts.verify_every) as base, \
            httpx.Client(base_url=base, timeout=1800) as client:
        for page, warm_paths, paths in pages:
            if not paths:
                continue
            timing = measure(client, page, warm_paths, paths)
            print(f"  {page}: first {timing.first_ms:.0f} ms, p50 {timing.p50_ms:.0f} ms, "
                  f"p95 {timing.p95_ms:.0f} ms ({timing.status})")
            out.append(timing)
    return out


def table(backend: str, found: Seeded, timings: Sequence[Timing]) -> str:
    """One backend's results as Markdown."""
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
    lines = [
        f"### {name}: {found.runs:,} runs, {found.releases:,} releases, "
        f"{found.audit_events:,} audit events ({found.size_mb:,.0f} MB)",
        "",
        f"Seeded in {found.seed_s:,.0f} s; `AuditLog.verify()` of the whole chain "
        f"{found.verify_s:,.1f} s.",
        "",
        "| page | requests | first ms | p50 ms | p95 ms | max ms | non-200 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        lines.append(f"| {t.page} | {t.requests} | {t.first_ms:,.0f} | {t.p50_ms:,.0f} | "
                     f"{t.p95_ms:,.0f} | {t.max_ms:,.0f} | {t.errors} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Seed (or reuse), serve, measure, print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/suture-serve-bench"))
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--uncached", type=int, default=5,
                        help="timed requests for new periods (metrics recomputed)")
    parser.add_argument("--cold", type=int, default=3,
                        help="timed requests for new hours (compliance recomputed too)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--reuse", action="store_true",
                        help="measure the stores seeded by an earlier run in --workdir")
    parser.add_argument("--seed-only", action="store_true", help="seed and check, no server")
    parser.add_argument("--verify-every", type=float, default=3600.0,
                        help="the server's audit chain re-verification interval (its default "
                        "is 3600 s); a verification keeps one of the two cores busy for ~50 s "
                        "at 1M events, so the bench waits out the first and keeps the next away")
    parser.add_argument("--wait", type=float, default=900.0,
                        help="seconds to wait for the server and its chain verification")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise SystemExit(f"unknown backend(s) {', '.join(sorted(unknown))}; use "
                         f"{', '.join(BACKENDS)}")
    if not args.seed_only and not SUTURE.exists():
        raise SystemExit(f"{SUTURE} not found: run this with the project's virtualenv python")
    # One clock for both backends, so they hold the same records and compare fairly.
    spec = seed_store.SeedSpec(runs=args.runs, releases=args.releases,
                               audit_events=args.audit_events, seed=args.seed,
                               now=datetime.now(UTC))
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    tables: list[str] = []
    results: dict[str, object] = {}
    for backend in backends:
        with ExitStack() as stack:
            url: str | None = None
            reuse = args.reuse and (workdir / f"{backend}.json").exists()
            if backend == "postgresql":
                admin = stack.enter_context(postgres_admin(workdir))
                url = pg_database(admin, fresh=not reuse)
            found = seeded(workdir, backend, url, spec, reuse)
            timings = [] if args.seed_only else bench_backend(workdir, backend, url, args, rng)
        tables.append(table(backend, found, timings))
        results[backend] = {"seeded": asdict(found), "timings": [asdict(t) for t in timings]}
    (workdir / "results.json").write_text(json.dumps(results, indent=2))
    print()
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
