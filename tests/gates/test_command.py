"""The command gate runs a user command; the exit code decides."""

from __future__ import annotations

from suture.gates.command import CommandConfig, CommandGate


def test_zero_exit_passes_and_keeps_output(git_repo, gate_ctx):
    gate = CommandGate("hello", CommandConfig(run="echo hello world"))
    report = gate.run(gate_ctx(git_repo.path))
    assert report.findings == ()
    assert "hello world" in report.log


def test_non_zero_exit_is_a_finding_with_the_last_line(git_repo, gate_ctx):
    gate = CommandGate("check", CommandConfig(run="echo oops >&2; exit 3", shell=True))
    report = gate.run(gate_ctx(git_repo.path))
    (finding,) = report.findings
    assert finding.rule_id == "command/exit-code"
    assert "exited with 3: oops" in finding.message
    assert report.metrics["exit_code"] == 3


def test_env_and_cwd(git_repo, gate_ctx):
    git_repo.write("sub/marker.txt", "x\n")
    gate = CommandGate("c", CommandConfig(run=["sh", "-c", "ls; echo $GREETING"], cwd="sub",
                                          env={"GREETING": "hi"}))
    report = gate.run(gate_ctx(git_repo.path))
    assert "marker.txt" in report.log and "hi" in report.log


def test_not_cached_unless_asked(git_repo):
    assert CommandGate("c", CommandConfig(run="true")).cacheable is False
    assert CommandGate("c", CommandConfig(run="true", cache=True)).cacheable is True
