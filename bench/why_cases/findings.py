"""Gates that fail on findings: lint, bandit, detect-secrets, advisories."""

from __future__ import annotations

from why_cases.history import Bug, History, calc_module
from why_cases.project import Case, Expect, Project


def _only(gate: str) -> str:
    """suture.yml running one gate with its defaults."""
    return f"version: 1\ngates:\n  {gate}: {{}}\n"


EXPORT = '''\
"""Nightly export of the day's reports."""

import subprocess


def compress(path: str) -> None:
    """gzip one report."""
    subprocess.run(f"gzip -9 {path}", shell=True, check=True)
'''


def _fake_aws_key() -> str:
    # Assembled at run time so suture's own secrets gate does not flag this file.
    return "AKIA" + "J4KXQ7ZL2MWN5RTB"


def _lint(p: Project) -> Expect:
    h = History(p, calc_module(_only("lint")))
    h.start()
    p.run(expect_pass=True)
    culprit = h.commits(5, 2, Bug("calc.py", '"""Arithmetic."""\n',
                                  '"""Arithmetic."""\n\nimport os\n', "prepare for env config"))
    p.run(expect_pass=False)
    return Expect(stage="lint", category="lint", culprit=culprit)


def _bandit(p: Project) -> Expect:
    h = History(p, calc_module(_only("sast")))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    p.write("export.py", EXPORT)
    culprit = p.commit("nightly export")
    h.filler(2)
    h.filler(3)
    p.run(expect_pass=False)
    return Expect(stage="sast", category="insecure-code", culprit=culprit)


def _secret(p: Project) -> Expect:
    h = History(p, calc_module(_only("secrets")))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    h.filler(2)
    p.write("deploy_settings.py", f'"""Deployment."""\n\nREGION = "eu-west-1"\n'
                                  f'ACCESS_KEY = "{_fake_aws_key()}"\n')
    culprit = p.commit("deploy settings")
    h.filler(3)
    p.run(expect_pass=False)
    return Expect(stage="secrets", category="insecure-code", culprit=culprit)


def _vulnerable_pin(p: Project) -> Expect:
    h = History(p, calc_module(_only("deps")))
    p.write("requirements.txt", "jinja2==3.1.6\nmarkupsafe==3.0.2\n")
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    p.write("requirements.txt", "jinja2==2.8\nmarkupsafe==3.0.2\n")
    culprit = p.commit("pin jinja2 for the legacy templates")
    h.filler(2)
    p.run(expect_pass=False)
    return Expect(stage="deps", category="vulnerable-dependency", origin=culprit)


CASES = (
    Case("lint-unused-import", _lint, "commit 2 of 5 adds an unused import"),
    Case("insecure-code-bandit", _bandit, "subprocess with shell=True (bandit B602)"),
    Case("insecure-code-secret", _secret, "a committed AWS access key id (detect-secrets)"),
    Case("vulnerable-dependency", _vulnerable_pin, "requirements.txt pins jinja2==2.8"),
)
