"""OSCAL assessment-results from real reports: valid per NIST's schema and trestle, statuses, links.

The official OSCAL 1.1.2 JSON Schema (tests/fixtures/oscal/) uses `\\p{L}` and `\\p{N}` in its
patterns, which Python's `re` rejects; the validator below is jsonschema's Draft7Validator with
the `pattern` keyword evaluated by the `regex` package, which implements Unicode properties, so
the patterns run as published. Formats (date-time, uri, uri-reference) are checked too.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regex
from jsonschema import Draft7Validator, ValidationError
from trestle.oscal import OSCAL_VERSION_REGEX
from trestle.oscal.assessment_results import Model as TrestleAssessmentResults

from suture.audit import AuditLog
from suture.compliance.evidence import EvidenceContext, Status
from suture.compliance.oscal import OSCAL_VERSION, SUTURE_NS, control_tokens, render_oscal
from suture.compliance.packs import BUILTIN_DIR, available, load_pack
from suture.compliance.report import AuditSummary, Report, evaluate
from suture.store import open_store
from tests.fixtures.cli import Result

from .conftest import write_pack
from .test_packs import CATALOG

SCHEMA = Path(__file__).parents[1] / "fixtures" / "oscal" / "oscal_assessment-results_schema.json"
SCHEMA_SHA256 = "d033da70154cf6625ae46a746199e88e58f2928b1387dfac051d381b92f41b0d"
TOKEN = regex.compile(r"^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$")
CONTROLS = """\
  - id: "164.312(b)"
    title: audit controls
    evidence:
      - query: audit_chain_intact
      - query: every_run_checkpointed
  - id: AC-2(1)
    title: the ok gate passes
    description: the command gate `ok` passes in every run
    evidence:
      - query: gate_passed_in_every_run
        params: {kind: command, name: ok}
  - id: CC8.1
    title: the bad gate passes
    evidence:
      - query: gate_passed_in_every_run
        params: {kind: command, name: bad}
      - query: no_open_findings
        params: {kind: command, name: bad}
  - id: FHIR
    title: only when there is FHIR
    applies_if: {query: gate_ran, params: {kind: fhir}}
    evidence:
      - query: fhir_gate_passes
  - id: FIXES
    title: fixes verified
    evidence:
      - query: fixes_verified
  - id: PEOPLE
    title: a person reviews this
    manual: not something a pipeline sees
"""
EXPECTED = {"164.312(b)": Status.SATISFIED, "AC-2(1)": Status.SATISFIED,
            "CC8.1": Status.NOT_SATISFIED, "FHIR": Status.NOT_APPLICABLE,
            "FIXES": Status.NOT_APPLICABLE, "PEOPLE": Status.MANUAL}


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and regex.search(pattern, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_OscalValidator = jsonschema.validators.extend(Draft7Validator, {"pattern": _pattern})


@cache
def _validator() -> Any:
    # No check_schema(): the metaschema's `regex` format would compile \p{L} with `re` and fail.
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return _OscalValidator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_errors(doc: object) -> list[str]:
    """Every violation of the official OSCAL assessment-results schema, with its JSON path."""
    return sorted(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in _validator().iter_errors(doc))


def assert_valid(doc: dict[str, Any]) -> None:
    """Valid per the NIST schema and per compliance-trestle's OSCAL models."""
    assert schema_errors(doc) == []
    parsed = TrestleAssessmentResults.parse_obj(doc)  # pydantic v1 models: extra fields forbidden
    assert parsed.assessment_results.metadata.oscal_version.__root__ == OSCAL_VERSION


def _report(root: Path, pack: Path, since: datetime | None = None) -> Report:
    now = datetime.now(UTC)
    with open_store(root) as store:
        ctx = EvidenceContext(store=store, log=AuditLog.for_store(store, root=root), root=root,
                              since=since or now - timedelta(days=30), until=now)
        return evaluate(load_pack(pack), ctx, now)


def _doc(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_oscal(report))
    return data


def _by_control(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {_prop(i, "control-id"): i for i in items if _prop(i, "control-id")}


def _prop(item: dict[str, Any], name: str) -> str | None:
    values = [p["value"] for p in item.get("props", []) if p["name"] == name]
    assert len(values) <= 1
    return values[0] if values else None


def test_schema_fixture_is_the_official_release_asset() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert regex.match(OSCAL_VERSION_REGEX, OSCAL_VERSION)  # the trestle installed models it


def test_report_renders_valid_oscal_with_a_finding_per_control(ran_repo: Path,
                                                               tmp_path: Path) -> None:
    report = _report(ran_repo, write_pack(tmp_path / "team.yml", CONTROLS))
    assert {c.id: c.status for c in report.controls} == EXPECTED
    doc = _doc(report)
    assert list(doc) == ["assessment-results"]
    assert_valid(doc)

    ar = doc["assessment-results"]
    assert ar["metadata"]["oscal-version"] == "1.1.2"
    (result,) = ar["results"]
    assert (result["start"], result["end"]) == (
        report.period_start.isoformat().replace("+00:00", "Z"),
        report.period_end.isoformat().replace("+00:00", "Z"))
    tokens = control_tokens("team", list(EXPECTED))
    assert tokens == {"164.312(b)": "team-164.312-b", "AC-2(1)": "ac-2.1", "CC8.1": "cc8.1",
                      "FHIR": "fhir", "FIXES": "fixes", "PEOPLE": "people"}
    (selection,) = result["reviewed-controls"]["control-selections"]
    assert [c["control-id"] for c in selection["include-controls"]] == list(tokens.values())

    findings = _by_control(result["findings"])
    assert set(findings) == set(EXPECTED)  # original ids kept in a prop
    for cid, status in EXPECTED.items():
        target = findings[cid]["target"]
        assert target["type"] == "objective-id" and target["target-id"] == f"{tokens[cid]}_obj"
        assert _prop(findings[cid], "assessment-status") == status.value
        want = "satisfied" if status == Status.SATISFIED else "not-satisfied"
        assert target["status"]["state"] == want, cid
    assert findings["CC8.1"]["target"]["status"]["reason"] == "fail"
    assert "did not pass" in findings["CC8.1"]["description"]
    for cid in ("FHIR", "FIXES"):  # not applicable: never satisfied, and says why
        assert findings[cid]["target"]["implementation-status"] == {"state": "not-applicable"}
        assert findings[cid]["target"]["status"]["reason"] == "other"
    people = findings["PEOPLE"]
    assert people["target"]["status"]["reason"] == "other" and "related-observations" not in people
    assert "person must review" in people["target"]["status"]["remarks"]
    assert findings["AC-2(1)"]["target"]["description"] == (
        "the command gate `ok` passes in every run")


def test_observations_carry_the_evidence_and_every_reference_resolves(ran_repo: Path,
                                                                      tmp_path: Path) -> None:
    report = _report(ran_repo, write_pack(tmp_path / "team.yml", CONTROLS))
    ar = _doc(report)["assessment-results"]
    (result,) = ar["results"]
    resources = {r["uuid"]: r for r in ar["back-matter"]["resources"]}
    observations = {o["uuid"]: o for o in result["observations"]}

    pack = resources[ar["import-ap"]["href"].removeprefix("#")]  # OSCAL requires import-ap
    assert _prop(pack, "pack-id") == "team" and _prop(pack, "pack-version") == "2"
    assert pack["rlinks"][0]["href"] == (tmp_path / "team.yml").as_uri()

    for finding in result["findings"]:
        for rel in finding.get("related-observations", []):
            assert rel["observation-uuid"] in observations
    run_id = report.controls[1].evidence[0].result.runs[0]  # AC-2(1): the one run
    methods: dict[str, set[str]] = {}
    linked: set[str] = set()
    for obs in observations.values():
        assert obs["collected"] == ar["metadata"]["last-modified"]
        assert obs["origins"][0]["actors"][0]["type"] == "tool"
        methods.setdefault(_prop(obs, "query") or obs["title"], set()).update(obs["methods"])
        for ev in obs["relevant-evidence"][1:]:
            assert ev["href"].removeprefix("#") in resources
            linked.add(ev["href"].removeprefix("#"))
    assert methods["gate_passed_in_every_run"] == {"TEST"}
    assert methods["audit_chain_intact"] == methods["every_run_checkpointed"] == {"EXAMINE"}
    assert methods["Audit log verification"] == {"EXAMINE"}
    runs = [r for r in resources.values() if _prop(r, "run-id")]
    assert [_prop(r, "run-id") for r in runs] == [run_id]
    seqs = sorted(int(_prop(r, "audit-seq") or 0) for r in resources.values()
                  if _prop(r, "audit-seq"))
    assert seqs and seqs[0] == 1  # audit_chain_intact cites the first and last event
    assert {r["uuid"] for r in runs} <= linked

    bad = [o for o in observations.values() if o["title"] == "CC8.1: no_open_findings"]
    assert _prop(bad[0], "open-findings") == "1" and _prop(bad[0], "query-status") == (
        "not_satisfied")
    assert json.loads(_prop(bad[0], "query-params") or "") == {"kind": "command", "name": "bad"}
    audit = [o for o in observations.values() if o["title"] == "Audit log verification"]
    assert "chain is intact" in audit[0]["description"]
    assert _prop(result, "audit-chain") == "intact" and _prop(result, "score-satisfied") == "2"
    assert all(p["ns"] == SUTURE_NS for p in result["props"])


def test_output_is_deterministic_and_uuids_are_stable_per_subject(ran_repo: Path,
                                                                  tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "team.yml", CONTROLS)
    since = datetime(2020, 1, 1, tzinfo=UTC)
    report = _report(ran_repo, pack, since=since)
    text = render_oscal(report)
    assert render_oscal(Report.model_validate_json(report.model_dump_json())) == text

    def uuids(doc: object) -> list[str]:
        found: list[str] = []
        if isinstance(doc, dict):
            for key, value in doc.items():
                found += [value] if key == "uuid" else uuids(value)
        elif isinstance(doc, list):
            for item in doc:
                found += uuids(item)
        return found

    first = uuids(json.loads(text))
    assert len(first) == len(set(first)) and all(uuid.UUID(u).version == 5 for u in first)
    # A later report of the same pack and period (other generation time) keeps every subject's id.
    again = _report(ran_repo, pack, since=since)
    assert again.period_end != report.period_end
    later = render_oscal(again.model_copy(update={"period_end": report.period_end}))
    assert uuids(json.loads(later)) == first and later != text


def test_broken_audit_chain_is_reported_and_still_valid(ran_repo: Path, tmp_path: Path) -> None:
    report = _report(ran_repo, write_pack(tmp_path / "team.yml", CONTROLS))
    broken = report.model_copy(update={"audit": AuditSummary(
        ok=False, events=4, checkpoints=1, problem="event 2: modified: hash mismatch")})
    doc = _doc(broken)
    assert_valid(doc)
    (result,) = doc["assessment-results"]["results"]
    assert _prop(result, "audit-chain") == "not-verified"
    assert "NOT verified (event 2: modified" in result["description"]
    audit = [o for o in result["observations"] if o["title"] == "Audit log verification"]
    assert audit[0]["description"] == "audit chain NOT verified: event 2: modified: hash mismatch"


def test_schema_validation_rejects_what_oscal_forbids(ran_repo: Path, tmp_path: Path) -> None:
    doc = _doc(_report(ran_repo, write_pack(tmp_path / "team.yml", CONTROLS)))
    result = doc["assessment-results"]["results"][0]

    def broken(edit: Any) -> list[str]:
        copy = json.loads(json.dumps(doc))
        edit(copy["assessment-results"], copy["assessment-results"]["results"][0])
        return schema_errors(copy)

    def state(ar: Any, res: Any) -> None:
        res["findings"][0]["target"]["status"]["state"] = "not-applicable"

    def raw_id(ar: Any, res: Any) -> None:  # a HIPAA id is no OSCAL token: \p{L} must be honoured
        res["reviewed-controls"]["control-selections"][0]["include-controls"][0]["control-id"] = (
            "164.312(b)")

    def unicode_id(ar: Any, res: Any) -> None:  # ...while a non-ASCII letter is a valid token
        res["reviewed-controls"]["control-selections"][0]["include-controls"][0]["control-id"] = (
            "é-1")

    assert any("/findings/0/target/status/state" in e for e in broken(state))
    assert any("'164.312(b)' does not match" in e for e in broken(raw_id))
    assert broken(unicode_id) == []
    assert any("import-ap" in e for e in broken(lambda ar, res: ar.pop("import-ap")))
    assert any("/start" in e for e in broken(lambda ar, res: res.update(start="2026-13-01")))
    assert result["findings"]  # the edits above hit a real document
    extra = json.loads(json.dumps(doc))
    extra["assessment-results"]["results"][0]["findings"][0]["verdict"] = "ok"
    with pytest.raises(ValueError, match="extra fields not permitted"):
        TrestleAssessmentResults.parse_obj(extra)  # trestle's models are strict too


def test_shipped_packs_map_to_unique_tokens_and_nist_objectives(tmp_path: Path) -> None:
    objectives: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        for child in node.get("controls", []):
            objectives.update(p["id"] for p in child.get("parts", []) if "id" in p)
            walk(child)

    for group in json.loads(CATALOG.read_text())["catalog"]["groups"]:
        walk(group)
    for pid, path in available(tmp_path).items():
        pack = load_pack(path)
        tokens = control_tokens(pack.id, [c.id for c in pack.controls])
        assert len(set(tokens.values())) == len(tokens)
        assert all(TOKEN.match(t) for t in tokens.values()), (pid, tokens)
    nist = load_pack(BUILTIN_DIR / "nist-800-53.yml")
    for cid, token in control_tokens(nist.id, [c.id for c in nist.controls]).items():
        assert token == cid and f"{token}_obj" in objectives
    assert control_tokens("p", ["A.1", "a.1", "AC-02(01)", "ac-2.1"]) == {
        "A.1": "a.1", "a.1": "a.1-2", "AC-02(01)": "ac-2.1", "ac-2.1": "ac-2.1-2"}
    assert control_tokens("27001", ["5.1"]) == {"5.1": "_27001-5.1"}


def test_cli_format_oscal_writes_a_valid_document(ran_repo: Path, tmp_path: Path,
                                                  suture_cli: Any) -> None:
    pack = write_pack(tmp_path / "team.yml", CONTROLS)
    out = tmp_path / "assessment-results.json"
    res: Result = suture_cli(ran_repo, "compliance", "report", "--pack", str(pack),
                             "--format", "oscal", "-o", str(out))
    assert res.code == 1, res.out  # CC8.1 is not satisfied
    assert "wrote oscal report" in res.stderr
    doc = json.loads(out.read_text())
    assert_valid(doc)
    findings = _by_control(doc["assessment-results"]["results"][0]["findings"])
    assert {cid: f["target"]["status"]["state"] for cid, f in findings.items()} == {
        cid: "satisfied" if s == Status.SATISFIED else "not-satisfied"
        for cid, s in EXPECTED.items()}
