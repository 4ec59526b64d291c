"""End to end: `suture why` on real repositories with real histories."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.calc import CALC, CONFIG, CONFTEST, TESTS


@pytest.fixture
def history(git_repo, suture_cli):
    """A passing run at commit 1, then four commits of which the third breaks add()."""
    git_repo.write("calc.py", CALC)
    git_repo.write("tests/test_calc.py", TESTS)
    git_repo.write("tests/conftest.py", CONFTEST)
    git_repo.write("suture.yml", CONFIG)
    git_repo.write(".gitignore", ".suture/\n")
    shas = [git_repo.commit("calc with tests")]
    assert suture_cli(git_repo.path, "run").code == 0
    git_repo.write("README.md", "# calc\n")
    shas.append(git_repo.commit("docs"))
    git_repo.write("calc.py", CALC.replace('"""Multiply."""', '"""Multiply two ints."""'))
    shas.append(git_repo.commit("docstring"))
    git_repo.write("calc.py", CALC.replace("return a + b", "return a + b + 1")
                   .replace('"""Multiply."""', '"""Multiply two ints."""'))
    shas.append(git_repo.commit("tune add"))
    git_repo.write("NOTES.md", "notes\n")
    shas.append(git_repo.commit("notes"))
    return git_repo, shas


def test_regression_names_the_culprit_commit(history, suture_cli):
    repo, shas = history
    run = suture_cli(repo.path, "run")
    assert run.code == 1
    res = suture_cli(repo.path, "why", "--json")
    assert res.code == 0, res.out
    data = json.loads(res.stdout)
    (d,) = data["diagnoses"]
    assert d["stage"] == "tests"
    assert d["category"] == "regression"
    assert d["culprit_commit"] == shas[3]
    assert "tune add" in d["root_cause"]
    assert not d["escalated"]
    questions = [w["question"] for w in d["chain"]]
    assert questions[0] == "Why did the tests gate fail?"
    hunk = [e["text"] for w in d["chain"] for e in w["evidence"] if e["kind"] == "code"]
    assert any("return a + b + 1" in h for h in hunk)
    assert d["test_executions"] > 0
    # the working tree is untouched and no worktree is left behind
    assert repo.git("status", "--porcelain") == ""
    assert len(repo.git("worktree", "list").splitlines()) == 1


def test_human_output_and_stored_with_the_run(history, suture_cli):
    repo, shas = history
    suture_cli(repo.path, "run")
    res = suture_cli(repo.path, "why")
    assert "root cause:" in res.stdout and shas[3] in res.stdout
    assert "regression" in res.stdout


def test_lint_failure_is_explained_from_findings(git_repo, suture_cli):
    git_repo.write("calc.py", "import os\n" + CALC)
    git_repo.write("suture.yml", "gates:\n  lint: {}\n")
    sha = git_repo.commit("add unused import")
    assert suture_cli(git_repo.path, "run").code == 1
    data = json.loads(suture_cli(git_repo.path, "why", "--json").stdout)
    (d,) = data["diagnoses"]
    assert d["category"] == "lint"
    assert "calc.py:1" in d["root_cause"]
    assert d["culprit_commit"] == sha


def test_missing_dependency(git_repo, suture_cli):
    git_repo.write("tests/test_x.py", "import definitely_absent_pkg\n\n\ndef test_x():\n    pass\n")
    git_repo.write("suture.yml", "gates:\n  tests:\n    paths: [tests]\n    min_coverage: null\n")
    git_repo.commit("x")
    suture_cli(git_repo.path, "run")
    d = json.loads(suture_cli(git_repo.path, "why", "--json").stdout)["diagnoses"][0]
    assert d["category"] == "missing-dependency"
    assert "definitely_absent_pkg" in d["root_cause"]


def test_nothing_to_diagnose(git_repo, suture_cli):
    assert suture_cli(git_repo.path, "why").code == 2  # no runs at all
    git_repo.write("suture.yml", "gates:\n  ok:\n    kind: command\n    run: 'true'\n")
    git_repo.commit("x")
    suture_cli(git_repo.path, "run")
    res = suture_cli(git_repo.path, "why")
    assert res.code == 0 and "nothing to diagnose" in res.stdout


def test_tool_error_is_environment(git_repo, suture_cli):
    git_repo.write("suture.yml", "gates:\n  ghost:\n    kind: command\n    run: no-such-tool-x\n")
    git_repo.commit("x")
    suture_cli(git_repo.path, "run")
    d = json.loads(suture_cli(git_repo.path, "why", "--json").stdout)["diagnoses"][0]
    assert d["category"] == "environment"


def test_run_with_why_explains_the_failure(history, suture_cli):
    repo, shas = history
    res = suture_cli(repo.path, "run", "--why")
    assert res.code == 1
    assert "root cause:" in res.stdout and shas[3][:10] in res.stdout


def test_no_tests_collected_is_a_config_error(git_repo, suture_cli):
    git_repo.write("tests/helpers.py", "VALUE = 1\n")
    git_repo.write("suture.yml", "gates:\n  tests:\n    paths: [tests]\n    min_coverage: null\n")
    git_repo.commit("helpers but no tests")
    assert suture_cli(git_repo.path, "run").code == 1
    res = suture_cli(git_repo.path, "why", "--json")
    assert res.code == 0, res.out
    (d,) = json.loads(res.stdout)["diagnoses"]
    assert d["category"] == "config-error"
    assert "tests" in d["root_cause"] and not d["escalated"]
