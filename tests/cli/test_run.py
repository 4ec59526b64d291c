"""End to end: the `suture` command on real repositories, as a user drives it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

CLEAN_CODE = '''"""A tiny module."""


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b
'''
CLEAN_TEST = '''from calc import add


def test_add():
    assert add(1, 2) == 3
'''


@pytest.fixture
def project(git_repo):
    git_repo.write("calc.py", CLEAN_CODE)
    git_repo.write("tests/test_calc.py", CLEAN_TEST)
    git_repo.write("tests/conftest.py", "import pathlib\nimport sys\n\n"
                   "sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))\n")
    git_repo.write("suture.yml", """\
        gates:
          tests:
            paths: [tests]
            source: [calc]
          lint: {}
          sast: {}
        """)
    git_repo.commit("initial")
    return git_repo


def test_clean_project_passes_then_reuses_cache(project, suture_cli):
    first = suture_cli(project.path, "run")
    assert first.code == 0, first.out
    assert "passed" in first.stdout and "tests" in first.stdout
    second = suture_cli(project.path, "run")
    assert second.code == 0
    assert second.stderr.count("(cached)") == 3
    forced = suture_cli(project.path, "run", "--no-cache")
    assert "(cached)" not in forced.stderr


def test_lint_failure_exits_1_and_names_the_problem(project, suture_cli):
    project.write("calc.py", "import os\n" + CLEAN_CODE)
    res = suture_cli(project.path, "run", "-g", "lint")
    assert res.code == 1
    assert "calc.py:1" in res.stdout and "F401" in res.stdout


def test_json_report_contract(project, suture_cli, tmp_path):
    out = tmp_path / "r.json"
    res = suture_cli(project.path, "run", "--format", "json", "-o", str(out))
    assert res.code == 0, res.out
    data = json.loads(out.read_text())
    assert {"run_id", "status", "commit", "started_at", "duration_s", "stages"} <= set(data)
    assert data["status"] == "passed"
    assert data["commit"] == project.git("rev-parse", "HEAD")
    stage = data["stages"][0]
    assert {"name", "status", "duration_s", "cached", "findings"} <= set(stage)
    tests = next(s for s in data["stages"] if s["name"] == "tests")
    assert tests["metrics"]["coverage"] == 100.0


def test_report_on_stdout_keeps_stdout_clean(project, suture_cli):
    res = suture_cli(project.path, "run", "-g", "lint", "--format", "sarif")
    assert res.code == 0
    assert json.loads(res.stdout)["version"] == "2.1.0"


def test_runs_history_and_show(project, suture_cli):
    suture_cli(project.path, "run", "-g", "lint")
    listing = suture_cli(project.path, "runs")
    assert listing.code == 0 and "passed" in listing.stdout
    last = suture_cli(project.path, "runs", "show", "last", "--format", "json")
    run_id = json.loads(last.stdout)["run_id"]
    shown = suture_cli(project.path, "runs", "show", run_id[:8])
    assert shown.code == 0 and "lint" in shown.stdout
    missing = suture_cli(project.path, "runs", "show", "ffffffffff")
    assert missing.code == 2


def test_baseline_accepts_existing_findings(project, suture_cli):
    project.write("calc.py", "import os\n" + CLEAN_CODE)
    assert suture_cli(project.path, "run", "-g", "lint").code == 1
    res = suture_cli(project.path, "baseline")
    assert "accepted" in res.stdout
    assert suture_cli(project.path, "run", "-g", "lint").code == 0
    project.write("other.py", "import sys\n")
    assert suture_cli(project.path, "run", "-g", "lint").code == 1


def test_broken_config_exits_2_with_position(project, suture_cli):
    project.write("suture.yml", "gates:\n  lint:\n    pathz: [src]\n")
    res = suture_cli(project.path, "run")
    assert res.code == 2
    assert "suture.yml:3:5: unknown key 'pathz' (did you mean 'paths'?)" in res.stderr
    assert "Traceback" not in res.stderr


def test_not_a_repository_exits_2(tmp_path, suture_cli):
    res = suture_cli(tmp_path, "run")
    assert res.code == 2
    assert "is not inside a git repository" in res.stderr


def test_missing_tool_and_timeout_are_gate_errors(project, suture_cli):
    project.write("suture.yml", """\
        gates:
          ghost:
            kind: command
            run: definitely-not-a-real-tool --check
          slow:
            kind: command
            run: sleep 20
            timeout: 1
          lint: {}
        """)
    res = suture_cli(project.path, "run")
    assert res.code == 3, res.out
    assert "definitely-not-a-real-tool is not installed" in res.stdout
    assert "timed out after 1s" in res.stdout
    assert "passed" in res.stdout  # lint still ran


def test_needs_skips_dependents_of_a_failed_gate(project, suture_cli):
    project.write("suture.yml", """\
        gates:
          first:
            kind: command
            run: "false"
          second:
            kind: command
            run: "true"
            needs: [first]
        """)
    res = suture_cli(project.path, "run")
    assert res.code == 1
    assert "skipped: needs first" in res.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_is_recorded_as_error(project, suture_cli, sig):
    project.write("suture.yml", "gates:\n  slow:\n    kind: command\n    run: sleep 60\n")
    env = {**os.environ}
    env.pop("SUTURE_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "suture", "run"], cwd=project.path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    sent = time.monotonic()
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert time.monotonic() - sent < 10  # the tool was stopped, not waited for
    listing = suture_cli(project.path, "runs")
    assert "error" in listing.stdout and "running" not in listing.stdout


def test_unreachable_database_is_a_clear_error(project, suture_cli):
    res = suture_cli(project.path, "run",
                     env={"SUTURE_DATABASE_URL": "postgresql://suture:hunter2@127.0.0.1:9/x"})
    assert res.code == 3
    assert "hunter2" not in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) <= 3


def test_help_teaches_with_examples(suture_cli, tmp_path):
    for args in (["--help"], ["run", "--help"], ["init", "--help"], ["runs", "--help"],
                 ["baseline", "--help"], ["schema", "--help"]):
        res = suture_cli(tmp_path, *args)
        assert res.code == 0, args
        assert "suture" in res.stdout
    assert "Example" in suture_cli(tmp_path, "run", "--help").stdout


def test_init_then_run(git_repo, suture_cli):
    git_repo.write("calc.py", CLEAN_CODE)
    git_repo.write("tests/test_calc.py", CLEAN_TEST)
    git_repo.write("tests/conftest.py", "import pathlib\nimport sys\n\n"
                   "sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))\n")
    res = suture_cli(git_repo.path, "init")
    assert res.code == 0 and "wrote suture.yml" in res.stdout
    again = suture_cli(git_repo.path, "init")
    assert again.code == 2 and "--force" in again.stderr


def test_usage_errors_exit_2_and_version(project, suture_cli):
    bad = suture_cli(project.path, "run", "--format", "yaml")
    assert bad.code == 2 and "yaml" in bad.stderr
    unknown_gate = suture_cli(project.path, "run", "-g", "nope")
    assert unknown_gate.code == 2 and "no gate named 'nope'" in unknown_gate.stderr
    version = suture_cli(project.path, "--version")
    assert version.code == 0 and version.stdout.startswith("suture ")


def test_schema_command_prints_json_schema(project, suture_cli):
    res = suture_cli(project.path, "schema")
    schema = json.loads(res.stdout)
    assert "gates" in schema["properties"] and schema["title"] == "suture.yml"


def test_html_report_from_history(project, suture_cli, tmp_path):
    suture_cli(project.path, "run", "-g", "lint")
    out = tmp_path / "report.html"
    res = suture_cli(project.path, "runs", "show", "last", "--format", "html", "-o", str(out))
    assert res.code == 0
    html = out.read_text()
    assert html.lower().startswith("<!doctype html>") and "lint" in html
