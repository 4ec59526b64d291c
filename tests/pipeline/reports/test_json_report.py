"""The JSON report contract: exact keys, status mapping, UTC times and reading it back."""

from __future__ import annotations

import json
import math

import pytest

from suture.errors import UsageError
from suture.model import SCHEMA_VERSION, RunStatus
from suture.pipeline.reports.json_report import render_json, run_from_json

RUN_KEYS = ["schema_version", "run_id", "status", "commit", "branch", "dirty", "started_at",
            "duration_s", "suture_version", "stages"]
STAGE_KEYS = ["name", "kind", "status", "duration_s", "cached", "summary", "metrics",
              "tool_version", "findings"]
FINDING_KEYS = ["rule_id", "level", "message", "path", "line", "column", "tool", "cwe",
                "fingerprint", "fix_hint", "baselined"]


def test_keys_are_exactly_the_contract(sample_run):
    data = json.loads(render_json(sample_run))
    assert list(data) == RUN_KEYS
    assert data["schema_version"] == SCHEMA_VERSION
    for stage in data["stages"]:
        assert list(stage) == STAGE_KEYS
        for finding in stage["findings"]:
            assert list(finding) == FINDING_KEYS


def test_values_are_plain_json(sample_run):
    data = json.loads(render_json(sample_run))
    assert data["status"] == "failed"
    assert data["started_at"] == "2026-01-02T09:30:15Z"
    assert data["commit"] == sample_run.commit and data["dirty"] is True
    lint = next(s for s in data["stages"] if s["name"] == "lint")
    assert lint["status"] == "failed" and lint["cached"] is False
    f401 = lint["findings"][0]
    assert (f401["rule_id"], f401["level"], f401["path"], f401["line"], f401["column"]) == (
        "F401", "error", "src/clinic/api.py", 3, 8)
    assert [f["baselined"] for f in lint["findings"]] == [False, True, False]
    migrations = next(s for s in data["stages"] if s["name"] == "migrations")
    assert migrations["findings"][0]["path"] is None
    assert migrations["findings"][0]["cwe"] is None
    tests = next(s for s in data["stages"] if s["name"] == "tests")
    assert tests["cached"] is True and tests["metrics"]["coverage"] == 91.5


def test_a_run_still_running_reports_error(sample_run):
    interrupted = sample_run.model_copy(update={"status": RunStatus.RUNNING})
    assert json.loads(render_json(interrupted))["status"] == "error"


def test_round_trip_keeps_everything_the_contract_carries(sample_run):
    text = render_json(sample_run)
    back = run_from_json(text)
    assert render_json(back) == text
    assert back.status is RunStatus.FAILED
    assert back.started_at == sample_run.started_at
    assert [s.name for s in back.stages] == [s.name for s in sample_run.stages]
    lint, original = back.stages[1], sample_run.stages[1]
    assert lint.status is original.status and lint.metrics == original.metrics
    assert [f.model_dump(exclude={"end_line", "help_uri", "snippet"}) for f in lint.findings] == [
        f.model_dump(exclude={"end_line", "help_uri", "snippet"}) for f in original.findings]
    assert back.stages[1].new_findings == back.stages[1].findings[0::2]


def test_non_finite_metrics_stay_valid_json(sample_run):
    stage = sample_run.stages[0].model_copy(update={"metrics": {"coverage": math.nan,
                                                                "tests": 3.0}})
    run = sample_run.model_copy(update={"stages": (stage,)})
    text = render_json(run)
    assert "NaN" not in text
    assert run_from_json(text).stages[0].metrics == {"tests": 3.0}


@pytest.mark.parametrize(("text", "words"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "no schema_version"),
    ('{"schema_version": 999}', "schema version 999"),
    (json.dumps({"schema_version": SCHEMA_VERSION, "run_id": "x"}), "contract"),
])
def test_reading_a_broken_report_names_the_problem(text, words):
    with pytest.raises(UsageError) as err:
        run_from_json(text, source="out/report.json")
    assert words in str(err.value) and "out/report.json" in str(err.value)
    assert err.value.hint
