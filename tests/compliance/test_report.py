"""Reports over a real repository and real `suture run`s: satisfied, not, tampered, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from suture.audit import AuditLog
from suture.compliance.evidence import EvidenceContext, Status
from suture.compliance.packs import BUILTIN_DIR, load_pack
from suture.compliance.report import Report, evaluate
from suture.store import open_store
from suture.store.db import resolve_url
from tests.audit.conftest import drop_guards
from tests.fixtures.cli import Result

from .conftest import write_pack

TEAM_CONTROLS = """\
  - id: OK-GATE
    title: the ok gate passes
    evidence:
      - query: gate_passed_in_every_run
        params: {kind: command, name: ok}
      - query: no_open_findings
        params: {kind: command, name: ok}
  - id: BAD-GATE
    title: the bad gate passes
    evidence:
      - query: gate_passed_in_every_run
        params: {kind: command, name: bad}
  - id: BAD-FINDINGS
    title: the bad gate leaves no findings
    evidence:
      - query: no_open_findings
        params: {kind: command, name: bad}
  - id: TRACE
    title: changes are traceable and recorded
    evidence:
      - query: changes_traceable
      - query: audit_chain_intact
      - query: every_run_checkpointed
  - id: SAST
    title: static analysis ran
    evidence:
      - query: gate_passed_in_every_run
        params: {kind: sast}
  - id: FIXES
    title: fixes verified
    evidence:
      - query: fixes_verified
      - query: releases_approved_by_non_author
  - id: FHIR
    title: only when there is FHIR
    applies_if: {query: gate_ran, params: {kind: fhir}}
    evidence:
      - query: fhir_gate_passes
  - id: PEOPLE
    title: a person reviews this
    manual: not something a pipeline sees
"""
PASSING_CONTROLS = """\
  - id: OK-GATE
    title: the ok gate passes
    evidence:
      - query: gate_passed_in_every_run
        params: {kind: command, name: ok}
  - id: CHAIN
    title: audit chain intact
    evidence:
      - query: audit_chain_intact
"""


def _report(root: Path, pack: Path, since: timedelta = timedelta(days=30)) -> Report:
    now = datetime.now(UTC)
    with open_store(root) as store:
        ctx = EvidenceContext(store=store, log=AuditLog.for_store(store, root=root), root=root,
                              since=now - since, until=now)
        return evaluate(load_pack(pack), ctx, now)


def _status(report: Report) -> dict[str, Status]:
    return {c.id: c.status for c in report.controls}


def test_controls_satisfied_and_not_from_a_real_run(ran_repo: Path, tmp_path: Path) -> None:
    report = _report(ran_repo, write_pack(tmp_path / "team.yml", TEAM_CONTROLS))
    assert _status(report) == {
        "OK-GATE": Status.SATISFIED, "BAD-GATE": Status.NOT_SATISFIED,
        "BAD-FINDINGS": Status.NOT_SATISFIED, "TRACE": Status.SATISFIED,
        "SAST": Status.NOT_SATISFIED, "FIXES": Status.NOT_APPLICABLE,
        "FHIR": Status.NOT_APPLICABLE, "PEOPLE": Status.MANUAL,
    }
    by_id = {c.id: c for c in report.controls}
    bad = by_id["BAD-FINDINGS"].evidence[0].result
    assert bad.counts["open_findings"] == 1 and len(bad.runs) == 1
    assert "did not pass" in by_id["BAD-GATE"].reason
    assert "did not run the sast gate" in by_id["SAST"].reason
    trace = by_id["TRACE"].evidence
    assert trace[1].result.audit_seqs == (1, 4)  # run.started .. run.finished
    assert report.score.satisfied == 2 and report.score.applicable == 5
    assert report.audit.ok and report.runs == 1 and not report.passed


def test_no_runs_in_the_period_is_never_satisfied(ran_repo: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "team.yml", PASSING_CONTROLS)
    report = _report(ran_repo, pack, since=timedelta(seconds=-3600))  # period in the future
    assert report.runs == 0
    assert _status(report)["OK-GATE"] == Status.NOT_SATISFIED
    assert "no finished runs" in report.controls[0].reason


def test_tampered_audit_log_fails_audit_chain_intact(own_repo: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "team.yml", PASSING_CONTROLS)
    assert _report(own_repo, pack).passed
    engine = create_engine(resolve_url(own_repo))
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET payload = :p WHERE seq = 2"),
                     {"p": '{"status":"passed"}'})
    engine.dispose()
    report = _report(own_repo, pack)
    chain = {c.id: c for c in report.controls}["CHAIN"]
    assert chain.status == Status.NOT_SATISFIED
    assert chain.evidence[0].result.audit_seqs == (2,) and "tampered at event 2" in chain.reason
    assert not report.audit.ok and report.audit.problem and "event 2" in report.audit.problem
    assert not report.passed


def test_cli_json_html_and_exit_codes(ran_repo: Path, tmp_path: Path, suture_cli) -> None:
    team = write_pack(tmp_path / "team.yml", TEAM_CONTROLS)
    passing = write_pack(tmp_path / "ok.yml", PASSING_CONTROLS, pack_id="ok")

    res: Result = suture_cli(ran_repo, "compliance", "report", "--pack", str(team),
                             "--format", "json")
    assert res.code == 1, res.out
    data = json.loads(res.stdout)
    assert data["schema_version"] == 1 and data["pack_version"] == "2"
    assert data["score"] == {"satisfied": 2, "applicable": 5, "percent": 40.0}
    assert data["audit"]["ok"] is True
    assert {c["id"]: c["status"] for c in data["controls"]}["BAD-GATE"] == "not_satisfied"

    html = tmp_path / "report.html"
    res = suture_cli(ran_repo, "compliance", "report", "--pack", str(passing), "-o", str(html),
                     "--since", "7d")
    assert res.code == 0, res.out
    page = html.read_text()
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    for cid in ("OK-GATE", "CHAIN"):
        assert f'id="control-{cid}"' in page
    assert "2 / 2" in page and "intact" in page


def test_cli_shipped_pack_html_lists_every_control(ran_repo: Path, tmp_path: Path,
                                                   suture_cli) -> None:
    html = tmp_path / "hipaa.html"
    res = suture_cli(ran_repo, "compliance", "report", "--pack", "hipaa", "-o", str(html))
    assert res.code == 1, res.out  # no secrets, phi or sast gates in this repo
    page = html.read_text()
    for control in load_pack(BUILTIN_DIR / "hipaa.yml").controls:
        assert f'id="control-{control.id}"' in page
    assert "manual" in page


def test_cli_pack_errors_exit_2(ran_repo: Path, tmp_path: Path, suture_cli) -> None:
    bad = write_pack(tmp_path / "broken.yml", "  - id: CTRL-7\n    title: t\n    evidence:\n"
                     "      - query: made_up\n")
    res = suture_cli(ran_repo, "compliance", "report", "--pack", str(bad))
    assert res.code == 2
    assert "broken.yml" in res.stderr and "CTRL-7" in res.stderr and "made_up" in res.stderr
    res = suture_cli(ran_repo, "compliance", "report", "--pack", "no-such-pack")
    assert res.code == 2 and "no compliance pack" in res.stderr
    res = suture_cli(ran_repo, "compliance", "packs", "--packs-dir", str(tmp_path))
    assert res.code == 2 and "broken.yml" in res.stderr
    res = suture_cli(ran_repo, "compliance", "report", "--pack", "hipaa", "--since", "lately")
    assert res.code == 2 and "--since 'lately'" in res.stderr


def test_llm_and_fix_events_are_checked_not_assumed(own_repo: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "team.yml", """\
  - id: LLM
    title: prompts by digest only
    evidence:
      - query: llm_calls_redacted
  - id: FIX
    title: fixes verified
    evidence:
      - query: fixes_verified
""")
    with AuditLog.open(own_repo) as log:
        log.append("llm.call", "r1", {"provider": "p", "model": "m", "prompt_digest": "a" * 64})
    report = _report(own_repo, pack)
    assert _status(report) == {"LLM": Status.SATISFIED, "FIX": Status.NOT_APPLICABLE}
    with AuditLog.open(own_repo) as log:
        leaked = log.append("llm.call", "r1", {"provider": "p", "model": "m",
                                               "prompt": "patient Jane Doe"})
        # A fix commit whose run has no accepted, fully checked attempt in the store.
        commit = log.append("fix.commit", "deadbeef", {"run_id": "no-such-run", "stage": "ok"})
    report = _report(own_repo, pack)
    assert _status(report) == {"LLM": Status.NOT_SATISFIED, "FIX": Status.NOT_SATISFIED}
    by_id = {c.id: c for c in report.controls}
    assert by_id["LLM"].evidence[0].result.audit_seqs == (leaked.seq,)
    assert by_id["FIX"].evidence[0].result.audit_seqs == (commit.seq,)


def test_repo_pack_folder_is_listed_and_used(own_repo: Path, suture_cli) -> None:
    write_pack(own_repo / ".suture" / "packs" / "ours.yml", PASSING_CONTROLS, pack_id="ours")
    res = suture_cli(own_repo, "compliance", "packs")
    assert res.code == 0 and "ours" in res.stdout and "hipaa" in res.stdout
    res = suture_cli(own_repo, "compliance", "report", "--pack", "ours")
    assert res.code == 0, res.out
    assert "2/2 applicable controls satisfied" in res.stdout
