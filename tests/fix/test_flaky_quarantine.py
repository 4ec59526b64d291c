"""flaky-quarantine on a real repository: flaky tests keep running but stop failing the build."""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from suture.errors import ConfigError
from suture.fix.remedies.flaky_quarantine import RECORD_NAME, FlakyQuarantine
from suture.model import Category, Diagnosis, Evidence, EvidenceKind, Finding, Level, Why
from tests.fixtures.fix import make_context, make_target, proposals

RUFF = str(Path(sys.executable).with_name("ruff"))
TODAY = date(2026, 12, 1)

WARD = '''\
"""Ward admission tests."""

import os

from clinic.ward import admit


def flaky() -> bool:
    return os.environ.get("FLAKE") == "1"


def test_admit_function():
    assert admit("a") == "a"
    assert not flaky()


class TestWard:
    def test_admit_method(self):  # the flaky one
        assert not flaky()

    def test_stable(self):
        assert admit("b") == "b"
'''
DOSE = '''\
import os

import pytest


@pytest.mark.parametrize("n", [1, 2])
def test_dose(n):
    assert not (n == 2 and os.environ.get("FLAKE") == "1")


def test_other():
    assert True
'''
OLD_ENTRY = {"test_id": "tests/test_legacy.py::test_old", "reason": "kept as it was",
             "evidence": ["1/5 isolated runs failed"], "run_id": "f" * 32,
             "quarantined_on": "2026-11-01", "expires_on": "2026-11-15", "owner": "ward team"}
STALE_ENTRY = {**OLD_ENTRY, "test_id": "tests/test_ward.py::test_admit_function",
               "expires_on": "2026-11-20"}

FLAKY = {"tests/test_ward.py::test_admit_function": (2, 5),
         "tests/test_ward.py::TestWard::test_admit_method": (1, 5),
         "tests/test_dose.py::test_dose[2]": (3, 5)}


def flaky_diagnosis(counts: dict[str, tuple[int, int]]) -> Diagnosis:
    """Shaped like why_tests: failing tests, then isolated re-run counts per test."""
    ids = list(counts)
    flaky = [i for i, (k, n) in counts.items() if 0 < k < n]
    return Diagnosis(
        stage="tests", category=Category.FLAKY_TEST, confidence=0.85,
        root_cause=f"{', '.join(flaky)} fails intermittently: the code did not change between runs",
        chain=(
            Why(question="Why did the tests gate fail?", answer=f"{len(ids)} test(s) failed",
                evidence=tuple(Evidence(kind=EvidenceKind.TEST, ref=i, text=f"{i} failed: boom")
                               for i in ids)),
            Why(question="Is the failure deterministic, or is a test flaky?", answer="...",
                evidence=tuple(Evidence(kind=EvidenceKind.TEST, ref=i,
                                        text=f"{k}/{n} isolated runs failed")
                               for i, (k, n) in counts.items())),
        ))


def failed(test_id: str) -> Finding:
    return Finding(rule_id="tests/failed", level=Level.ERROR, tool="pytest",
                   message=f"{test_id} failed: assert False", path=test_id.split("::")[0],
                   fingerprint=f"test:{test_id}")


def make_repo(git_repo):
    git_repo.write("clinic/__init__.py", "")
    git_repo.write("clinic/ward.py", "def admit(name):\n    return name\n")
    git_repo.write("tests/test_ward.py", WARD)
    git_repo.write("tests/test_dose.py", DOSE)
    git_repo.write("suture.yml", "gates:\n  tests:\n    paths: [tests]\n")
    git_repo.write(RECORD_NAME, json.dumps({"schema_version": 1,
                                            "tests": [OLD_ENTRY, STALE_ENTRY]}, indent=2))
    git_repo.commit("ward")
    return git_repo


def pytest_run(cwd: Path, *args: str, flake: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLAKE": "1" if flake else "0"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args,
                           "tests"], cwd=cwd, env=env, capture_output=True, text=True)


def collected(cwd: Path) -> int:
    out = pytest_run(cwd, "--collect-only", "-q", flake=False).stdout
    return int(re.search(r"(\d+) tests? collected", out).group(1))


def test_flaky_tests_are_quarantined_still_run_and_no_longer_fail_the_build(git_repo):
    repo = make_repo(git_repo)
    before = pytest_run(repo.path, flake=True)
    assert before.returncode == 1 and "3 failed" in before.stdout, before.stdout
    count = collected(repo.path)
    diagnosis = flaky_diagnosis({**FLAKY, "tests/test_ward.py::TestWard::test_stable": (0, 5)})
    target = make_target("tests", [failed(i) for i in FLAKY], diagnosis=diagnosis)
    remedy = FlakyQuarantine(today=TODAY)
    assert remedy.applies(target)

    [(proposal, files)] = proposals(remedy, target, repo.path, make_context(repo.path))

    assert proposal.quarantined == tuple(FLAKY)
    assert set(proposal.addresses) == {f"test:{i}" for i in FLAKY}
    assert proposal.summary == "Quarantine 3 flaky tests until 2026-12-15"
    assert "2 of 5" in proposal.rationale or "failed 2 of 5" in proposal.rationale
    assert set(files) == {"tests/test_ward.py", "tests/test_dose.py", RECORD_NAME}
    ward, dose = files["tests/test_ward.py"], files["tests/test_dose.py"]
    reason = ('reason="quarantined by suture until 2026-12-15: "\n'
              '    "flaky (2 of 5 isolated runs failed); "\n'
              '    "see suture-quarantine.json",')
    assert reason in ward
    assert ward.count("@pytest.mark.xfail(") == 2  # the function and the method; not test_stable
    assert "    @pytest.mark.xfail(\n        strict=False,\n" in ward  # indented in the class
    assert "import os\n\nimport pytest\n\nfrom clinic.ward import admit\n" in ward
    assert dose.count("import pytest") == 1 and dose.count("@pytest.mark.xfail(") == 1
    assert dose.index("@pytest.mark.xfail(") < dose.index("@pytest.mark.parametrize")
    assert "3 of 5 isolated runs failed" in dose
    # Everything else in the files is as it was: only the marker (and import) were added.
    for before_text, after_text in ((WARD, ward), (DOSE, dose)):
        diff = difflib.ndiff(before_text.splitlines(), after_text.splitlines())
        assert not [line for line in diff if line.startswith("- ")]

    record = json.loads(files[RECORD_NAME])
    assert record["schema_version"] == 1
    by_id = {t["test_id"]: t for t in record["tests"]}
    assert list(by_id) == [OLD_ENTRY["test_id"], *FLAKY]  # kept, renewed in place, added
    assert by_id[OLD_ENTRY["test_id"]] == OLD_ENTRY  # untouched, unknown fields included
    renewed = by_id["tests/test_ward.py::test_admit_function"]
    assert renewed["quarantined_on"] == "2026-12-01" and renewed["expires_on"] == "2026-12-15"
    assert renewed["run_id"] == target.run.run_id
    assert "2/5 isolated runs failed" in renewed["evidence"]
    assert renewed["reason"].startswith("quarantined by suture until 2026-12-15")

    for name, text in files.items():
        (repo.path / name).write_text(text or "")
    lint = subprocess.run([RUFF, "check", "--isolated", "--select", "I,E501,F",
                           "--config", 'lint.isort.known-first-party=["clinic"]',
                           "tests/test_ward.py", "tests/test_dose.py"],
                          cwd=repo.path, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    assert collected(repo.path) == count  # nothing deleted, nothing deselected
    failing = pytest_run(repo.path, "-rxX", flake=True)
    assert failing.returncode == 0, failing.stdout
    assert "3 xfailed" in failing.stdout and "quarantined by suture until" in failing.stdout
    passing = pytest_run(repo.path, "-rxX", flake=False)
    assert passing.returncode == 0 and "xpassed" in passing.stdout, passing.stdout


def test_one_test_summary_renewal_and_a_test_someone_else_marked(git_repo):
    repo = make_repo(git_repo)
    test_id = "tests/test_ward.py::test_admit_function"
    target = make_target("tests", [failed(test_id)],
                         diagnosis=flaky_diagnosis({test_id: (2, 5)}))
    ctx = make_context(repo.path)

    [(first, files)] = proposals(FlakyQuarantine(today=TODAY), target, repo.path, ctx)
    # The full id would make the subject longer than 72 characters: the function names it.
    assert first.summary == "Quarantine flaky test test_admit_function until 2026-12-15"

    # Quarantined again later (the record expired): the marker is renewed, not stacked.
    repo.write("tests/test_ward.py", files["tests/test_ward.py"])
    repo.commit("quarantine")
    [(again, files2)] = proposals(FlakyQuarantine(today=date(2027, 1, 10)), target, repo.path,
                                  ctx)
    ward = files2["tests/test_ward.py"]
    assert ward.count("@pytest.mark.xfail(") == 1 and "until 2027-01-24" in ward
    assert ward.count("import pytest") == 1

    # A test the team already marked xfail themselves is left to them: nothing to propose.
    repo.write("tests/test_ward.py", WARD.replace(
        "import os\n", "import os\n\nimport pytest\n").replace(
        "def test_admit_function", '@pytest.mark.xfail(reason="tracked in JIRA-12")\n'
        "def test_admit_function"))
    repo.commit("marked by hand")
    assert proposals(FlakyQuarantine(today=TODAY), target, repo.path, ctx) == []


def test_applies_only_to_flaky_diagnoses_and_missing_tests_are_skipped(git_repo):
    repo = make_repo(git_repo)
    remedy = FlakyQuarantine(today=TODAY)
    regression = flaky_diagnosis(FLAKY).model_copy(update={"category": Category.REGRESSION})
    assert not remedy.applies(make_target("tests", diagnosis=regression))
    assert not remedy.applies(make_target("tests"))
    # Ids whose file or function is not there (renamed since) produce no candidate.
    gone = {"tests/test_gone.py::test_x": (1, 5), "tests/test_ward.py::test_renamed": (1, 5),
            "../outside.py::test_x": (1, 5)}
    target = make_target("tests", diagnosis=flaky_diagnosis(gone))
    assert proposals(remedy, target, repo.path, make_context(repo.path)) == []
    assert repo.git("status", "--porcelain") == ""

    # A record file suture cannot read stops it before any test file is touched.
    repo.write(RECORD_NAME, '{"schema_version": 1, "tests": "all of them"}')
    repo.commit("broken record")
    target = make_target("tests", diagnosis=flaky_diagnosis(FLAKY))
    with pytest.raises(ConfigError, match=RECORD_NAME) as info:
        proposals(remedy, target, repo.path, make_context(repo.path))
    assert "delete it" in (info.value.hint or "")
    assert repo.git("status", "--porcelain") == ""
