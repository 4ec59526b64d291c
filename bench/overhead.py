"""Measure suture's overhead: `suture run` vs the same tools run directly, one after another,
and a cached re-run with nothing changed.

Projects: the bundled examples/clinic-api, and a real open-source project (click, from its
sdist on PyPI). Prints a table of seconds and ratios.

    .venv/bin/python bench/overhead.py            # both projects
    .venv/bin/python bench/overhead.py --only clinic-api
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SDIST = ("click", "8.1.7")
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.test",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.test"}


def sh(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
       ok: tuple[int, ...] = (0, 1)) -> float:
    """Run a command, return its wall time; stop the bench if it fails unexpectedly."""
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})},
                         capture_output=True, text=True)
    took = time.perf_counter() - t0
    if res.returncode not in ok:
        sys.exit(f"bench: {' '.join(cmd)} exited {res.returncode}\n{res.stdout}\n{res.stderr}")
    return took


def venv_for(project: Path, requirements: list[str]) -> Path:
    """A virtualenv in the project with its test dependencies."""
    venv = project / ".venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *requirements], check=True,
                       cwd=project)
    return venv / "bin" / "python"


def direct(project: Path, python: Path, tests: str, source: str, code: str,
           infra: list[str]) -> float:
    """The gates' tools run one after another, as a hand-written CI script would."""
    with tempfile.TemporaryDirectory() as tmp:
        cov = {"COVERAGE_FILE": f"{tmp}/.coverage"}
        total = sh([str(python), "-m", "coverage", "run", f"--source={source}", "-m", "pytest",
                    "-q", f"--junitxml={tmp}/j.xml", tests], project, cov)
        total += sh([str(python), "-m", "coverage", "json", "-o", f"{tmp}/c.json",
                     "--fail-under=0"], project, cov)
    total += sh([str(BIN / "ruff"), "check", "--output-format", "json", "--exit-zero", "."],
                project)
    total += sh([str(BIN / "bandit"), "-r", "-f", "json", "-q", code], project)
    files = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True,
                           text=True).stdout.split()
    total += sh([str(BIN / "detect-secrets-hook"), "--json", "--no-verify", *files], project)
    if infra:
        total += sh([str(BIN / "checkov"), "-o", "json", "--compact", "--skip-download",
                     *[a for f in infra for a in ("-f", f)]], project,
                    {"BC_SKIP_MAPPING": "TRUE"})
    return total


def suture(project: Path, *args: str) -> float:
    """Wall time of one `suture run`."""
    return sh([str(BIN / "suture"), "run", "--root", str(project), *args], project,
              ok=(0, 1))


def measure(name: str, project: Path, python: Path, tests: str, source: str, code: str,
            infra: list[str], gates: list[str]) -> tuple[str, float, float, float, float]:
    """(name, direct, suture uncached, suture cached, suture -j1 uncached)."""
    sel = [a for g in gates for a in ("-g", g)]
    env_db = project / ".suture"
    shutil.rmtree(env_db, ignore_errors=True)
    direct(project, python, tests, source, code, infra)  # warm the OS file cache
    d = min(direct(project, python, tests, source, code, infra) for _ in range(2))
    s = min(suture(project, "--no-cache", *sel) for _ in range(2))
    s1 = suture(project, "--no-cache", "-j", "1", *sel)
    suture(project, *sel)
    c = min(suture(project, *sel) for _ in range(3))
    return name, d, s, c, s1


def clinic() -> tuple:
    """The bundled example in a scratch copy, so the bench leaves the repository alone."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-clinic-"))
    project = tmp / "clinic-api"
    shutil.copytree(ROOT / "examples" / "clinic-api", project,
                    ignore=shutil.ignore_patterns(".venv", ".suture", "__pycache__"))
    git_init(project)
    python = venv_for(project, ["-r", "requirements-dev.txt"])
    return measure("clinic-api", project, python, "tests", "app", "app",
                   ["Dockerfile", "infra/main.tf"],
                   ["tests", "lint", "sast", "secrets", "iac"])


def click_project() -> tuple:
    """click, from its sdist: a real, well-tested open-source package."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-click-"))
    name, version = SDIST
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
                    ":all:", "-d", str(tmp), f"{name}=={version}"], check=True)
    archive = next(tmp.glob(f"{name}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    project = tmp / f"{name}-{version}"
    (project / "suture.yml").write_text(
        "gates:\n  tests:\n    paths: [tests]\n    source: [src/click]\n    min_coverage: 0\n"
        "  lint: {}\n  sast:\n    paths: [src]\n  secrets: {}\n")
    git_init(project)
    # click 8.1.7 predates pytest 9, whose collection rejects its parametrize iterators.
    python = venv_for(project, ["-e", ".", "pytest<9", "coverage"])
    return measure(f"{name} {version}", project, python, "tests", "src/click", "src", [],
                   ["tests", "lint", "sast", "secrets"])


def git_init(project: Path) -> None:
    """Make the scratch copy a git repository with one commit."""
    env = {**os.environ, **GIT_ENV}
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "bench"]):
        subprocess.run(["git", *cmd], cwd=project, env=env, check=True)


def main() -> None:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["clinic-api", "click"])
    args = parser.parse_args()
    rows = []
    if args.only in (None, "clinic-api"):
        rows.append(clinic())
    if args.only in (None, "click"):
        rows.append(click_project())
    print(f"{'project':<14} {'direct s':>9} {'suture s':>9} {'ratio':>6} {'suture -j1 s':>13} "
          f"{'ratio -j1':>10} {'cached s':>9} {'cached/first':>13}")
    for name, d, s, c, s1 in rows:
        print(f"{name:<14} {d:>9.2f} {s:>9.2f} {s / d:>6.2f} {s1:>13.2f} {s1 / d:>10.2f} "
              f"{c:>9.2f} {c / s:>13.1%}")


if __name__ == "__main__":
    main()
