"""Fill a suture store with a year of realistic records, fast: runs, releases and audit events.

    .venv/bin/python bench/seed_store.py --root /tmp/seeded                  # 100k / 10k / 1M
    .venv/bin/python bench/seed_store.py --root /tmp/small --runs 2000 --releases 200 \\
        --audit-events 20000 --database-url postgresql+psycopg://postgres@host:5432/db

The schema is made by opening the store the normal way (open_store, AuditLog.open); the rows then
go in as bulk inserts (SQLAlchemy core executemany on SQLite, COPY on PostgreSQL) shaped the way
the real writers shape them (store/convert.py, store/releases.py, audit/trail.py, the deploy
controller and service). The records tell one story: a FHIR service's commits (a real git history
under --root, so DORA lead time resolves), the runs that checked them (~80% passed), diagnoses of
the failures and `suture fix` attempts, the releases that shipped them to three environments, and
every one of those as events of a hash-chained audit log with signed checkpoints. At the end the
real APIs read some of it back and `AuditLog.verify()` must pass.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON, Engine, Table, event, func, select, text

from suture import proc
from suture.audit import AuditLog
from suture.audit.chain import canonical_json, event_hash, sha256_hex, to_jsonable, utc_text
from suture.audit.checkpoints import DEFAULT_EVERY, signed_message
from suture.audit.keys import SigningKey
from suture.deploy.model import (
    Release,
    ReleaseStatus,
    Risk,
    RiskLevel,
    RiskReason,
    Step,
    Strategy,
    Verdict,
)
from suture.errors import UsageError
from suture.llm.interface import CallOutcome, LLMCall
from suture.model import (
    AttemptStatus,
    Category,
    Check,
    Diagnosis,
    Evidence,
    EvidenceKind,
    FixAttempt,
    RunStatus,
    Why,
)
from suture.store.db import create_store_engine, mask_url, resolve_url
from suture.store.releases import ReleaseStore
from suture.store.runs import open_store
from suture.store.tables import (
    ApprovalRow,
    AuditCheckpointRow,
    AuditEventRow,
    DeployEventRow,
    DiagnosisRow,
    FindingRow,
    FixAttemptRow,
    LLMCallRow,
    ReleaseRow,
    RunRow,
    StageRow,
)

BATCH = 5000
DOMAIN = "clinic.example"
HANDLES = ("ana", "bo", "chen", "dara", "eli", "femi", "gus", "hana", "ivo", "jun", "kai", "lea")
ENVIRONMENTS = (("dev", 0.45), ("staging", 0.30), ("production", 0.25))
SUTURE_VERSIONS = ((0.0, "0.1.0"), (0.4, "0.2.0"), (0.75, "0.3.0"))
REPLICAS = 2  # the deploy default: rolling replaces one of two instances, then the other

# The repository suture checks: a small FHIR service (like examples/clinic-api).
MODULES = (
    "app/routes/patients.py", "app/routes/observations.py", "app/routes/encounters.py",
    "app/fhir/bundle.py", "app/fhir/validate.py", "app/fhir/search.py", "app/auth.py",
    "app/db.py", "app/loader.py", "app/settings.py", "app/audit.py", "app/export.py",
)
CODE = (
    "def search(params: SearchParams, session: Session) -> Bundle:",
    '    """Run a FHIR search and page the results into a searchset Bundle."""',
    "    query = select(Resource).where(Resource.kind == params.kind)",
    "    for name, value in params.filters.items():",
    "        query = query.where(Resource.index[name].astext == value)",
    "    rows = session.scalars(query.limit(params.count + 1)).all()",
    "    entries = [entry_for(r, base_url) for r in rows[: params.count]]",
    "    if len(rows) > params.count:",
    '        links.append(Link(relation="next", url=next_url(params)))',
    '    return Bundle(type="searchset", total=len(entries), entry=entries, link=links)',
    "    data = yaml.load(fh, Loader=yaml.Loader)",
    "    resp = requests.get(url).json()",
    "    digest = hashlib.md5(body).hexdigest()",
    "    token = jwt.decode(raw, options={'verify_signature': False})",
)
COMMIT_MESSAGES = (
    "fix: page Bundle links when _count is exceeded", "feat: Observation search by code",
    "refactor: split FHIR validation out of the routes", "fix: reject Patient without identifier",
    "chore: bump fastapi and pydantic", "feat: bulk $export for Encounter",
    "fix: audit every read of a Patient record", "test: cover the empty searchset",
    "perf: index Observation.subject", "fix: time zones in Encounter.period",
    "docs: describe the export job", "feat: SMART scopes on the token endpoint",
)

# (name, kind, tool version, share of the year after which suture.yml has the gate)
GATES: tuple[tuple[str, str, str, float], ...] = (
    ("tests", "tests", "pytest 9.1.1, coverage 7.17.5", 0.0),
    ("lint", "lint", "ruff 0.17.6", 0.0),
    ("sast", "sast", "bandit 1.9.4", 0.0),
    ("secrets", "secrets", "detect-secrets 1.5.52", 0.0),
    ("deps", "deps", "suture-osv 0.1.0 (OSV API)", 0.0),
    ("iac", "iac", "checkov 3.3.30", 0.0),
    ("phi", "phi", "suture-phi 0.1.0 (rules 15ca5ccf3614)", 0.3),
    ("typecheck", "command", "", 0.6),
)
# Which gate breaks a failed run, by weight: the test suite most, then lint and security.
FAIL_WEIGHTS = {"tests": 45, "lint": 20, "sast": 10, "deps": 8, "secrets": 5, "iac": 5,
                "phi": 4, "typecheck": 3}
CONFIG_CHANGES = (0.12, 0.3, 0.45, 0.6, 0.8, 0.92)  # share of the year where suture.yml changed
CACHEABLE = {"lint", "sast", "iac", "typecheck"}

SUTURE_YML = """\
version: 1
gates:
  tests:
    paths: [tests]
    source: [app]
    min_coverage: 85
  lint: {}
  sast:
    paths: [app]
  secrets: {}
  deps:
    files: [requirements.txt]
  iac:
    frameworks: [terraform, dockerfile]
  phi: {}
  typecheck:
    kind: command
    run: mypy app
    needs: [lint]
deploy:
  environments:
    dev: {port: 18501}
    staging: {port: 18502}
    production: {port: 18503, approval: true}
"""


@dataclass(frozen=True)
class SeedSpec:
    """How much to seed: counts, the random seed, and the span of time ending at `now`."""

    runs: int = 100_000
    releases: int = 10_000
    audit_events: int = 1_000_000
    seed: int = 1
    days: float = 365.0
    git: bool = True
    now: datetime | None = None


@dataclass(frozen=True)
class SeedReport:
    """What went in (rows per table) and how long each part took."""

    url: str
    rows: dict[str, int]
    seconds: dict[str, float]
    natural_events: int

    @property
    def total_s(self) -> float:
        """Wall time of the whole seeding."""
        return sum(self.seconds.values())


@dataclass(frozen=True)
class CheckReport:
    """What the real APIs read back from a seeded store."""

    runs: int
    failed_runs: int
    releases: int
    audit_events: int
    checkpoints: int
    verify_s: float
    list_runs_ms: float
    get_run_ms: float
    recent_ms: float


# -- writing --------------------------------------------------------------------------------------


class BulkWriter:
    """Buffers rows per table; a flush writes every table, parents first, in one transaction."""

    ORDER: tuple[Table, ...] = cast(tuple[Table, ...], (
        RunRow.__table__, StageRow.__table__, FindingRow.__table__, DiagnosisRow.__table__,
        LLMCallRow.__table__, FixAttemptRow.__table__, ReleaseRow.__table__,
        ApprovalRow.__table__, DeployEventRow.__table__, AuditEventRow.__table__,
        AuditCheckpointRow.__table__,
    ))

    def __init__(self, engine: Engine, batch: int = BATCH) -> None:
        self.engine = engine
        self.batch = batch
        self.buffers: dict[str, list[dict[str, Any]]] = {t.name: [] for t in self.ORDER}
        self.rows: dict[str, int] = {t.name: 0 for t in self.ORDER}
        self.pg = engine.dialect.name == "postgresql"

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Queue one row; the whole queue is written once any table has a batch of rows."""
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Write every queued row, parents before children, in one transaction."""
        with self.engine.begin() as conn:
            for table in self.ORDER:
                rows = self.buffers[table.name]
                if not rows:
                    continue
                if self.pg:
                    _copy(conn.connection.driver_connection, table, rows)
                else:
                    conn.execute(table.insert(), rows)
                self.rows[table.name] += len(rows)
                rows.clear()

    def finish(self) -> None:
        """Flush; on PostgreSQL move the id sequences past the ids written and gather stats."""
        self.flush()
        if not self.pg:
            return
        with self.engine.begin() as conn:
            for table in self.ORDER:
                if "id" in table.c and table.c.id.autoincrement is True:
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"))
        # Autovacuum would analyse the new rows within a minute anyway; now it is deterministic.
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def _copy(raw: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY rows into a PostgreSQL table; JSON columns go in as their text."""
    names = list(rows[0])
    json_cols = {n for n in names if isinstance(table.c[n].type, JSON)}
    cols = ", ".join(f'"{n}"' for n in names)
    with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row([json.dumps(row[n]) if n in json_cols else row[n] for n in names])


def bulk_engine(url: str) -> Engine:
    """A store engine for loading: on SQLite, no fsync per transaction and a large page cache."""
    engine = create_store_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _fast(dbapi_conn: Any, _record: Any) -> None:
            # A crash mid-seed only loses a scratch database; the seed is re-run from scratch.
            dbapi_conn.execute("PRAGMA synchronous = OFF")
            dbapi_conn.execute("PRAGMA cache_size = -262144")
    return engine


# -- time and history ----------------------------------------------------------------------------


class Clock:
    """Random moments in [start, end], busier on weekdays and working hours, like real teams."""

    def __init__(self, rng: random.Random, start: datetime, end: datetime) -> None:
        self.rng, self.start, self.end = rng, start, end
        self.span = (end - start).total_seconds()

    def sorted_times(self, n: int) -> list[datetime]:
        """`n` moments, oldest first."""
        out: list[float] = []
        rng, t0 = self.rng, self.start.timestamp()
        while len(out) < n:
            t = t0 + rng.random() * self.span
            moment = datetime.fromtimestamp(t, UTC)
            weight = (1.0 if moment.weekday() < 5 else 0.25) * \
                (1.0 if 7 <= moment.hour <= 19 else 0.3)
            if rng.random() < weight:
                out.append(t)
        out.sort()
        return [datetime.fromtimestamp(t, UTC) for t in out]

    def share(self, at: datetime) -> float:
        """How far into the seeded year `at` is, 0..1."""
        return min(1.0, max(0.0, (at - self.start).total_seconds() / self.span))


@dataclass(frozen=True)
class Commit:
    """One commit of the seeded history."""

    sha: str
    at: datetime
    author: str
    message: str


def person(handle: str) -> str:
    """A git identity `Name <email>` for a team member."""
    return f"{handle.title()} Dev <{handle}@{DOMAIN}>"


def git_history(root: Path, rng: random.Random, times: Sequence[datetime],
                real: bool) -> list[Commit]:
    """Commits at `times` by the team; with `real`, made in a git repository at `root`."""
    plans = [(t, rng.choice(HANDLES), rng.choice(COMMIT_MESSAGES)) for t in times]
    if not real:
        return [Commit(_hex(rng, 40), t, person(h), m) for t, h, m in plans]
    if (root / ".git").exists():
        raise UsageError(f"{root} is already a git repository",
                         hint="seed into a fresh directory, or pass --no-git")
    _git(root, "init", "-q", "-b", "main")
    stream: list[str] = []
    for i, (t, handle, message) in enumerate(plans, start=1):
        who = f"{person(handle)} {int(t.timestamp())} +0000"
        body = f"{message}\n"
        path = MODULES[i % len(MODULES)]
        content = f"# revision {i}\nVERSION = {i}\n"
        stream.append(f"commit refs/heads/main\nmark :{i}\nauthor {who}\ncommitter {who}\n"
                      f"data {len(body.encode())}\n{body}")
        if i > 1:
            stream.append(f"from :{i - 1}\n")
        stream.append(f"M 100644 inline {path}\ndata {len(content.encode())}\n{content}\n")
    marks = root / ".git" / "seed-marks"
    _git(root, "fast-import", "--quiet", f"--export-marks={marks}", stdin="".join(stream))
    shas: dict[int, str] = {}
    for line in marks.read_text().splitlines():
        mark, sha = line.split()
        shas[int(mark[1:])] = sha
    marks.unlink()
    return [Commit(shas[i], t, person(h), m) for i, (t, h, m) in enumerate(plans, start=1)]


def _git(root: Path, *args: str, stdin: str | None = None) -> str:
    res = proc.run(("git", *args), cwd=root, timeout=900, input_text=stdin)
    if res.returncode != 0:
        raise UsageError(f"git {args[0]} failed in {root}: {res.stderr.strip()[:500]}",
                         hint="check that git is installed and the directory is writable")
    return res.stdout


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def _fp(*parts: object) -> str:
    """A stable 32-hex fingerprint, so one problem keeps its identity across runs."""
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:32]


def _digest(data: object) -> str:
    """sha256 of data as sorted JSON, as suture.audit.trail digests fingerprints and diffs."""
    if data == []:
        return _EMPTY_DIGEST  # most gates report no new findings: skip a million dumps
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


_EMPTY_DIGEST = hashlib.sha256(b"[]").hexdigest()
CROSS_CHECK = 101  # every so many events, the fast encoders are checked against suture's own


class _NotFast(Exception):
    """A value the fast path cannot write exactly as canonical_json would."""


def _es(value: Any) -> Any:
    """Floats as ECMAScript writes them: integral ones as ints; exponents are left to suture."""
    kind = type(value)
    if kind is float:
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        if "e" in repr(value) or value != value or abs(value) == float("inf"):
            raise _NotFast
        return value
    if kind is dict:
        return {k: _es(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_es(v) for v in value]
    return value


def fast_canonical(payload: dict[str, Any], check: bool = False) -> str:
    """canonical_json(to_jsonable(payload)) via the C JSON encoder, for payloads of plain data
    with ASCII keys (suture's own encoder walks in Python: minutes for a million events)."""
    try:
        body = json.dumps(_es(payload), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False)
    except (_NotFast, TypeError, ValueError):
        return canonical_json(to_jsonable(payload))
    if check:
        real = canonical_json(to_jsonable(payload))
        if real != body:
            raise AssertionError(f"fast_canonical wrote {body!r}, canonical_json {real!r}")
    return body


def fast_utc(at: datetime) -> str:
    """utc_text(at) for an aware UTC datetime, without strftime."""
    return at.isoformat(timespec="microseconds")[:26] + "Z"


def snippet(line: int, focus: str, rng: random.Random) -> str:
    """Code context around `line` the way the executor quotes it: `> 12 | code`."""
    first = max(1, line - 2)
    numbers = range(first, line + 3)
    width = len(str(numbers[-1]))
    out = []
    for n in numbers:
        code = focus if n == line else rng.choice(CODE)
        out.append(f"{'>' if n == line else ' '} {n:>{width}} | {code}")
    return "\n".join(out)


# -- audit events --------------------------------------------------------------------------------


@dataclass
class AuditTrail:
    """Events as the records' writers would have appended them, to be chained in time order."""

    # (epoch seconds, tie-breaker, time text, actor, action, subject, canonical payload, group end)
    events: list[tuple[float, int, str, str, str, str, str, bool]] = field(default_factory=list)

    def add(self, at: datetime, actor: str, action: str, subject: str,
            payload: dict[str, Any], group_end: bool = False) -> None:
        """One event; `group_end` marks where the writer signs a checkpoint (end of a run)."""
        n = len(self.events)
        when = fast_utc(at)
        body = fast_canonical(payload, check=n % CROSS_CHECK == 0)
        if n % CROSS_CHECK == 0 and when != utc_text(at):
            raise AssertionError(f"fast_utc gave {when}, utc_text {utc_text(at)}")
        self.events.append((at.timestamp(), n, when, actor, action,
                            subject, body, group_end))

    def group(self, at: datetime, actor: str,
              items: Sequence[tuple[str, str, dict[str, Any]]], checkpoint: bool) -> None:
        """Events appended together (one transaction), a millisecond apart."""
        for i, (action, subject, payload) in enumerate(items):
            self.add(at + timedelta(milliseconds=i), actor, action, subject, payload,
                     group_end=checkpoint and i == len(items) - 1)


def write_chain(writer: BulkWriter, events: Sequence[tuple[float, int, str, str, str, str, str,
                                                               bool]],
                key: SigningKey, every: int = DEFAULT_EVERY) -> None:
    """Chain the (time-sorted) events from the genesis hash and sign checkpoints, as
    AuditLog.append_group and AuditLog.checkpoint do: every `every`-th event and each group end."""
    prev = "0" * 64
    for seq, (_t, _i, when, actor, action, subject, body, group_end) in enumerate(events, 1):
        digest = sha256_hex(body)
        h = event_hash(seq, when, actor, action, subject, digest, prev)
        writer.add("audit_events", {"seq": seq, "time": when, "actor": actor, "action": action,
                                    "subject": subject, "payload": body,
                                    "payload_digest": digest, "prev_hash": prev, "hash": h})
        if seq % every == 0 or group_end:
            signature = key.sign(signed_message(seq, h, when, key.key_id))
            writer.add("audit_checkpoints", {"seq": seq, "head_hash": h, "time": when,
                                             "key_id": key.key_id, "signature": signature})
        prev = h


# -- runs ----------------------------------------------------------------------------------------


@dataclass
class Ids:
    """The next id of each table with an integer key (ids are written explicitly)."""

    stage: int = 1
    finding: int = 1
    diagnosis: int = 1
    llm: int = 1
    fix: int = 1
    approval: int = 1
    deploy_event: int = 1


@dataclass(frozen=True)
class Failure:
    """A failed stage's findings and the facts its diagnosis and fix are built from."""

    stage: str
    kind: str
    findings: tuple[dict[str, Any], ...]
    culprit: Commit | None
    flaky: bool = False
    error: bool = False


class RunMaker:
    """Runs with stages and findings, then diagnoses, LLM calls and fix attempts of failures."""

    def __init__(self, rng: random.Random, clock: Clock, commits: Sequence[Commit], root: str,
                 writer: BulkWriter, trail: AuditTrail, ids: Ids) -> None:
        self.rng, self.clock, self.commits, self.root = rng, clock, commits, root
        self.commit_times = [c.at for c in commits]
        self.by_sha = {c.sha: c for c in commits}
        self.writer, self.trail, self.ids = writer, trail, ids
        self.passed: list[tuple[datetime, str, str]] = []  # (started, run id, commit) on main
        self.failed: list[tuple[datetime, str]] = []
        self.prev_digest = ""
        self.prev_run = ""
        self.ci = f"ci <ci@{DOMAIN}>"

    def commit_before(self, at: datetime) -> Commit:
        """The newest commit made before `at` (the first one if none was)."""
        i = bisect.bisect_right(self.commit_times, at) - 1
        return self.commits[max(0, i)]

    def make(self, started: datetime) -> None:
        """One run started at `started`, with everything that followed it."""
        rng = self.rng
        share = self.clock.share(started)
        run_id = _hex(rng, 32)
        commit = self.commit_before(started - timedelta(minutes=rng.uniform(0.5, 30)))
        on_branch = rng.random() < 0.35
        branch = f"feature/{rng.choice(HANDLES)}-{rng.randint(100, 999)}" if on_branch else "main"
        roll = rng.random()
        status = RunStatus.PASSED if roll < 0.80 else (
            RunStatus.FAILED if roll < 0.985 else RunStatus.ERROR)
        gates = [g for g in GATES if share >= g[3]]
        era = sum(1 for c in CONFIG_CHANGES if share >= c)
        digest = hashlib.sha256(f"suture.yml era {era}".encode()).hexdigest()[:16]
        failing: set[str] = set()
        if status is RunStatus.FAILED:
            names = [g[0] for g in gates]
            weights = [FAIL_WEIGHTS[n] for n in names]
            failing.add(rng.choices(names, weights)[0])
            if rng.random() < 0.25:
                failing.add(rng.choices(names, weights)[0])
        broken = rng.choice([g[0] for g in gates]) if status is RunStatus.ERROR else None
        failures: list[Failure] = []
        stage_events: list[tuple[str, str, dict[str, Any]]] = []
        children: list[tuple[str, dict[str, Any]]] = []  # queued after the run: parents first
        total = 0.0
        for position, (name, kind, tool, _since) in enumerate(gates):
            if name == "typecheck" and "lint" in failing:
                st = "skipped"
            elif name == broken:
                st = "error"
            else:
                st = "failed" if name in failing else "passed"
            row, findings, failure = self.stage(run_id, position, name, kind, tool, st, share,
                                                commit)
            total = max(total, row["duration_s"]) if name == "tests" else total + \
                row["duration_s"] * 0.2
            if failure is not None:
                failures.append(failure)
            children.append(("stages", row))
            children += [("findings", f) for f in findings]
            new = [f for f in findings if not f["baselined"]]
            stage_events.append(("gate.result", f"{run_id}/{name}", {
                "kind": kind, "status": st, "cached": row["cached"], "tool_version": tool,
                "findings": len(findings), "new_findings": len(new),
                "fingerprints_digest": _digest(sorted(f["fingerprint"] for f in new)),
                "metrics": row["metrics"],
            }))
        duration = round(total + rng.uniform(2, 12), 3)
        finished = started + timedelta(seconds=duration)
        error = None
        if status is RunStatus.ERROR:
            error = rng.choice((
                f"gate {broken} failed to start: tool not found on PATH",
                f"interrupted: suture process {rng.randint(1000, 60000)} on ci-runner-2 ended "
                "mid-run",
                f"gate {broken} timed out after 600s",
            ))
        version = next(v for s, v in reversed(SUTURE_VERSIONS) if share >= s)
        dirty = on_branch and rng.random() < 0.05
        self.writer.add("runs", {
            "id": run_id, "status": status.value, "root": self.root, "commit": commit.sha,
            "branch": branch, "dirty": dirty, "config_digest": digest, "started_at": started,
            "finished_at": finished, "duration_s": duration, "suture_version": version,
            "error": error, "host": f"ci-runner-{rng.randint(1, 4)}",
            "pid": rng.randint(1000, 60000),
        })
        for table, child in children:
            self.writer.add(table, child)
        actor = self.ci if rng.random() < 0.7 else person(rng.choice(HANDLES))
        group: list[tuple[str, str, dict[str, Any]]] = []
        if self.prev_digest and self.prev_digest != digest:
            group.append(("config.changed", run_id, {
                "run_id": run_id, "previous_run_id": self.prev_run,
                "old_digest": self.prev_digest, "new_digest": digest}))
        group.append(("run.started", run_id, {
            "commit": commit.sha, "branch": branch, "dirty": dirty, "config_digest": digest,
            "started_at": fast_utc(started), "suture_version": version}))
        group += stage_events
        group.append(("run.finished", run_id, {"status": status.value, "duration_s": duration,
                                               "error": error}))
        self.trail.group(finished + timedelta(milliseconds=50), actor, group, checkpoint=True)
        self.prev_digest, self.prev_run = digest, run_id
        if status is RunStatus.PASSED and branch == "main":
            self.passed.append((started, run_id, commit.sha))
        if status is not RunStatus.PASSED:
            self.failed.append((started, run_id))
            if failures and rng.random() < 0.85:
                self.heal(run_id, finished, failures, actor)

    # -- stages ------------------------------------------------------------------------------

    def stage(self, run_id: str, position: int, name: str, kind: str, tool: str, status: str,
              share: float, commit: Commit
              ) -> tuple[dict[str, Any], list[dict[str, Any]], Failure | None]:
        """The row of one stage, its findings' rows, and what a diagnosis needs if it failed."""
        rng = self.rng
        stage_id = self.ids.stage
        self.ids.stage += 1
        made = _STAGES[name](rng, status, share)
        cached = status == "passed" and name in CACHEABLE and rng.random() < 0.45
        if status == "error":
            made = StageText(f"{name} did not finish: tool error", {}, 0.0,
                             f"{tool or name} exited with code 2\nTraceback (most recent call "
                             "last):\n  ...\nRuntimeError: could not reach the advisory "
                             "database\n", [])
        rows = []
        for i, spec in enumerate(made.findings):
            rows.append(self.finding(stage_id, i, spec, status == "passed"))
            self.ids.finding += 1
        row = {
            "id": stage_id, "run_id": run_id, "position": position, "name": name, "kind": kind,
            "status": status, "duration_s": 0.0 if cached else round(made.duration_s, 3),
            "cached": cached, "summary": made.summary, "metrics": made.metrics,
            "tool_version": tool, "log": made.log, "cache_key": _hex(rng, 64),
        }
        failure = None
        if status in ("failed", "error"):
            culprit = self.commit_before(commit.at - timedelta(hours=rng.uniform(0, 96)))
            failure = Failure(name, kind, tuple(rows), culprit if status == "failed" else None,
                              flaky=name == "tests" and rng.random() < 0.2,
                              error=status == "error")
        return row, rows, failure

    def finding(self, stage_id: int, position: int, spec: FindingSpec,
                passed: bool) -> dict[str, Any]:
        """A finding row (SARIF-shaped, as convert.finding_to_row writes it)."""
        rng = self.rng
        line = spec.line or rng.randint(5, 400)
        return {
            "id": self.ids.finding, "stage_id": stage_id, "position": position,
            "rule_id": spec.rule, "level": spec.level, "message": spec.message,
            "tool": spec.tool, "path": spec.path, "line": line,
            "column": rng.randint(1, 40) if spec.tool in ("ruff", "bandit") else None,
            "end_line": line + rng.randint(0, 3) if spec.tool == "checkov" else None,
            "cwe": spec.cwe, "fingerprint": spec.fingerprint or _fp(spec.rule, spec.path, line),
            "fix_hint": spec.fix_hint, "help_uri": spec.help_uri,
            "snippet": spec.snippet or snippet(line, spec.code or rng.choice(CODE), rng),
            "baselined": passed and spec.level != "note" and rng.random() < 0.5,
        }

    # -- diagnose and fix --------------------------------------------------------------------

    def heal(self, run_id: str, finished: datetime, failures: Sequence[Failure],
             actor: str) -> None:
        """`suture why` on the failed run, then (sometimes) `suture fix`."""
        rng = self.rng
        at = finished + timedelta(seconds=rng.uniform(20, 600))
        diagnoses = [self.diagnosis(f) for f in failures]
        calls: list[LLMCall] = []
        for position, d in enumerate(diagnoses):
            self.writer.add("diagnoses", {
                "id": self.ids.diagnosis, "run_id": run_id, "position": position,
                "stage": d.stage, "category": d.category.value, "engine": d.engine,
                "created_at": at, "payload": d.model_dump(mode="json")})
            self.ids.diagnosis += 1
            if d.engine == "llm":
                calls += [self.llm_call(at, attempt) for attempt in range(1, rng.randint(2, 3))]
        items: list[tuple[str, str, dict[str, Any]]] = [
            ("diagnosis.recorded", f"{run_id}/{d.stage}", {
                "category": d.category.value, "escalated": d.escalated, "engine": d.engine,
                "culprit_commit": d.culprit_commit, "confidence": d.confidence,
                "whys": len(d.chain), "digest": _digest(d.model_dump(mode="json"))})
            for d in diagnoses]
        items += self.record_calls(run_id, calls)
        self.trail.group(at + timedelta(seconds=1), actor, items, checkpoint=True)
        if rng.random() < 0.55:
            self.fix(run_id, at + timedelta(seconds=rng.uniform(60, 1800)), diagnoses, actor)

    def record_calls(self, run_id: str, calls: Sequence[LLMCall]
                     ) -> list[tuple[str, str, dict[str, Any]]]:
        """Rows for LLM calls, and the llm.call events that go with them."""
        items = []
        for c in calls:
            self.writer.add("llm_calls", {
                "id": self.ids.llm, "run_id": run_id, "provider": c.provider, "model": c.model,
                "outcome": c.outcome.value, "started_at": c.started_at,
                "payload": c.model_dump(mode="json")})
            self.ids.llm += 1
            items.append(("llm.call", run_id, {
                "provider": c.provider, "model": c.model, "prompt_digest": c.prompt_digest,
                "input_tokens": c.input_tokens, "output_tokens": c.output_tokens,
                "cost_usd": c.cost_usd, "latency_s": c.latency_s, "outcome": c.outcome.value,
                "attempt": c.attempt}))
        return items

    def llm_call(self, at: datetime, attempt: int) -> LLMCall:
        """One provider request of an LLM-assisted diagnosis or patch."""
        rng = self.rng
        provider, model = rng.choice((("anthropic", "claude-sonnet-4-5"),
                                      ("openai-compatible", "llama-3.3-70b-instruct")))
        outcome = CallOutcome.OK if rng.random() < 0.9 else rng.choice(
            (CallOutcome.INVALID_OUTPUT, CallOutcome.RATE_LIMITED, CallOutcome.UNAVAILABLE))
        tokens_in, tokens_out = rng.randint(1500, 9000), rng.randint(150, 1200)
        return LLMCall(
            provider=provider, model=model, prompt_digest=_hex(rng, 64),
            input_tokens=tokens_in, output_tokens=tokens_out,
            cost_usd=round(tokens_in * 3e-6 + tokens_out * 15e-6, 6),
            latency_s=round(rng.uniform(1.5, 25.0), 3), outcome=outcome, started_at=at,
            attempt=attempt,
            detail="" if outcome is CallOutcome.OK else f"{outcome.value} on attempt {attempt}")

    def diagnosis(self, f: Failure) -> Diagnosis:
        """A 5-whys chain for one failed stage, shaped like suture.heal's."""
        rng = self.rng
        engine = "llm" if rng.random() < 0.2 else "offline"
        if f.error:
            return Diagnosis(
                stage=f.stage, category=Category.ENVIRONMENT, escalated=True, engine=engine,
                root_cause=f"the {f.stage} tool could not run on the CI runner",
                confidence=0.6,
                chain=(Why(question=f"Why did the {f.stage} gate end in an error?",
                           answer="the tool exited with code 2 before reporting",
                           evidence=(Evidence(kind=EvidenceKind.LOG,
                                              text="RuntimeError: could not reach the advisory "
                                              "database"),)),),
                remedies=("re-run the gate; check the runner's network and tool install",))
        top = f.findings[0]
        ev_finding = Evidence(kind=EvidenceKind.FINDING,
                              text=f"{top['rule_id']} {top['path']}:{top['line']} "
                              f"{top['message']}", path=top["path"], line=top["line"],
                              ref=top["fingerprint"])
        ev_code = Evidence(kind=EvidenceKind.CODE, text=top["snippet"] or "", path=top["path"],
                           line=top["line"])
        culprit = f.culprit
        rules = ", ".join(sorted({r["rule_id"] for r in f.findings}))
        first = Why(question=f"Why did the {f.stage} gate fail?",
                    answer=f"{len(f.findings)} new finding(s) at error level: {rules}",
                    evidence=tuple(Evidence(kind=EvidenceKind.FINDING,
                                            text=f"{r['rule_id']} {r['path']}:{r['line']} "
                                            f"{r['message']}", path=r["path"], line=r["line"],
                                            ref=r["fingerprint"]) for r in f.findings[:5]))
        second = Why(question=f"Why is {top['rule_id']} reported at {top['path']}:{top['line']}?",
                     answer=top["message"], evidence=(ev_finding, ev_code))
        if f.kind == "tests":
            test_id = top["fingerprint"].removeprefix("test:")
            runs = f"failed {1 if f.flaky else 3} of 3 isolated runs"
            third = Why(question="Is the failure deterministic, or is a test flaky?",
                        answer=f"{test_id}: {runs}",
                        evidence=(Evidence(kind=EvidenceKind.TEST, text=runs, ref=test_id),))
            if f.flaky:
                return Diagnosis(
                    stage=f.stage, category=Category.FLAKY_TEST, engine=engine,
                    root_cause=f"{test_id} is flaky: it passed 2 of 3 isolated runs",
                    chain=(first, second, third), confidence=0.8, test_executions=3,
                    remedies=("quarantine the test and file an issue",))
            assert culprit is not None
            found = rng.randint(2, 40)
            fourth = Why(question="Which change made it fail?",
                         answer=f"bisecting {found} commit(s) found {culprit.sha[:10]} "
                         f'"{culprit.message}" by {culprit.author} in '
                         f"{rng.randint(3, 8)} test executions",
                         evidence=(Evidence(kind=EvidenceKind.COMMIT,
                                            text=f"{culprit.sha[:10]} {culprit.message}",
                                            commit=culprit.sha),))
            return Diagnosis(
                stage=f.stage, category=Category.REGRESSION, culprit_commit=culprit.sha,
                root_cause=f'commit {culprit.sha[:10]} "{culprit.message}" changed the code '
                f"under test and broke {test_id}", chain=(first, second, third, fourth),
                confidence=0.9, engine=engine, test_executions=rng.randint(5, 12),
                remedies=(f"revert the hunk of {culprit.sha[:10]} that broke the test",))
        category = {"lint": Category.LINT, "deps": Category.VULNERABLE_DEPENDENCY,
                    "iac": Category.CONFIG_ERROR, "command": Category.UNKNOWN}.get(
                        f.kind, Category.INSECURE_CODE)
        chain = [first, second]
        if culprit is not None:
            chain.append(Why(
                question=f"Which change introduced it at {top['path']}:{top['line']}?",
                answer=f"it was last changed by {culprit.sha[:10]} {culprit.message} "
                f"({culprit.author})",
                evidence=(Evidence(kind=EvidenceKind.COMMIT,
                                   text=f"{culprit.sha[:10]} {culprit.message}",
                                   path=top["path"], line=top["line"], commit=culprit.sha),)))
        return Diagnosis(
            stage=f.stage, category=category, engine=engine,
            culprit_commit=culprit.sha if culprit else None,
            root_cause=f"{top['rule_id']} at {top['path']}:{top['line']}: {top['message']}",
            chain=tuple(chain), confidence=0.95, escalated=category is Category.UNKNOWN,
            remedies=tuple(r["fix_hint"] for r in f.findings[:3] if r["fix_hint"]))

    def fix(self, run_id: str, at: datetime, diagnoses: Sequence[Diagnosis], actor: str) -> None:
        """`suture fix`: a candidate per failed gate, verified, accepted or rolled back."""
        rng = self.rng
        branch = f"suture/fix/{run_id[:12]}"
        attempts: list[FixAttempt] = []
        for d in diagnoses:
            remedy = {Category.REGRESSION: "culprit-revert", Category.LINT: "ruff-fix",
                      Category.INSECURE_CODE: "security-codemod",
                      Category.VULNERABLE_DEPENDENCY: "dependency-bump",
                      Category.FLAKY_TEST: "flaky-quarantine"}.get(d.category)
            if remedy is None or d.stage in ("secrets", "phi"):
                attempts.append(FixAttempt(
                    stage=d.stage, remedy="-", status=AttemptStatus.ESCALATED,
                    reason=f"{d.category.value}: {d.root_cause}; no remedy applies"))
                continue
            if rng.random() < 0.25:  # a first candidate that a check refused, then another
                attempts.append(self.attempt(d, "llm-patch", ok=False))
            attempts.append(self.attempt(d, remedy, ok=rng.random() < 0.8))
        calls = [self.llm_call(at, 1) for a in attempts if a.remedy == "llm-patch"]
        items: list[tuple[str, str, dict[str, Any]]] = []
        for a in attempts:
            self.writer.add("fix_attempts", {
                "id": self.ids.fix, "run_id": run_id, "stage": a.stage, "remedy": a.remedy,
                "status": a.status.value, "branch": branch if a.commit else None,
                "commit": a.commit, "created_at": at, "payload": a.model_dump(mode="json")})
            self.ids.fix += 1
            items.append(("fix.attempt", f"{run_id}/{a.stage}", {
                "remedy": a.remedy, "status": a.status.value, "reason": a.reason[:500],
                "files": list(a.files), "diff_digest": _digest(a.diff),
                "checks": {c.name: c.passed for c in a.checks}, "duration_s": a.duration_s,
                "input_tokens": a.input_tokens, "output_tokens": a.output_tokens}))
            if a.status is AttemptStatus.ACCEPTED and a.commit:
                items.append(("fix.commit", a.commit, {
                    "run_id": run_id, "branch": branch, "stage": a.stage, "remedy": a.remedy,
                    "summary": a.summary}))
        items += self.record_calls(run_id, calls)
        self.trail.group(at, actor, items, checkpoint=True)

    def attempt(self, d: Diagnosis, remedy: str, ok: bool) -> FixAttempt:
        """One verified candidate: its diff, the checks it went through, accepted or not."""
        rng = self.rng
        path = rng.choice(MODULES)
        line = rng.randint(5, 300)
        old, new = rng.choice(CODE[10:]), rng.choice(CODE[:10])
        diff = (f"diff --git a/{path} b/{path}\nindex {_hex(rng, 7)}..{_hex(rng, 7)} 100644\n"
                f"--- a/{path}\n+++ b/{path}\n@@ -{line},7 +{line},7 @@\n"
                f" {rng.choice(CODE)}\n {rng.choice(CODE)}\n-{old}\n+{new}\n {rng.choice(CODE)}\n")
        gate_check = f"{d.stage} passes"
        names = ["safe paths", "applies", "tests not weakened", gate_check, "other gates as green"]
        failed_at = len(names) if ok else rng.randint(1, len(names) - 1)
        checks = tuple(Check(name=n, passed=i < failed_at,
                             detail="" if i != failed_at else f"{d.stage} still fails")
                       for i, n in enumerate(names[:failed_at + 1]))
        llm = remedy == "llm-patch"
        return FixAttempt(
            stage=d.stage, remedy=remedy,
            status=AttemptStatus.ACCEPTED if ok else AttemptStatus.REJECTED,
            reason=("verified: " + ", ".join(names)) if ok else
            f"rejected: {names[failed_at]} failed ({d.stage} still fails)",
            summary=f"{remedy} in {path}:{line}", commit=_hex(rng, 40) if ok else None,
            files=(path,), diff=diff, checks=checks, duration_s=round(rng.uniform(0.5, 40), 3),
            input_tokens=rng.randint(2000, 9000) if llm else 0,
            output_tokens=rng.randint(200, 1500) if llm else 0)


@dataclass(frozen=True)
class FindingSpec:
    """What a gate reports about one problem, before it gets ids and a code snippet."""

    rule: str
    level: str
    message: str
    tool: str
    path: str
    cwe: str | None = None
    fix_hint: str | None = None
    help_uri: str | None = None
    line: int | None = None
    fingerprint: str = ""
    snippet: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class StageText:
    """A stage's summary, metrics, duration, log and findings, as its gate reports them."""

    summary: str
    metrics: dict[str, float]
    duration_s: float
    log: str
    findings: list[FindingSpec]


def _tests(rng: random.Random, status: str, share: float) -> StageText:
    n = int(420 + 580 * share) + rng.randint(-3, 3)
    cov = round(86.0 + 4.0 * share + rng.uniform(-0.8, 0.8), 2)
    dots = "\n".join("." * 72 + f" [{min(100, (i + 1) * 7):3d}%]" for i in range(n // 72))
    if status != "failed":
        return StageText(f"{n} passed, 0 failed; coverage {cov:.1f}%",
                         {"tests": float(n), "failed": 0.0, "skipped": 0.0, "coverage": cov},
                         rng.uniform(300, 700) + 700 * share, dots, [])
    specs = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        module = rng.choice(MODULES)
        stem = module.rsplit("/", 1)[1].removesuffix(".py")
        verb = rng.choice(("search", "create", "paging", "auth", "export", "validate"))
        test_id = f"tests/test_{stem}.py::test_{verb}_{rng.randint(1, 40)}"
        line = rng.randint(10, 300)
        got, want = rng.randint(0, 50), rng.randint(0, 50)
        specs.append(FindingSpec(
            "tests/failed", "error", f"{test_id} failed: assert {got} == {want}", "pytest",
            f"tests/test_{stem}.py", line=line, fingerprint=f"test:{test_id}",
            fix_hint=f"run it alone: pytest {test_id}", code=f"    assert result == {want}"))
    k = len(specs)
    failures = "\n".join(f"FAILED {s.fingerprint[5:]} - {s.message.split(': ', 1)[1]}"
                         for s in specs)
    rule = "=" * 35
    log = (f"{dots}\n{rule} FAILURES {rule}\n"
           + "\n".join(f"____ {s.fingerprint[5:]} ____\n{s.path}:{s.line}: in test\n"
                       f"    assert result == 4\nE   {s.message.split(': ', 1)[1]}"
                       for s in specs)
           + f"\n=========================== short test summary info ============================\n"
           f"{failures}\n{k} failed, {n - k} passed in {rng.uniform(300, 1400):.2f}s\n")
    return StageText(f"{n - k} passed, {k} failed; coverage {cov:.1f}%",
                     {"tests": float(n), "failed": float(k), "skipped": 0.0, "coverage": cov},
                     rng.uniform(300, 700) + 700 * share, log, specs)


_LINT = (("F401", "`os` imported but unused", "Remove unused import: `os`"),
         ("I001", "Import block is un-sorted or un-formatted", "Organize imports"),
         ("E501", "Line too long (108 > 100)", None),
         ("F841", "Local variable `result` is assigned to but never used",
          "Remove assignment to unused variable `result`"),
         ("B006", "Do not use mutable data structures for argument defaults",
          "Replace with `None`; initialize within function"),
         ("SIM115", "Use a context manager for opening files", None))


def _lint(rng: random.Random, status: str, share: float) -> StageText:
    if status != "failed":
        return StageText("no lint problems", {"problems": 0.0}, rng.uniform(0.1, 0.8), "", [])
    specs = []
    for rule, message, hint in rng.sample(_LINT, rng.randint(1, 4)):
        specs.append(FindingSpec(rule, "error", message, "ruff", rng.choice(MODULES),
                                 fix_hint=hint,
                                 help_uri=f"https://docs.astral.sh/ruff/rules/{rule.lower()}"))
    log = "\n".join(f"{s.path}:{rng.randint(1, 300)}:1: {s.rule} {s.message}" for s in specs)
    n = len(specs)
    return StageText(f"{n} lint problem{'s' * (n != 1)}", {"problems": float(n)},
                     rng.uniform(0.1, 0.8), log, specs)


_BANDIT = (("B506", "CWE-20", "Use of unsafe yaml load. Allows instantiation of arbitrary objects."
            " Consider yaml.safe_load(). (severity medium, confidence high)", CODE[10]),
           ("B113", "CWE-400", "Call to requests without timeout (severity medium, confidence "
            "low)", CODE[11]),
           ("B324", "CWE-327", "Use of weak MD5 hash for security. Consider usedforsecurity="
            "False (severity high, confidence high)", CODE[12]),
           ("B608", "CWE-89", "Possible SQL injection vector through string-based query "
            "construction. (severity medium, confidence low)", CODE[4]),
           ("B602", "CWE-78", "subprocess call with shell=True identified, security issue. "
            "(severity high, confidence high)", CODE[5]))


def _sast(rng: random.Random, status: str, share: float) -> StageText:
    files = float(60 + int(40 * share))
    picks = rng.sample(_BANDIT, rng.randint(1, 3)) if status == "failed" else (
        rng.sample(_BANDIT, rng.randint(1, 2)) if rng.random() < 0.25 else [])
    specs = []
    for rule, cwe, message, code in picks:
        uri = f"https://bandit.readthedocs.io/en/1.9.4/plugins/{rule.lower()}.html"
        specs.append(FindingSpec(rule, "error" if status == "failed" else "warning", message,
                                 "bandit", rng.choice(MODULES), cwe=cwe,
                                 fix_hint=f"see {uri}; if this is a false positive, mark the "
                                 f"line `# nosec {rule}` with a reason", help_uri=uri, code=code))
    n = len(specs)
    return StageText(f"{n} security issue{'s' * (n != 1)} in {int(files)} files",
                     {"issues": float(n), "files": files}, rng.uniform(0.5, 4.0),
                     "[main]\tINFO\tprofile include tests: None\n[main]\tINFO\trunning on "
                     "Python 3.11\n", specs)


def _secrets(rng: random.Random, status: str, share: float) -> StageText:
    files = 300 + int(200 * share)
    if status != "failed":
        return StageText(f"no secrets in {files} file(s)",
                         {"files_scanned": float(files), "secrets": 0.0}, rng.uniform(5, 30),
                         f"detect-secrets-hook scanned {files} file(s); 0 new possible "
                         "secret(s)", [])
    kind = rng.choice(("Secret Keyword", "AWS Access Key", "Base64 High Entropy String"))
    path = rng.choice(("app/settings.py", "infra/main.tf", "docker-compose.yml"))
    spec = FindingSpec(f"secrets/{kind.lower().replace(' ', '-')}", "error",
                       f"Possible {kind} committed", "detect-secrets", path, cwe="CWE-798",
                       fix_hint="remove it, rotate the secret, and read it from the "
                       "environment", snippet=f"[line hidden: it may hold a {kind}]")
    return StageText(f"1 possible secret in {files} file(s)",
                     {"files_scanned": float(files), "secrets": 1.0}, rng.uniform(5, 30),
                     f"detect-secrets-hook scanned {files} file(s); 1 new possible secret(s)",
                     [spec])


def _deps(rng: random.Random, status: str, share: float) -> StageText:
    pins = 40 + int(20 * share)
    if status != "failed":
        return StageText(f"{pins} pins checked against the OSV API: 0 vulnerable",
                         {"pins": float(pins), "vulnerable": 0.0, "advisories": 0.0,
                          "unpinned": 0.0}, rng.uniform(0.5, 3.0),
                         "pins read from requirements.txt\n", [])
    pkg, ver, adv, fixed = rng.choice((
        ("jinja2", "3.1.3", "GHSA-h75v-3vvj-5mfj", "3.1.4"),
        ("requests", "2.31.0", "GHSA-9wx4-h78v-vm56", "2.32.0"),
        ("cryptography", "42.0.2", "GHSA-6vqw-3v5j-54x4", "42.0.4"),
        ("urllib3", "2.2.1", "GHSA-34jh-p97f-mpxf", "2.2.2")))
    spec = FindingSpec(adv, "error", f"{pkg} {ver} is vulnerable to {adv}; fixed in {fixed}",
                       "osv", "requirements.txt", line=rng.randint(1, pins),
                       fix_hint=f"upgrade {pkg} to {fixed}",
                       help_uri=f"https://osv.dev/vulnerability/{adv}")
    return StageText(f"{pins} pins checked against the OSV API: 1 vulnerable (1 advisory)",
                     {"pins": float(pins), "vulnerable": 1.0, "advisories": 1.0,
                      "unpinned": 0.0}, rng.uniform(0.5, 3.0),
                     f"advisories from the OSV API\nrequirements.txt:{spec.line}: {spec.message}\n",
                     [spec])


def _iac(rng: random.Random, status: str, share: float) -> StageText:
    specs = []
    if status == "failed":
        check, name, resource = rng.choice((
            ("CKV_AWS_18", "Ensure the S3 bucket has access logging enabled",
             "aws_s3_bucket.exports"),
            ("CKV_DOCKER_3", "Ensure that a user for the container has been created",
             "Dockerfile"),
            ("CKV_AWS_16", "Ensure all data stored in the RDS is securely encrypted at rest",
             "aws_db_instance.fhir")))
        specs.append(FindingSpec(check, "error", f"{name} (resource {resource})", "checkov",
                                 "infra/main.tf" if resource != "Dockerfile" else "Dockerfile",
                                 fix_hint=f'fix {resource} (checkov: "{name}"); if the risk is '
                                 f"accepted, record why with #checkov:skip={check}"))
    n = len(specs)
    summary = (f"{n} failed check(s) in 2 infrastructure file(s)" if n
               else "no failed checks in 2 infrastructure file(s)")
    return StageText(summary, {"iac_files": 2.0, "failed_checks": float(n),
                               "skipped_checks": 1.0, "parsing_errors": 0.0},
                     rng.uniform(2.0, 9.0), f"command: checkov --output json --compact "
                     f"--framework terraform dockerfile\nreturn code: {int(bool(n))}\n{summary}",
                     specs)


def _phi(rng: random.Random, status: str, share: float) -> StageText:
    files = 300 + int(200 * share)
    if status != "failed":
        return StageText(f"no PHI in {files} file(s)",
                         {"files_scanned": float(files), "bytes_scanned": float(files * 4800),
                          "phi": 0.0, "binary_skipped": 0.0, "oversized_skipped": 0.0},
                         rng.uniform(1.0, 4.0), f"suture-phi scanned {files} file(s)\n"
                         "findings by rule: none", [])
    kind = rng.choice(("mrn", "ssn", "dob", "phone"))
    path = rng.choice(("tests/fixtures/patients.json", "docs/examples.md", "app/seed.py"))
    spec = FindingSpec(f"phi/{kind}", "error", f"{kind.upper()} ***-**-*** committed",
                       "suture-phi", path, cwe="CWE-359",
                       fix_hint="replace it with synthetic data, or allowlist the path with a "
                       "reason", snippet=f"> {rng.randint(1, 90)} | [masked: {kind}]")
    return StageText("1 possible PHI identifier(s) in 1 file(s)",
                     {"files_scanned": float(files), "bytes_scanned": float(files * 4800),
                      "phi": 1.0, "binary_skipped": 0.0, "oversized_skipped": 0.0},
                     rng.uniform(1.0, 4.0), f"suture-phi scanned {files} file(s)\n"
                     f"findings by rule: phi/{kind} 1", [spec])


def _typecheck(rng: random.Random, status: str, share: float) -> StageText:
    if status == "skipped":
        return StageText("skipped: lint failed", {}, 0.0, "", [])
    if status != "failed":
        return StageText("exit code 0", {"exit_code": 0.0}, rng.uniform(2, 20),
                         "Success: no issues found in 64 source files\n", [])
    path = rng.choice(MODULES)
    spec = FindingSpec("command/exit-code", "error", "mypy app exited with code 1", "typecheck",
                       path, fix_hint="run `mypy app` and fix what it reports")
    return StageText("exit code 1", {"exit_code": 1.0}, rng.uniform(2, 20),
                     f"{path}:42: error: Incompatible return value type (got \"str | None\", "
                     "expected \"str\")  [return-value]\nFound 1 error in 1 file (checked 64 "
                     "source files)\n", [spec])


_STAGES: dict[str, Callable[[random.Random, str, float], StageText]] = {
    "tests": _tests, "lint": _lint, "sast": _sast, "secrets": _secrets, "deps": _deps,
    "iac": _iac, "phi": _phi, "typecheck": _typecheck,
}


# -- releases ------------------------------------------------------------------------------------


class ReleaseMaker:
    """Releases of `suture deploy` with their steps, approvals, deploy events and audit events."""

    def __init__(self, rng: random.Random, runs: RunMaker, writer: BulkWriter,
                 trail: AuditTrail, ids: Ids) -> None:
        self.rng, self.runs, self.writer, self.trail, self.ids = rng, runs, writer, trail, ids
        self.stable: dict[str, str | None] = {name: None for name, _ in ENVIRONMENTS}
        self.last_failure: dict[str, datetime | None] = {name: None for name, _ in ENVIRONMENTS}
        self.deployer = f"deploy-bot <deploy@{DOMAIN}>"

    def make(self, started: datetime, env: str, pending: bool = False) -> None:
        """One release started at `started` in `env`; `pending` leaves it awaiting approval."""
        rng = self.rng
        runs = self.runs
        i = bisect.bisect_right(runs.passed, (started,)) - 1
        run_ref: str | None = None
        if i >= 0 and rng.random() < 0.9:  # most releases ship a commit that passed its run
            _at, run_ref, sha = runs.passed[max(0, i - rng.randint(0, 3))]
            commit = runs.by_sha[sha]
        else:
            commit = runs.commit_before(started - timedelta(hours=rng.uniform(0.5, 48)))
        commit_sha, author = commit.sha, commit.author
        risk = self.risk(env, started, run_ref)
        strategy = {RiskLevel.LOW: Strategy.ROLLING, RiskLevel.MEDIUM: Strategy.CANARY,
                    RiskLevel.HIGH: Strategy.BLUE_GREEN}[risk.level]
        needs_approval = pending or risk.level is RiskLevel.HIGH or (
            env == "production" and risk.level is RiskLevel.MEDIUM)
        actor = self.deployer if rng.random() < 0.6 else author
        release_id = _hex(rng, 32)
        base = Release(id=release_id, env=env, commit=commit_sha, strategy=strategy,
                       status=ReleaseStatus.AWAITING_APPROVAL if needs_approval
                       else ReleaseStatus.RUNNING, risk=risk, started_at=started,
                       author=author, actor=actor, run_id=run_ref,
                       stable_commit=self.stable[env])
        events: list[tuple[str, datetime, dict[str, Any]]] = [("started", started, {
            "strategy": strategy.value, "risk": risk.model_dump(mode="json"),
            "stable": base.stable_commit})]
        audit: list[tuple[datetime, str, str, str, dict[str, Any]]] = [(
            started + timedelta(milliseconds=20), actor, "deploy.step", f"release/{release_id}",
            {"env": env, "event": "started", "commit": commit_sha, "strategy": strategy.value,
             "risk_score": risk.score, "risk_level": risk.level.value,
             "status": base.status.value})]
        release, now = base, started
        if pending:
            self.save(release, events, audit, approvals=[])
            return
        approvals: list[tuple[str, str, str, datetime]] = []
        roll = rng.random()
        if needs_approval:
            now += timedelta(minutes=rng.uniform(2, 240))
            approver = person(rng.choice([h for h in HANDLES if person(h) != author]))
            if roll < 0.03:  # cancelled while it waited
                release = release.model_copy(update={
                    "status": ReleaseStatus.FAILED, "ended_at": now,
                    "error": "cancelled by `suture rollback`"})
                events.append(("cancelled", now, {"reason": release.error}))
                audit.append((now, actor, "deploy.step", f"release/{release_id}",
                               {"env": env, "event": "cancelled", "reason": release.error}))
                self.save(release, events, audit, approvals)
                return
            if roll < 0.06:
                comment = "not during the clinic's peak hours"
                approvals.append((approver, "rejected", comment, now))
                reason = f"release {release_id[:12]} was rejected by {approver}: {comment}"
                release = release.model_copy(update={"status": ReleaseStatus.FAILED,
                                                     "ended_at": now, "error": reason})
                events.append(("failed", now, {"reason": reason}))
                audit.append((now, approver, "approval.denied", f"release/{release_id}", {
                    "env": env, "commit": commit_sha, "author": author, "comment": comment}))
                self.save(release, events, audit, approvals)
                return
            approvals.append((approver, "approved", "", now))
            release = release.model_copy(update={"status": ReleaseStatus.RUNNING,
                                                 "approved_by": approver, "approved_at": now})
            events.append(("approved", now, {"approver": approver}))
            audit.append((now, approver, "approval.granted", f"release/{release_id}", {
                "env": env, "commit": commit_sha, "author": author, "comment": ""}))
        now += timedelta(seconds=rng.uniform(5, 40))
        weights = {Strategy.CANARY: [5, 25, 50, 100], Strategy.ROLLING: [50, 100],
                   Strategy.BLUE_GREEN: [0, 100]}[strategy]
        outcome = rng.random()
        if outcome < 0.04:  # the new version never became healthy: no traffic moved
            error = (f"app instance {commit_sha[:12]}-1 did not become healthy within 60s "
                     "(hint: the tail of its log is in .suture/deploy)")
            release = release.model_copy(update={"status": ReleaseStatus.FAILED,
                                                 "ended_at": now, "error": error})
            events.append(("failed", now, {"reason": error}))
            self.save(release, events, audit, approvals)
            return
        bad_step = rng.randrange(len(weights)) if outcome < 0.13 else None
        steps: list[Step] = []
        for index, weight in enumerate(weights):
            begun = now
            now += timedelta(seconds=rng.uniform(30, 240))
            if index == bad_step and weight > 0:
                metrics = judge_metrics(rng, weight, bad=True)
                step = Step(index=index, weight=weight, verdict=Verdict.ROLLBACK,
                            reason=f"canary error rate {metrics['canary_error_rate']:.1%} vs "
                            f"{metrics['baseline_error_rate']:.1%} on stable (p<0.001, "
                            f"{metrics['canary_requests']} requests)",
                            requests=int(metrics["canary_requests"] or 0), metrics=metrics,
                            started_at=begun, ended_at=now)
            elif weight in (0, 100) and (weight == 0 or strategy is Strategy.CANARY):
                n = rng.randint(40, 600)
                step = Step(index=index, weight=weight, verdict=Verdict.PROMOTE,
                            reason="healthy", requests=n, metrics={"requests": n},
                            started_at=begun, ended_at=now)
            else:
                metrics = judge_metrics(rng, weight, bad=False)
                step = Step(index=index, weight=weight, verdict=Verdict.PROMOTE,
                            reason=f"error rate {metrics['canary_error_rate']:.1%} vs "
                            f"{metrics['baseline_error_rate']:.1%}, median "
                            f"{float(metrics['canary_p50_s'] or 0) * 1000:.0f} ms vs "
                            f"{float(metrics['baseline_p50_s'] or 0) * 1000:.0f} ms",
                            requests=int(metrics["canary_requests"] or 0), metrics=metrics,
                            started_at=begun, ended_at=now)
            steps.append(step)
            events.append(("step", now, step.model_dump(mode="json")))
            audit.append((now + timedelta(milliseconds=5), self.deployer, "judge.verdict",
                          f"release/{release_id}/{index}", {
                              "env": env, "weight": weight, "verdict": step.verdict,
                              "reason": step.reason, "requests": step.requests,
                              "metrics": step.metrics}))
            if step.verdict is Verdict.ROLLBACK:
                break
        release = release.model_copy(update={"steps": tuple(steps)})
        if steps[-1].verdict is Verdict.ROLLBACK:
            mttr = round(rng.lognormvariate(3.3, 0.8), 6)  # median ~27 s, a long tail
            restored = now + timedelta(seconds=0.02)
            first_bad = restored - timedelta(seconds=mttr)
            reason = steps[-1].reason
            release = release.model_copy(update={
                "status": ReleaseStatus.ROLLED_BACK, "ended_at": restored, "error": reason,
                "first_bad_at": first_bad, "decided_at": now, "restored_at": restored,
                "mttr_s": mttr})
            events.append(("rolled_back", restored, {
                "reason": reason, "first_bad_at": first_bad.isoformat(),
                "restored_at": restored.isoformat(), "mttr_s": mttr}))
            audit.append((restored + timedelta(milliseconds=10), self.deployer, "rollback",
                          f"release/{release_id}", {
                              "env": env, "commit": commit_sha, "status": "rolled_back",
                              "reason": reason, "mttr_s": mttr, "stable": self.stable[env]}))
            self.last_failure[env] = restored
        else:
            ended = now + timedelta(seconds=0.03)
            release = release.model_copy(update={"status": ReleaseStatus.PROMOTED,
                                                 "ended_at": ended})
            events.append(("promoted", ended, {"commit": commit_sha}))
            audit.append((ended + timedelta(milliseconds=8), self.deployer, "deploy.step",
                          f"release/{release_id}", {"env": env, "event": "promoted",
                                                    "commit": commit_sha,
                                                    "strategy": strategy.value}))
            self.stable[env] = commit_sha
        self.save(release, events, audit, approvals)

    def risk(self, env: str, at: datetime, run_id: str | None) -> Risk:
        """A risk score with the reasons suture.deploy.risk gives."""
        rng = self.rng
        stable = self.stable[env]
        reasons = [RiskReason(factor="basis", points=0.0,
                              detail=f"change measured against the stable commit {stable[:12]}"
                              if stable else "first deploy to this environment: measured this "
                              "commit against the whole tree (root commit)")]
        lines, files = int(rng.lognormvariate(5.0, 1.2)), rng.randint(1, 45)
        size = next((p for cut, p in ((1000, 20.0), (500, 15.0), (200, 10.0), (50, 5.0))
                     if lines >= cut), 0.0)
        size = max(size, next((p for cut, p in ((40, 20.0), (15, 10.0), (5, 5.0))
                               if files >= cut), 0.0))
        if size:
            reasons.append(RiskReason(factor="size", points=size,
                                      detail=f"{lines} lines in {files} files changed"))
        if files >= 5:
            reasons.append(RiskReason(factor="spread", points=4.0,
                                      detail=f"the change spans {files // 4 + 1} folders"))
        if rng.random() < 0.4:
            kind, points, path = rng.choice((("migrations", 15.0, "migrations/0007_index.py"),
                                             ("auth", 12.0, "app/auth.py"),
                                             ("infra", 8.0, "infra/main.tf")))
            note = (" (switching traffic back does not undo a schema change)"
                    if kind == "migrations" else "")
            reasons.append(RiskReason(factor="sensitive", points=points,
                                      detail=f"{kind}: {path}{note}"))
        past = min(4, int(rng.expovariate(0.9)))
        if past:
            reasons.append(RiskReason(factor="history", points=min(20.0, 5.0 * past),
                                      detail=f"{past} of the last 50 runs failed on files this "
                                      "change touches"))
        failed_at = self.last_failure[env]
        if failed_at is not None:
            hours = (at - failed_at).total_seconds() / 3600
            pts = next((p for within, p in ((24.0, 15.0), (72.0, 8.0), (168.0, 4.0))
                        if hours <= within), 0.0)
            if pts:
                reasons.append(RiskReason(factor="deploy-history", points=pts,
                                          detail=f"a release of {env} failed {hours:.0f}h ago"))
        if run_id is None:
            reasons.append(RiskReason(factor="run", points=25.0,
                                      detail="no suture run for this commit: no gate has "
                                      "checked it"))
        else:
            reasons.append(RiskReason(factor="run", points=0.0,
                                      detail=f"run {run_id[:12]} passed"))
            coverage = rng.uniform(86.0, 91.0)
            if coverage < 90.0:
                reasons.append(RiskReason(factor="coverage", points=3.0,
                                          detail=f"test coverage {coverage:.1f}%"))
        score = min(100.0, sum(r.points for r in reasons))
        level = RiskLevel.LOW if score < 30 else RiskLevel.MEDIUM if score < 60 \
            else RiskLevel.HIGH
        return Risk(score=score, level=level, reasons=tuple(reasons))

    def save(self, release: Release, events: Sequence[tuple[str, datetime, dict[str, Any]]],
             audit: Sequence[tuple[datetime, str, str, str, dict[str, Any]]],
             approvals: Sequence[tuple[str, str, str, datetime]]) -> None:
        """Rows as ReleaseStore writes them (`_row`, add_event, add_approval), plus audit."""
        r = release
        self.writer.add("releases", {
            "id": r.id, "env": r.env, "commit": r.commit, "strategy": r.strategy.value,
            "status": r.status.value, "risk_score": r.risk.score,
            "risk_level": r.risk.level.value, "started_at": r.started_at,
            "ended_at": r.ended_at, "mttr_s": r.mttr_s, "author": r.author, "actor": r.actor,
            "run_id": r.run_id, "host": "deploy-1", "pid": self.rng.randint(1000, 60000),
            "payload": r.model_dump(mode="json")})
        for approver, decision, comment, at in approvals:
            self.writer.add("approvals", {"id": self.ids.approval, "release_id": r.id,
                                          "approver": approver, "decision": decision,
                                          "comment": comment, "at": at})
            self.ids.approval += 1
        for kind, at, payload in events:
            self.writer.add("deploy_events", {"id": self.ids.deploy_event, "release_id": r.id,
                                              "env": r.env, "kind": kind, "at": at,
                                              "payload": payload})
            self.ids.deploy_event += 1
        for at, actor, action, subject, payload in audit:
            self.trail.add(at, actor, action, subject, payload)


def judge_metrics(rng: random.Random, weight: int,
                  bad: bool) -> dict[str, float | int | str | None]:
    """The numbers the sequential canary judge reports for one look (see deploy/judge.py)."""
    total = rng.randint(2000, 12000)
    can_n = max(60, total * weight // 100)
    base_n = max(60, total - can_n)
    base_rate = rng.uniform(0, 0.004)
    can_rate = rng.uniform(0.02, 0.12) if bad else max(0.0, base_rate + rng.uniform(-0.002, 0.002))
    b50 = rng.uniform(0.008, 0.04)
    c50 = b50 * (rng.uniform(1.0, 1.6) if bad else rng.uniform(0.9, 1.1))
    error_p = rng.uniform(1e-5, 0.002) if bad else rng.uniform(0.2, 1.0)
    return {
        "canary_requests": can_n, "baseline_requests": base_n,
        "canary_errors": int(can_n * can_rate), "baseline_errors": int(base_n * base_rate),
        "canary_error_rate": can_rate, "baseline_error_rate": base_rate,
        "canary_p50_s": c50, "baseline_p50_s": b50,
        "canary_p95_s": c50 * 2.4, "baseline_p95_s": b50 * 2.3,
        "canary_first_error_at": None, "min_requests": 50, "alpha": 0.01,
        "alpha_per_test": 0.0033333333333333335, "error_rate_margin": 0.005,
        "latency_effect_threshold": 0.2, "latency_min_delta_s": 0.02, "slo_error_rate": 0.05,
        "slo_p95_latency_s": None, "error_log_lr": 7.0 if bad else -1.2, "error_p": error_p,
        "mw_u": float(can_n * base_n // 2), "mw_effect": rng.uniform(-0.05, 0.3),
        "mw_p_fixed": rng.uniform(0.01, 0.9), "latency_log_lr": rng.uniform(-3, 1),
        "latency_p": rng.uniform(0.05, 1.0), "median_delta_s": c50 - b50,
        "slo_error_p": 1.0, "decided_by": "errors" if bad else None,
    }


# -- the whole seed ------------------------------------------------------------------------------


def seed(root: Path, url: str | None = None, spec: SeedSpec | None = None,
         progress: Callable[[str], None] = print) -> SeedReport:
    """Fill the (empty) store of `root` (or `url`) with `spec`'s records; see the module doc."""
    spec = spec or SeedSpec()
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with open_store(root, url) as store:
        if store.list_runs(limit=1):
            raise UsageError(f"the store {store.url} already holds runs",
                             hint="seed an empty store (a fresh --root or database)")
    with AuditLog.open(root, url) as log:
        if log.head()[0]:
            raise UsageError(f"the audit log of {log.url} is not empty",
                             hint="seed an empty store (a fresh --root or database)")
        key = log.signing_key()
    (root / "suture.yml").write_text(SUTURE_YML)
    resolved = resolve_url(root, url)
    engine = bulk_engine(resolved)
    seconds["schema"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rng = random.Random(spec.seed)
    now = spec.now or datetime.now(UTC)
    clock = Clock(rng, now - timedelta(days=spec.days), now - timedelta(minutes=30))
    n_commits = max(50, spec.runs // 4)
    commits = git_history(root, rng, Clock(rng, clock.start - timedelta(days=3),
                                           clock.end).sorted_times(n_commits), spec.git)
    seconds["git"] = time.perf_counter() - t0
    progress(f"  git: {len(commits):,} commits in {seconds['git']:.1f}s")

    t0 = time.perf_counter()
    writer, trail, ids = BulkWriter(engine), AuditTrail(), Ids()
    runs = RunMaker(rng, clock, commits, str(root), writer, trail, ids)
    releases = ReleaseMaker(rng, runs, writer, trail, ids)
    run_times = clock.sorted_times(spec.runs)
    release_times = clock.sorted_times(spec.releases)
    envs = [name for name, _ in ENVIRONMENTS]
    env_weights = [w for _, w in ENVIRONMENTS]
    pending = len(release_times) - 1 if spec.releases >= 10 else -1
    ri = 0
    for n, started in enumerate(run_times, 1):
        # Releases ship what ran before them: interleave both in time order.
        while ri < len(release_times) and release_times[ri] <= started:
            env = "production" if ri == pending else rng.choices(envs, env_weights)[0]
            releases.make(release_times[ri], env, pending=ri == pending)
            ri += 1
        runs.make(started)
        if n % 20_000 == 0:
            progress(f"  runs: {n:,} of {spec.runs:,} ({time.perf_counter() - t0:.0f}s)")
    while ri < len(release_times):
        env = "production" if ri == pending else rng.choices(envs, env_weights)[0]
        releases.make(release_times[ri], env, pending=ri == pending)
        ri += 1
    writer.flush()
    seconds["records"] = time.perf_counter() - t0
    progress(f"  records: {writer.rows['runs']:,} runs, {writer.rows['releases']:,} releases "
             f"in {seconds['records']:.1f}s")

    t0 = time.perf_counter()
    natural = len(trail.events)
    events = fit_events(trail, spec.audit_events, runs, progress)
    write_chain(writer, events, key)
    writer.finish()
    seconds["audit"] = time.perf_counter() - t0
    progress(f"  audit: {len(events):,} events ({natural:,} from the records) in "
             f"{seconds['audit']:.1f}s")
    engine.dispose()
    return SeedReport(mask_url(resolved), dict(writer.rows), seconds, natural)


def fit_events(trail: AuditTrail, target: int, runs: RunMaker,
               progress: Callable[[str], None]) -> list[tuple[float, int, str, str, str, str, str,
                                                              bool]]:
    """The records' events in time order, made exactly `target` long.

    Too many: the oldest are left out, as if the audit log was switched on after the store
    (compliance queries look at recent periods). Too few: more LLM calls are recorded for
    failed runs (rows and `llm.call` events), the heaviest real activity without a fixed count.
    """
    missing = target - len(trail.events)
    if missing > 0 and runs.failed:
        rng = runs.rng
        progress(f"  audit: {missing:,} extra llm.call events to reach {target:,}")
        for _ in range(missing):
            started, run_id = rng.choice(runs.failed)
            at = started + timedelta(minutes=rng.uniform(5, 120))
            call = runs.llm_call(at, rng.randint(1, 3))
            [(action, subject, payload)] = runs.record_calls(run_id, [call])
            trail.add(at, f"ci <ci@{DOMAIN}>", action, subject, payload)
    events = sorted(trail.events)
    if len(events) > target:
        progress(f"  audit: the oldest {len(events) - target:,} of {len(events):,} events are "
                 "left out to keep exactly the asked number")
        events = events[len(events) - target:]
    return events


def check(root: Path, url: str | None = None, progress: Callable[[str], None] = print,
          rng: random.Random | None = None) -> CheckReport:
    """Read the seeded store back through the real APIs; raise if anything does not add up."""
    rng = rng or random.Random(7)
    with open_store(root, url) as store:
        with store.engine.connect() as conn:
            n_runs = conn.execute(select(func.count()).select_from(RunRow)).scalar_one()
            is_failed = RunRow.status == RunStatus.FAILED.value
            n_failed = conn.execute(select(func.count()).where(is_failed)).scalar_one()
            failed = list(conn.execute(select(RunRow.id).where(is_failed).limit(2000)).scalars())
            n_releases = conn.execute(select(func.count()).select_from(ReleaseRow)).scalar_one()
        t0 = time.perf_counter()
        listed = store.list_runs(limit=50)
        list_ms = (time.perf_counter() - t0) * 1000
        if len(listed) != min(50, n_runs):
            raise AssertionError(f"list_runs gave {len(listed)} runs of {n_runs}")
        picks = [r.run_id for r in listed[:3]] + rng.sample(failed, min(3, len(failed)))
        t0 = time.perf_counter()
        for run_id in picks:
            run = store.get_run(run_id)
            if run.run_id != run_id or not run.stages:
                raise AssertionError(f"run {run_id} came back without its stages")
            store.get_diagnoses(run_id)
            store.fix_attempts(run_id)
        get_ms = (time.perf_counter() - t0) * 1000 / max(1, len(picks))
        diagnosed = sum(1 for r in failed[:200] if store.get_diagnoses(r))
        t0 = time.perf_counter()
        recent = ReleaseStore(store).recent(limit=20)
        recent_ms = (time.perf_counter() - t0) * 1000
        if n_releases and not recent:
            raise AssertionError("ReleaseStore.recent found no release")
    with AuditLog.open(root, url) as log:
        t0 = time.perf_counter()
        result = log.verify()
        verify_s = time.perf_counter() - t0
    if not result.ok:
        raise AssertionError(f"audit verify failed: {result.problem}")
    progress(f"  check: {n_runs:,} runs ({n_failed:,} failed, {diagnosed} of the first "
             f"{min(200, len(failed))} diagnosed), {n_releases:,} releases; list_runs(50) "
             f"{list_ms:.0f} ms, get_run {get_ms:.0f} ms, releases.recent(20) {recent_ms:.0f} ms;"
             f" audit verify ok: {result.events:,} events, {result.checkpoints:,} checkpoints "
             f"in {verify_s:.1f}s")
    return CheckReport(n_runs, n_failed, n_releases, result.events, result.checkpoints,
                       verify_s, list_ms, get_ms, recent_ms)


def main(argv: Sequence[str] | None = None) -> None:
    """Seed, check, print counts and seconds."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, required=True,
                        help="the repository directory (.suture/ and a git history go here)")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (default: $SUTURE_DATABASE_URL, else SQLite)")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--no-git", action="store_true",
                        help="random commit ids instead of a real git history")
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args(argv)
    spec = SeedSpec(runs=args.runs, releases=args.releases, audit_events=args.audit_events,
                    seed=args.seed, days=args.days, git=not args.no_git)
    print(f"seeding {args.root}: {spec.runs:,} runs, {spec.releases:,} releases, "
          f"{spec.audit_events:,} audit events over {spec.days:g} days")
    try:
        report = seed(args.root, args.database_url, spec)
    except UsageError as exc:
        raise SystemExit(f"error: {exc.message}\nhint: {exc.hint}") from None
    rows = ", ".join(f"{name} {n:,}" for name, n in report.rows.items())
    print(f"seeded {report.url} in {report.total_s:.1f}s: {rows}")
    if not args.no_check:
        check(args.root, args.database_url)


if __name__ == "__main__":
    main()
