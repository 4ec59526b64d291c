"""JUnit XML: parses, counts add up, and each outcome maps to the element publishers expect."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET

from suture.model import Level, StageStatus
from suture.pipeline.reports.junit import render_junit


def _suite(root, name):
    return next(s for s in root.findall("testsuite") if s.get("name") == name)


def test_counts_add_up(sample_run):
    root = SafeET.fromstring(render_junit(sample_run))
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root.findall("testsuite")] == [
        "tests", "lint", "sast", "deps", "migrations", "fhir"]
    # tests 1 passing; lint F401 fail, E501 skip, B006 fail; sast B608 fail, B105 skip,
    # B101 pass; deps 1 error; migrations 1 fail; fhir 1 skipped.
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "10", "4", "1", "3")
    assert root.get("time") == "83.000"
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        for tag, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert suite.get(key) == str(sum(1 for c in cases if c.find(tag) is not None))


def test_findings_become_named_test_cases(sample_run):
    lint = _suite(SafeET.fromstring(render_junit(sample_run)), "lint")
    cases = lint.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "F401 src/clinic/api.py:3:8", "E501 src/clinic/models.py:40:101",
        "B006 src/clinic/dir with space/x.py:7"]
    assert all(c.get("classname") == "lint" for c in cases)
    failure = cases[0].find("failure")
    assert failure.get("message") == "`os` imported but unused"
    assert failure.get("type") == "F401"
    assert "fix: Remove unused import" in failure.text
    assert cases[0].get("file") == "src/clinic/api.py" and cases[0].get("line") == "3"
    assert cases[1].find("skipped").get("message").startswith("baselined:")
    assert "<script>" in cases[2].find("failure").get("message")  # escaped by the serializer


def test_a_warning_in_a_stage_failed_on_errors_does_not_fail(sample_run):
    sast = _suite(SafeET.fromstring(render_junit(sample_run)), "sast")
    b101 = next(c for c in sast.findall("testcase") if c.get("name").startswith("B101"))
    assert b101.find("failure") is None and b101.find("skipped") is None
    assert "Use of assert detected." in b101.find("system-out").text


def test_a_stage_failed_on_warnings_fails_on_them(sample_run):
    sast = sample_run.stages[2]
    warning_only = sast.model_copy(update={"findings": tuple(
        f for f in sast.findings if f.level is Level.WARNING)})
    run = sample_run.model_copy(update={"stages": (warning_only,)})
    root = SafeET.fromstring(render_junit(run))
    assert root.get("failures") == "1"


def test_a_passing_stage_is_one_passing_case(sample_run):
    tests = _suite(SafeET.fromstring(render_junit(sample_run)), "tests")
    (case,) = tests.findall("testcase")
    assert case.get("name") == "tests" and case.get("time") == "3.250"
    assert list(case) == [case.find("system-out")]
    props = {p.get("name"): p.get("value") for p in tests.find("properties")}
    assert props["cached"] == "true" and props["tool_version"] == "pytest 8.3.2"


def test_an_errored_stage_carries_its_log_tail_without_control_characters(sample_run):
    text = render_junit(sample_run)
    assert "\x1b" not in text
    deps = _suite(SafeET.fromstring(text), "deps")
    error = deps.find("testcase/error")
    assert error.get("message") == "the OSV advisory API could not be reached"
    assert "ERROR: ConnectionError: advisory database unreachable" in error.text


def test_a_failed_stage_without_new_findings_still_fails(sample_run):
    lint = sample_run.stages[1]
    only_baselined = lint.model_copy(update={"findings": (lint.findings[1],),
                                             "status": StageStatus.FAILED})
    root = SafeET.fromstring(render_junit(sample_run.model_copy(
        update={"stages": (only_baselined,)})))
    assert root.get("failures") == "1" and root.get("skipped") == "1"


def test_a_clean_run_has_no_failures(clean_run):
    root = SafeET.fromstring(render_junit(clean_run))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
