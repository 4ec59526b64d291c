"""End to end: run, why and fix leave their events in the audit log, and it verifies."""

from __future__ import annotations

import json


def test_run_why_and_fix_are_audited_and_the_chain_verifies(git_repo, suture_cli) -> None:
    git_repo.write("calc.py", "import os\n\n\ndef add(a, b):\n    return a + b\n")
    git_repo.write("suture.yml", "gates:\n  lint: {}\n")
    git_repo.write(".gitignore", ".suture/\n")
    git_repo.commit("unused import")
    assert suture_cli(git_repo.path, "run").code == 1
    assert suture_cli(git_repo.path, "why").code == 0
    fixed = suture_cli(git_repo.path, "fix", "--json")
    assert fixed.code == 0, fixed.out
    commit = json.loads(fixed.stdout)["head"]

    log = suture_cli(git_repo.path, "audit", "log", "--json")

    assert log.code == 0, log.out
    events = [json.loads(line) for line in log.stdout.splitlines() if line.strip()][::-1]
    actions = [e["action"] for e in events]
    assert actions == ["run.started", "gate.result", "run.finished", "diagnosis.recorded",
                       "fix.attempt", "fix.commit"], actions
    assert events[-1]["subject"] == commit  # `audit log` lists the newest first
    assert "<" in events[0]["actor"]  # the git identity of whoever ran suture
    verify = suture_cli(git_repo.path, "audit", "verify")
    assert verify.code == 0, verify.out
