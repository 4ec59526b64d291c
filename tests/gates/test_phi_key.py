"""PHI fingerprints are HMACs under the team's key; old unkeyed baselines are named, not kept."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import pytest

from suture import config as config_mod
from suture.errors import ToolError
from suture.gates.phi import TOOL, PhiConfig, PhiGate, legacy_fingerprint
from suture.gates.phi_scan import PhiKind
from suture.model import Finding, Level, Run, StageStatus
from suture.pipeline import baseline as baseline_mod
from suture.pipeline import findings as findings_mod
from suture.pipeline.execute import RunOptions, run_pipeline
from suture.store import open_store
from tests.fixtures.gates import make_ctx
from tests.fixtures.git import GitRepo

# Synthetic values, assembled so this file does not itself look like it holds PHI.
SSN = "-".join(("212", "41", "7788"))
SSN2 = "-".join(("318", "62", "4410"))


def _repo(repo: GitRepo) -> GitRepo:
    repo.write("notes/a.txt", f"Intake\nSSN: {SSN}\nSpouse SSN: {SSN2}\n")
    repo.write("suture.yml", "baseline: accepted.json\ngates:\n  phi:\n    paths: [notes]\n")
    repo.commit("notes")
    return repo


def test_fingerprints_are_hmacs_under_a_key_made_once(git_repo: GitRepo, tmp_path: Path) -> None:
    root = _repo(git_repo).path
    gate = PhiGate("phi", PhiConfig(paths=["notes"]))
    first = gate.run(make_ctx(root))
    key_file = root / ".suture" / "keys" / "phi.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}\n", key_file.read_text())
    assert "created the phi fingerprint key" in first.log
    assert (root / ".suture" / ".gitignore").read_text() == "*\n"  # never committed by accident

    again = gate.run(make_ctx(root))
    assert [f.fingerprint for f in again.findings] == [f.fingerprint for f in first.findings]
    assert "created" not in again.log
    secret = bytes.fromhex(key_file.read_text())
    ssn = first.findings[0]
    assert ssn.rule_id == "phi/ssn" and ssn.line == 2
    expected = hmac.new(secret, b"notes/a.txt\0ssn\0" + SSN.replace("-", "").encode(),
                        hashlib.sha256).hexdigest()[:32]
    assert ssn.fingerprint == expected
    # The old scheme hashed the value with no secret: anyone could test candidate SSNs.
    assert ssn.fingerprint != legacy_fingerprint("notes/a.txt", PhiKind.SSN,
                                                 SSN.replace("-", ""))

    team = PhiGate("phi", PhiConfig(paths=["notes"], key=str(tmp_path / "team" / "phi.key")))
    other = team.run(make_ctx(root))
    assert (tmp_path / "team" / "phi.key").is_file()
    assert other.findings[0].fingerprint != ssn.fingerprint  # another key, another fingerprint
    assert team.extra_cache_inputs(make_ctx(root)) != gate.extra_cache_inputs(make_ctx(root))


def test_a_broken_key_is_a_clear_error(git_repo: GitRepo) -> None:
    root = _repo(git_repo).path
    (root / "phi.key").write_text("correct horse battery staple\n")
    with pytest.raises(ToolError, match="not 64 or more hex digits") as err:
        PhiGate("phi", PhiConfig(key="phi.key")).run(make_ctx(root))
    assert err.value.hint and "team's key" in err.value.hint


def _legacy_baseline(root: Path) -> None:
    """The baseline suture wrote before the key: it accepted the first SSN, unkeyed."""
    old = Finding(rule_id="phi/ssn", level=Level.ERROR, tool=TOOL, path="notes/a.txt", line=2,
                  message="SSN ***-**-7788 committed", snippet="> 2 | SSN: ***-**-7788",
                  fingerprint=legacy_fingerprint("notes/a.txt", PhiKind.SSN,
                                                 SSN.replace("-", "")))
    (final,) = findings_mod.finish(root, [old])
    base = baseline_mod.Baseline.model_validate({
        "created_at": "2026-01-01T00:00:00Z",
        "findings": {final.fingerprint: {"stage": "phi", "rule_id": "phi/ssn",
                                         "path": "notes/a.txt", "message": final.message}}})
    baseline_mod.write(base, root / "accepted.json")


def test_an_old_baseline_is_named_then_replaced_and_a_lost_key_stops_the_gate(
        git_repo: GitRepo) -> None:
    root = _repo(git_repo).path
    _legacy_baseline(root)
    with open_store(root) as store:
        def phi() -> Run:
            return run_pipeline(root, config_mod.load(root), store, RunOptions(use_cache=False))

        run = phi()
        stage = run.stages[0]
        assert stage.status is StageStatus.FAILED
        by_line = {f.line: f for f in stage.findings}
        assert (by_line[2].fix_hint or "").startswith("the baseline accepted this under suture's "
                                                      "old, unkeyed PHI fingerprint")
        assert "old, unkeyed" not in (by_line[3].fix_hint or "")  # never accepted at all
        assert "1 accepted only under the old unkeyed fingerprint" in stage.summary
        assert "suture no longer honours it" in stage.log

        # Reviewed: the team re-accepts both under the keyed fingerprints.
        baseline_mod.write(baseline_mod.from_run(run), root / "accepted.json")
        rerun = phi().stages[0]
        assert rerun.status is StageStatus.PASSED and "unkeyed" not in rerun.summary

        key_file = root / ".suture" / "keys" / "phi.key"
        saved = key_file.read_text()
        key_file.unlink()  # e.g. a CI job not given the team's key
        lost = phi().stages[0]
        assert lost.status is StageStatus.ERROR
        assert "phi fingerprint key" in lost.summary and "is missing" in lost.summary
        assert "copy the team's phi key" in lost.log
        assert not key_file.exists()  # no new key that would disown the baseline

        key_file.write_text(saved)
        assert phi().stages[0].status is StageStatus.PASSED
