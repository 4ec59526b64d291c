"""Measure `suture deploy` on examples/clinic-api: how fast a bad canary is rolled back, and how
often a healthy one is (falsely) rolled back. Compares with a Flagger-style fixed threshold.

A copy of the example becomes a git repository; the stable release answers 0.1% errors (its
fault.json), bad releases 5% errors or +200 ms latency, healthy releases are the stable one with
a new commit. Traffic: suture's bounded load generator at 127.0.0.1. Prints a table.

    .venv/bin/python bench/deploy_rollback.py                  # 20 bad trials each, 50 healthy
    .venv/bin/python bench/deploy_rollback.py --bad 5 --healthy 10 --rps 300

Needs examples/clinic-api/.venv (scripts/demo.sh makes it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "clinic-api"
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.test",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.test"}
# Flagger's documented analysis defaults in its tutorials: every 1m, roll back after 5 failed
# checks; request-success-rate >= 99% and request-duration p99 <= 500 ms over the last 1m.
FLAGGER_INTERVAL_S, FLAGGER_THRESHOLD = 60.0, 5
FLAGGER_MAX_ERROR_RATE, FLAGGER_MAX_LATENCY_S = 0.01, 0.5


def git(repo: Path, *args: str) -> str:
    """Run git in the bench repository."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def make_repo(work: Path, port: int, interval: float, look: float) -> Path:
    """Copy the example into a fresh git repository with a fast deploy section."""
    repo = work / "clinic-api"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".venv", ".suture", "__pycache__",
                                                                 ".pytest_cache"))
    python = EXAMPLE / ".venv" / "bin" / "python"
    (repo / "suture.yml").write_text(f"""\
python: {python}
gates:
  lint: {{}}
deploy:
  command: "{{python}} -m uvicorn app.main:app --host 127.0.0.1 --port {{port}} --no-access-log"
  health_path: /healthz
  replicas: 1
  canary: {{steps: [10, 50, 100], interval_s: {interval}, look_s: {look}}}
  environments:
    bench: {{port: {port}}}
""")
    (repo / ".gitignore").write_text(".suture/\n.venv/\n")
    (repo / "fault.json").write_text(json.dumps({"error_rate": 0.001}))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "stable")
    return repo


def release(repo: Path, fault: dict[str, float], n: int) -> None:
    """Commit a new release with this fault setting."""
    (repo / "fault.json").write_text(json.dumps(fault))
    (repo / "RELEASE").write_text(f"{n}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"release {n}")


def flagger_verdict(step: dict[str, object]) -> tuple[bool, float | None]:
    """Whether Flagger's fixed thresholds would fail this traffic, and its time to roll back."""
    m = step.get("metrics") or {}
    assert isinstance(m, dict)
    rate = m.get("canary_error_rate")
    p95 = m.get("canary_p95_s")
    bad = (isinstance(rate, (int, float)) and rate > FLAGGER_MAX_ERROR_RATE) or (
        isinstance(p95, (int, float)) and p95 > FLAGGER_MAX_LATENCY_S)
    return bad, FLAGGER_INTERVAL_S * FLAGGER_THRESHOLD if bad else None


def main() -> None:
    """Run the trials and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bad", type=int, default=20, help="trials per bad kind")
    ap.add_argument("--healthy", type=int, default=50, help="healthy trials")
    ap.add_argument("--rps", type=float, default=300.0, help="load at the router")
    ap.add_argument("--interval", type=float, default=5.0, help="canary step seconds")
    ap.add_argument("--look", type=float, default=0.5, help="judge look seconds")
    args = ap.parse_args()
    if not (EXAMPLE / ".venv" / "bin" / "python").exists():
        sys.exit("bench: examples/clinic-api/.venv is missing; run scripts/demo.sh once")

    from suture import config
    from suture.deploy.model import ReleaseStatus, Strategy
    from suture.deploy.service import Deployer, DeployOptions
    from suture.deploy.targets.local import free_port
    from suture.store import open_store

    work = Path(tempfile.mkdtemp(prefix="suture-bench-deploy-"))
    repo = make_repo(work, free_port(), args.interval, args.look)
    deployer = Deployer(repo, config.load(repo), open_store(repo), progress=lambda _t: None)
    opts = DeployOptions(env="bench", strategy=Strategy.CANARY, load_rps=args.rps,
                         load_paths=("/metadata",))
    results: dict[str, list[object]] = {"errors": [], "latency": [], "healthy": []}
    n = 0
    try:
        first = deployer.deploy(opts)
        assert first.status is ReleaseStatus.PROMOTED, first.error
        kinds = [("errors", {"error_rate": 0.05}, args.bad),
                 ("latency", {"error_rate": 0.001, "extra_latency_s": 0.2}, args.bad),
                 ("healthy", {"error_rate": 0.001}, args.healthy)]
        for kind, fault, trials in kinds:
            for _ in range(trials):
                n += 1
                release(repo, fault, n)
                r = deployer.deploy(opts)
                results[kind].append(r)
                print(f"{kind:8} #{n:3}: {r.status.value:12} mttr={r.mttr_s}  "
                      f"{(r.error or '')[:90]}", flush=True)
    finally:
        from tests.fixtures.deploy_app import _stop_everything
        _stop_everything(repo)
        shutil.rmtree(work, ignore_errors=True)
    report(results, args)


def report(results: dict[str, list[object]], args: argparse.Namespace) -> None:
    """Print the table of figures."""
    from suture.deploy.model import Release, ReleaseStatus

    print(f"\nload {args.rps:g} req/s, canary steps 10/50/100%, step {args.interval:g}s, "
          f"judge looks every {args.look:g}s\n")
    print("| canary | trials | rolled back | restore s median | max | Flagger-style |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kind in ("errors", "latency", "healthy"):
        rel = [r for r in results[kind] if isinstance(r, Release)]
        back = [r for r in rel if r.status is ReleaseStatus.ROLLED_BACK]
        mttr = [r.mttr_s for r in back if r.mttr_s is not None]
        fl = [flagger_verdict(r.steps[-1].model_dump(mode="json")) for r in rel if r.steps]
        fl_back = sum(1 for bad, _ in fl if bad)
        fl_text = (f"{fl_back}/{len(fl)} rolled back after "
                   f"{FLAGGER_INTERVAL_S * FLAGGER_THRESHOLD:.0f} s" if fl_back else
                   f"0/{len(fl)} rolled back")
        med = f"{statistics.median(mttr):.2f}" if mttr else "-"
        top = f"{max(mttr):.2f}" if mttr else "-"
        print(f"| {kind} | {len(rel)} | {len(back)} ({100 * len(back) / max(1, len(rel)):.0f}%)"
              f" | {med} | {top} | {fl_text} |")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
