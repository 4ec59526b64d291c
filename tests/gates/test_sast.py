"""The sast gate drives the real bandit."""

from __future__ import annotations

from suture.gates.sast import SastConfig, SastGate
from suture.model import Level

INSECURE = """\
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def query(db, name):
    return db.execute("SELECT * FROM patients WHERE name = '%s'" % name)
"""


def test_insecure_code_yields_findings_with_cwe(git_repo, gate_ctx):
    git_repo.write("app/db.py", INSECURE)
    report = SastGate("sast", SastConfig()).run(gate_ctx(git_repo.path))
    by_rule = {f.rule_id: f for f in report.findings}
    assert by_rule["B602"].cwe == "CWE-78"
    assert by_rule["B602"].level == Level.ERROR
    assert by_rule["B602"].path == "app/db.py" and by_rule["B602"].line == 5
    assert by_rule["B608"].cwe == "CWE-89"
    assert by_rule["B404"].level == Level.WARNING  # low severity: reported, does not fail


def test_nosec_and_tests_folder_are_skipped(git_repo, gate_ctx):
    git_repo.write("app/ok.py", "import subprocess  # nosec B404\n")
    git_repo.write("tests/test_x.py", "def test_a():\n    assert True\n")
    report = SastGate("sast", SastConfig()).run(gate_ctx(git_repo.path))
    assert report.findings == ()


def test_severity_filter(git_repo, gate_ctx):
    git_repo.write("app/db.py", INSECURE)
    report = SastGate("sast", SastConfig(severity="high")).run(gate_ctx(git_repo.path))
    assert {f.rule_id for f in report.findings} == {"B602"}


def test_no_python_files(git_repo, gate_ctx):
    git_repo.write("README.md", "hi\n")
    report = SastGate("sast", SastConfig()).run(gate_ctx(git_repo.path))
    assert report.summary == "no Python files to scan"
