"""The fhir gate checks FHIR R4 JSON with fhir.resources and the official HL7 JSON Schema."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import ValidationError

from suture.errors import ToolError
from suture.gates import fhir_schema
from suture.gates.fhir import R4_TYPES, Checker, FhirConfig, FhirGate, FhirVersion, Locator
from suture.gates.interface import GateReport
from suture.model import Finding, Level
from suture.pipeline.findings import finish
from tests.fixtures.gates import make_ctx
from tests.fixtures.git import GitRepo

# The HL7 FHIR R4 JSON Schema shared by the project's tests (not part of the repository).
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / ".." / "shared" / "data" / "fhir-r4" / "fhir.schema.json"
EXAMPLE = ROOT / "examples" / "clinic-api"

PATIENT = {
    "resourceType": "Patient",
    "id": "example-1",
    "identifier": [{"system": "urn:example:mrn", "value": "MRN-0001"}],
    "name": [{"use": "official", "family": "Patient", "given": ["Test"]}],
    "gender": "unknown",
    "birthDate": "1970-01-01",
}
OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "Heart rate"},
    "subject": {"reference": "Patient/example-1"},
    "effectiveDateTime": "2024-01-01T10:00:00Z",
    "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org"},
}


def _bundle(*resources: dict[str, object]) -> dict[str, object]:
    """A transaction Bundle creating each resource."""
    entries = [
        {"resource": r, "request": {"method": "POST", "url": str(r["resourceType"])}}
        for r in resources
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _dump(data: object) -> str:
    return json.dumps(data, indent=2) + "\n"


@pytest.fixture(scope="module")
def schema_path() -> str:
    """The official schema; the tests that need it are skipped when it is absent."""
    if not SCHEMA.is_file():
        pytest.skip(f"FHIR R4 JSON Schema not found at {SCHEMA}")
    return str(SCHEMA.resolve())


def _run(repo: GitRepo, **config: object) -> GateReport:
    return FhirGate("fhir", FhirConfig.model_validate(config)).run(make_ctx(repo.path))


def _only(report: GateReport, path: str) -> list[Finding]:
    return [f for f in report.findings if f.path == path]


def _messages(report: GateReport) -> list[str]:
    return [f.message for f in report.findings]


def test_valid_resources_and_transaction_bundle_pass(git_repo: GitRepo, schema_path: str) -> None:
    git_repo.write("fhir/patient.json", _dump(PATIENT))
    git_repo.write("fhir/observation.json", _dump(OBSERVATION))
    git_repo.write("fhir/bundle.json", _dump(_bundle(PATIENT, OBSERVATION)))
    report = _run(git_repo, schema=schema_path)
    assert report.findings == ()
    assert report.summary == "no FHIR problems in 3 FHIR file(s)"
    assert report.metrics["fhir_files"] == 3.0
    assert report.metrics["resources"] == 5.0  # the Bundle's two entries count too
    assert "JSON Schema: " in report.log


def test_each_kind_of_mistake_is_named_with_path_and_line(
    git_repo: GitRepo, schema_path: str
) -> None:
    patient = {
        "resourceType": "Patient",
        "name": [{"family": 3, "given": ["Test"]}],
        "gender": "unknown-value",
        "birthDate": "1970-13-45",
        "favouriteColour": "blue",
    }
    git_repo.write("data/patient.json", _dump(patient))
    git_repo.write("data/observation.json", _dump({"resourceType": "Observation", "code": {}}))
    report = _run(git_repo, schema=schema_path)
    found = {f.message: f for f in _only(report, "data/patient.json")}
    assert set(found) == {
        "Patient.name[0].family: expected a string, got 3",
        "Patient.gender: 'unknown-value' is not one of male, female, other, unknown",
        "Patient.birthDate: '1970-13-45' is not a valid FHIR date",
        "Patient.favouriteColour: unknown element",
    }
    # _dump's two-space indent puts each element on its own line, in insertion order.
    lines = {m.split(":")[0]: (f.line, f.column) for m, f in found.items()}
    assert lines == {
        "Patient.name[0].family": (5, 7),
        "Patient.gender": (11, 3),
        "Patient.birthDate": (12, 3),
        "Patient.favouriteColour": (13, 3),
    }
    gender = found["Patient.gender: 'unknown-value' is not one of male, female, other, unknown"]
    assert (gender.rule_id, gender.tool, gender.level) == ("fhir/schema", "jsonschema", Level.ERROR)
    assert gender.help_uri == "https://hl7.org/fhir/R4/patient.html"
    assert gender.fix_hint and "required binding" in gender.fix_hint
    assert found["Patient.birthDate: '1970-13-45' is not a valid FHIR date"].rule_id == (
        "fhir/structure"
    )
    (missing,) = _only(report, "data/observation.json")
    assert missing.message == "Observation.status: required element is missing"
    assert (missing.rule_id, missing.line) == ("fhir/structure", 1)
    assert report.summary == "5 FHIR problem(s) in 2 of 2 FHIR file(s)"


def test_without_schema_models_still_catch_structure(git_repo: GitRepo) -> None:
    patient = {**PATIENT, "gender": "unknown-value", "birthDate": "1970-13-45", "x": 1}
    git_repo.write("patient.json", _dump(patient))
    report = _run(git_repo)
    assert _messages(report) == [
        "Patient.birthDate: '1970-13-45' is not a valid FHIR date",
        "Patient.x: unknown element",
    ]  # the required binding of gender is the schema's to check
    assert "JSON Schema: not configured" in report.log
    version = FhirGate("fhir", FhirConfig()).tool_version(make_ctx(git_repo.path))
    assert version.startswith("fhir.resources 8.")


def test_schema_catches_what_the_models_let_through(git_repo: GitRepo, schema_path: str) -> None:
    lax = {
        **OBSERVATION,
        "status": "done",
        "valueQuantity": {"value": "72"},
        "category": [{"coding": [{"code": "vital-signs", "userSelected": "yes"}]}],
    }
    git_repo.write("obs.json", _dump(lax))
    report = _run(git_repo, schema=schema_path)
    assert {f.message: f.rule_id for f in report.findings} == {
        "Observation.status: 'done' is not one of registered, preliminary, final, amended, "
        "corrected, cancelled, entered-in-error, unknown": "fhir/schema",
        "Observation.valueQuantity.value: expected a number, got '72'": "fhir/schema",
        "Observation.category[0].coding[0].userSelected: expected true or false, got 'yes'": (
            "fhir/schema"
        ),
    }


def test_bundle_entry_problems_name_the_entry(git_repo: GitRepo, schema_path: str) -> None:
    bad = {**PATIENT, "gender": "F", "name": [{"family": ["Patient"]}]}
    git_repo.write("bundles/tx.json", _dump(_bundle(PATIENT, OBSERVATION, bad, OBSERVATION)))
    report = _run(git_repo, schema=schema_path)
    assert sorted(_messages(report)) == [
        "Bundle.entry[2].resource.gender: 'F' is not one of male, female, other, unknown",
        'Bundle.entry[2].resource.name[0].family: expected a string, got ["Patient"]',
    ]
    text = (git_repo.path / "bundles/tx.json").read_text().splitlines()
    for f in report.findings:
        assert f.line is not None and f.path == "bundles/tx.json"
        key = f.message.split(":")[0].rsplit(".", 1)[-1].split("[")[0]
        assert f'"{key}"' in text[f.line - 1]
        # The flagged line belongs to the third entry: after two Bundle.entry.request urls.
        assert sum('"url"' in line for line in text[: f.line]) == 2
    assert report.metrics["resources"] == 5.0


def test_nested_and_unknown_resource_types(git_repo: GitRepo, schema_path: str) -> None:
    contained = {**PATIENT, "contained": [{"resourceType": "Observation", "code": {"text": "x"}}]}
    git_repo.write("contained.json", _dump(contained))
    git_repo.write("typo.json", _dump({"resourceType": "Pateint", "name": 1}))
    git_repo.write("nested.json", _dump(_bundle({"resourceType": "Observaton"}, PATIENT)))
    report = _run(git_repo, schema=schema_path)
    assert [(f.path, f.rule_id, f.message) for f in report.findings] == [
        ("contained.json", "fhir/structure",
         "Patient.contained[0].status: required element is missing"),
        ("nested.json", "fhir/unknown-resource", "Bundle.entry[0].resource.resourceType: "
         "'Observaton' is not a FHIR R4 resource type (did you mean Observation?)"),
        ("typo.json", "fhir/unknown-resource",
         "resourceType 'Pateint' is not a FHIR R4 resource type (did you mean Patient?)"),
    ]  # fmt: skip
    (typo,) = _only(report, "typo.json")
    assert typo.line == 2 and typo.help_uri == "https://hl7.org/fhir/R4/resourcelist.html"


def test_only_one_choice_element(git_repo: GitRepo) -> None:
    git_repo.write("obs.json", _dump({**OBSERVATION, "valueString": "fast"}))
    (choice,) = _run(git_repo).findings
    assert choice.message == (
        "Observation.value[x]: only one of value[x] is allowed, found valueQuantity, valueString"
    )
    assert choice.line == 1  # the choice has no single place: the resource is meant


def test_invalid_json_is_a_finding_only_where_fhir_is_meant(git_repo: GitRepo) -> None:
    broken = '{\n  "resourceType": "Patient",\n  "name": [\n    {"family": "A"},\n  ]\n}\n'
    git_repo.write("fhir/patient.json", broken)
    git_repo.write("examples/patient.fhir.json", broken)
    git_repo.write("config/settings.json", broken)
    git_repo.write("examples/list.fhir.json", "[1, 2]\n")
    report = _run(git_repo)
    got = {(f.path, f.rule_id, f.line, f.column) for f in report.findings}
    assert got == {
        ("fhir/patient.json", "fhir/invalid-json", 5, 3),
        ("examples/patient.fhir.json", "fhir/invalid-json", 5, 3),
        ("examples/list.fhir.json", "fhir/structure", None, None),
    }
    assert all(
        f.message == "not valid JSON: Expecting value"
        for f in report.findings
        if f.rule_id == "fhir/invalid-json"
    )
    assert report.metrics["fhir_files"] == 3.0


def test_other_json_is_ignored(git_repo: GitRepo) -> None:
    git_repo.write("package.json", '{"name": "web", "version": "1.0.0"}\n')
    git_repo.write("tsconfig.json", '{"compilerOptions": {"strict": true}}\n')
    git_repo.write("docs/schema.json", '{"properties": {"resourceType": {"type": "string"}}}\n')
    git_repo.write("data/list.json", '[{"resourceType": "Patient", "bogus": 1}]\n')
    git_repo.write("notes.txt", '{"resourceType": "Patient", "bogus": 1}\n')
    report = _run(git_repo)
    assert report.findings == ()
    assert report.metrics["fhir_files"] == 0.0
    assert report.summary == "no FHIR problems in 0 FHIR file(s)"


def test_paths_globs_and_exclude_select_files(git_repo: GitRepo) -> None:
    bad = _dump({"resourceType": "Patient", "bogus": 1})
    for rel in ("fhir/a.json", "fhir/sub/b.json", "fixtures/c.json", "other/d.json", "venv/x.json"):
        git_repo.write(rel, bad)
    git_repo.write(".gitignore", "scratch/\n")
    git_repo.write("scratch/f.json", bad)

    def picked(**config: object) -> set[str]:
        gate = FhirGate("fhir", FhirConfig.model_validate(config))
        return {f.path or "" for f in gate.run(make_ctx(git_repo.path)).findings}

    assert picked() == {"fhir/a.json", "fhir/sub/b.json", "fixtures/c.json", "other/d.json"}
    assert picked(paths=["fhir"]) == {"fhir/a.json", "fhir/sub/b.json"}
    # Globs match like `exclude:` everywhere in suture.yml (fnmatch: `*` crosses folders).
    assert picked(paths=["*/sub/*.json", "./fixtures/"]) == {"fhir/sub/b.json", "fixtures/c.json"}
    assert picked(paths=["fhir/a.json"]) == {"fhir/a.json"}
    assert picked(exclude=["fhir/sub", "other"]) == {"fhir/a.json", "fixtures/c.json"}
    gate = FhirGate("fhir", FhirConfig(paths=["other"]))
    assert [p.name for p in gate.input_files(make_ctx(git_repo.path))] == ["d.json"]


def test_fingerprint_follows_the_element_not_the_line(git_repo: GitRepo) -> None:
    data = {"resourceType": "Patient", "active": True, "bogus": 1}
    git_repo.write("p.json", _dump(data))
    before = finish(git_repo.path, _run(git_repo).findings)
    git_repo.write("p.json", json.dumps(data, indent=6))
    after = finish(git_repo.path, _run(git_repo).findings)
    assert [f.line for f in before] == [4] and [f.line for f in after] == [4]
    git_repo.write("p.json", json.dumps(data))
    oneline = finish(git_repo.path, _run(git_repo).findings)
    assert (oneline[0].line, oneline[0].column) == (1, 45)
    assert before[0].fingerprint == after[0].fingerprint == oneline[0].fingerprint


# --- versions ------------------------------------------------------------------------------


def test_r4_types_match_the_official_schema(schema_path: str) -> None:
    loaded = fhir_schema.load(Path(schema_path))
    assert loaded.resource_types == R4_TYPES
    assert fhir_schema.load(Path(schema_path)) is loaded  # prepared once per process


def test_every_type_the_models_check_has_a_model() -> None:
    from fhir.resources.R4B import get_fhir_model_class

    for version in FhirVersion:
        checker = Checker(version, None)
        for kind in checker.types - checker.schema_only:
            assert get_fhir_model_class(kind).get_resource_type() == kind


def test_version_decides_which_types_exist(git_repo: GitRepo, schema_path: str) -> None:
    git_repo.write("topic.json", _dump({"resourceType": "SubscriptionTopic", "status": "active",
                                        "url": "http://example.org/t"}))  # fmt: skip
    git_repo.write("product.json", _dump({"resourceType": "MedicinalProduct", "bogus": 1}))
    r4 = _run(git_repo, schema=schema_path)
    assert {(f.path, f.rule_id) for f in r4.findings} == {
        ("topic.json", "fhir/unknown-resource"),  # added in R4B
        ("product.json", "fhir/schema"),  # R4 only: the schema checks it
    }
    assert "cannot check (MedicinalProduct): schema only" in r4.log
    r4b = _run(git_repo, version="R4B")
    assert [(f.path, f.rule_id) for f in r4b.findings] == [
        ("product.json", "fhir/unknown-resource")
    ]
    assert r4b.findings[0].help_uri == "https://hl7.org/fhir/R4B/resourcelist.html"
    unchecked = _run(git_repo)
    assert "NOT checked: set `schema:`" in unchecked.log


# --- the schema ----------------------------------------------------------------------------


def test_missing_or_wrong_schema_is_a_tool_error(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("p.json", _dump(PATIENT))
    with pytest.raises(ToolError, match="FHIR JSON Schema not found") as err:
        _run(git_repo, schema="nowhere/fhir.schema.json")
    assert err.value.hint and "schema:" in err.value.hint
    (tmp_path / "other.json").write_text('{"type": "object"}')
    with pytest.raises(ToolError, match="is not a FHIR JSON Schema"):
        _run(git_repo, schema=str(tmp_path / "other.json"))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ToolError, match="cannot read the FHIR JSON Schema"):
        _run(git_repo, schema=str(tmp_path / "broken.json"))


def test_schema_path_is_relative_to_the_repository(git_repo: GitRepo, schema_path: str) -> None:
    git_repo.write("spec/fhir.schema.json", Path(schema_path).read_text())
    git_repo.write("p.json", _dump({**PATIENT, "gender": "f"}))
    gate = FhirGate("fhir", FhirConfig.model_validate({"schema": "spec/fhir.schema.json"}))
    (finding,) = gate.run(make_ctx(git_repo.path)).findings
    assert finding.rule_id == "fhir/schema"
    key = gate.extra_cache_inputs(make_ctx(git_repo.path))
    assert str((git_repo.path / "spec/fhir.schema.json").resolve()) in key
    assert gate.tool_version(make_ctx(git_repo.path)).count("jsonschema 4.") == 1


def test_hundreds_of_files_take_seconds(git_repo: GitRepo, schema_path: str) -> None:
    for i in range(150):
        git_repo.write(f"fhir/p{i}.json", _dump({**PATIENT, "id": f"p{i}"}))
        git_repo.write(f"fhir/b{i}.json", _dump(_bundle(PATIENT, OBSERVATION, OBSERVATION)))
    git_repo.write("fhir/bad.json", _dump({**PATIENT, "gender": "x"}))
    fhir_schema.load(Path(schema_path))  # loading the 3 MB schema is a one-off, measured apart
    start = time.perf_counter()
    report = _run(git_repo, schema=schema_path)
    elapsed = time.perf_counter() - start
    assert [f.path for f in report.findings] == ["fhir/bad.json"]
    assert report.metrics["resources"] == 150 + 150 * 4 + 1
    assert elapsed < 10.0, f"{elapsed:.1f} s for 301 files"


# --- endpoints -----------------------------------------------------------------------------


class _App:
    """A real HTTP server on 127.0.0.1 answering fixed bodies per path."""

    def __init__(self, routes: dict[str, tuple[int, str]]) -> None:
        self.routes = routes
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                status, body = app.routes.get(self.path, (404, "{}"))
                raw = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app() -> Iterator[_App]:
    """The "running app": good and bad FHIR answers."""
    bad = {**PATIENT, "gender": "nope", "birthDate": "01/02/1970"}
    server = _App({
        "/Patient/1": (200, json.dumps(PATIENT)),
        "/Patient?family=pat": (200, json.dumps(
            {"resourceType": "Bundle", "type": "searchset", "total": 1,
             "entry": [{"fullUrl": "http://x/Patient/1", "resource": PATIENT,
                        "search": {"mode": "match"}}]})),
        "/Patient/2": (200, json.dumps(bad)),
        "/crash": (500, '{"resourceType": "OperationOutcome"}'),
        "/text": (200, "<html>hello</html>"),
        "/healthz": (200, '{"status": "ok"}'),
    })  # fmt: skip
    yield server
    server.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_endpoints_of_the_running_app_are_checked(
    git_repo: GitRepo, app: _App, schema_path: str
) -> None:
    good = [f"{app.url}/Patient/1", f"{app.url}/Patient?family=pat"]
    gate = FhirGate("fhir", FhirConfig.model_validate({"schema": schema_path, "endpoints": good}))
    assert gate.cacheable is False
    report = gate.run(make_ctx(git_repo.path))
    assert report.findings == ()
    assert report.summary == "no FHIR problems in 0 FHIR file(s) and 2 endpoint(s)"
    assert report.metrics["resources"] == 3.0

    report = _run(git_repo, schema=schema_path, endpoints=[f"{app.url}/Patient/2", *good])
    assert _messages(report) == [
        f"GET {app.url}/Patient/2: Patient.birthDate: '01/02/1970' is not a valid FHIR date",
        f"GET {app.url}/Patient/2: Patient.gender: 'nope' is not one of male, female, other, "
        "unknown",
    ]
    assert all(f.path is None and f.line is None for f in report.findings)
    assert report.summary == "2 FHIR problem(s) in 0 of 0 FHIR file(s) and 1 of 3 endpoint(s)"


def test_broken_endpoints_fail_loudly(git_repo: GitRepo, app: _App) -> None:
    port = _closed_port()
    urls = [f"{app.url}/crash", f"{app.url}/text", f"{app.url}/healthz",
            f"http://127.0.0.1:{port}/metadata"]  # fmt: skip
    start = time.perf_counter()
    report = _run(git_repo, endpoints=urls)
    assert time.perf_counter() - start < 10
    got = {f.rule_id: f for f in report.findings}
    assert set(got) == {
        "fhir/endpoint-status",
        "fhir/invalid-json",
        "fhir/structure",
        "fhir/endpoint-unreachable",
    }
    assert got["fhir/endpoint-status"].message == f"GET {app.url}/crash answered HTTP 500"
    assert got["fhir/invalid-json"].message.startswith(f"GET {app.url}/text: response is not JSON")
    assert got["fhir/structure"].message == (
        f"GET {app.url}/healthz: response is not a FHIR resource (no resourceType)"
    )
    down = got["fhir/endpoint-unreachable"]
    assert down.message.startswith(f"GET http://127.0.0.1:{port}/metadata failed: ")
    assert down.level == Level.ERROR and down.fix_hint and "needs" in down.fix_hint


def test_config_is_strict() -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        FhirConfig(endpoints=["localhost:8000/metadata"])
    with pytest.raises(ValidationError, match="extra"):
        FhirConfig.model_validate({"schemas": "x"})
    with pytest.raises(ValidationError, match="version"):
        FhirConfig.model_validate({"version": "STU3"})
    assert FhirConfig.model_validate({"schema": "s.json"}).schema_path == "s.json"
    assert FhirConfig(schema_path="s.json", paths=["fhir"]).schema_path == "s.json"
    assert "schema" in FhirConfig.model_json_schema()["properties"]  # as suture.yml spells it
    assert FhirGate("fhir", FhirConfig()).cacheable is True


# --- locations -----------------------------------------------------------------------------


def test_locator_points_at_keys_and_items() -> None:
    text = (
        '{"a": "x\\"}{[", "b": [1, {"c": null},\n'
        '  [true, -2.5e3]], "d\\u00e9": {}, \n'
        '"e": "\\u2603 snow"}'
    )
    assert json.loads(text)  # the sample is valid JSON
    where = Locator(text)
    assert where.find(()) == (1, 1)
    assert where.find(("a",)) == (1, 2)
    assert where.find(("b",)) == (1, 17)
    assert where.find(("b", 0)) == (1, 23)
    assert where.find(("b", 1, "c")) == (1, 27)
    assert where.find(("b", 2)) == (2, 3)
    assert where.find(("b", 2, 1)) == (2, 10)
    assert where.find(("dé",)) == (2, 20)
    assert where.find(("dé", "missing", 3)) == (2, 20)  # falls back to the nearest parent
    assert where.find(("e",)) == (3, 1)
    assert where.find(("nope",)) == (1, 1)


def test_example_clinic_api_has_no_fhir_files_to_fail() -> None:
    # The example service builds its resources in code; the gate must pass on it as shipped.
    report = FhirGate("fhir", FhirConfig()).run(make_ctx(EXAMPLE))
    assert report.findings == ()
