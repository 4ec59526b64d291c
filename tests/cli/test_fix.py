"""End to end: `suture fix` on real repositories, verified in real worktrees."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from suture import config as config_mod
from suture.fix.engine import fix
from suture.fix.remedies.interface import FixTarget, Proposal, RemedyContext
from suture.model import AttemptStatus
from suture.store import open_store
from tests.fixtures.calc import CALC, CONFIG, CONFTEST, TESTS


def project(git_repo, calc: str = CALC):
    """calc.py with passing tests and a lint gate, committed."""
    git_repo.write("calc.py", calc)
    git_repo.write("tests/test_calc.py", TESTS)
    git_repo.write("tests/conftest.py", CONFTEST)
    git_repo.write("suture.yml", CONFIG)
    git_repo.write(".gitignore", ".suture/\n")
    return git_repo.commit("calc with tests")


def branches(repo) -> list[str]:
    return repo.git("branch", "--list", "suture/fix/*", "--format=%(refname:short)").split()


def test_lint_is_fixed_on_a_branch_and_the_working_tree_is_untouched(git_repo, suture_cli):
    start = project(git_repo, "import os\n" + CALC)
    assert suture_cli(git_repo.path, "run").code == 1

    res = suture_cli(git_repo.path, "fix", "--json")

    assert res.code == 0, res.out
    data = json.loads(res.stdout)
    (attempt,) = data["remedies"]
    assert attempt["remedy"] == "ruff-fix" and attempt["status"] == "accepted"
    assert attempt["files"] == ["calc.py"] and attempt["verification"]["lint passes"]["passed"]
    assert data["branch"] == f"suture/fix/{data['run_id'][:12]}"
    trailers = git_repo.git("log", "-1", "--format=%(trailers)", data["branch"])
    assert f"Suture-Run: {data['run_id']}" in trailers and "Suture-Remedy: ruff-fix" in trailers
    assert "Suture-Diagnosis: lint: lint:" in trailers
    assert "import os" not in git_repo.git("show", f"{data['branch']}:calc.py")
    # the user's branch, index and files are as they were
    assert git_repo.git("rev-parse", "HEAD") == start
    assert git_repo.git("status", "--porcelain") == ""
    assert (git_repo.path / "calc.py").read_text().startswith("import os")
    assert len(git_repo.git("worktree", "list").splitlines()) == 1
    # fixing the same run again is refused: the branch exists
    again = suture_cli(git_repo.path, "fix")
    assert again.code == 2 and "already exists" in again.stderr


def test_apply_fast_forwards_a_clean_tree_and_refuses_a_dirty_one(git_repo, suture_cli):
    project(git_repo, "import os\n" + CALC)
    suture_cli(git_repo.path, "run")
    (git_repo.path / "calc.py").write_text("import os\nimport sys\n" + CALC)

    dirty = suture_cli(git_repo.path, "fix", "--apply")

    assert dirty.code == 2 and "clean working tree" in dirty.stderr
    assert branches(git_repo) == []  # refused before anything was done
    git_repo.git("checkout", "--", "calc.py")
    res = suture_cli(git_repo.path, "fix", "--apply")
    assert res.code == 0, res.out
    assert "import os" not in (git_repo.path / "calc.py").read_text()
    assert git_repo.git("rev-parse", "HEAD") == git_repo.git("rev-parse", branches(git_repo)[0])
    assert suture_cli(git_repo.path, "run").code == 0


def test_regression_is_reverted_to_the_culprits_hunk(git_repo, suture_cli):
    project(git_repo)
    assert suture_cli(git_repo.path, "run").code == 0
    git_repo.write("calc.py", CALC.replace("return a + b", "return a + b + 1")
                   .replace('"""Multiply."""', '"""Multiply two ints."""'))
    culprit = git_repo.commit("tune add, document mul")
    git_repo.write("NOTES.md", "notes\n")
    git_repo.commit("notes")
    assert suture_cli(git_repo.path, "run").code == 1

    res = suture_cli(git_repo.path, "fix", "--json")

    assert res.code == 0, res.out
    data = json.loads(res.stdout)
    accepted = [a for a in data["remedies"] if a["status"] == "accepted"]
    assert [a["remedy"] for a in accepted] == ["culprit-revert"]
    fixed = git_repo.git("show", f"{data['branch']}:calc.py")
    assert "return a + b\n" in fixed and "Multiply two ints" in fixed  # only the bad hunk
    assert culprit[:10] in accepted[0]["summary"]
    checks = accepted[0]["verification"]
    assert checks["tests pass twice"]["passed"] and checks["tests not weakened"]["passed"]


def test_what_no_remedy_fixes_is_escalated(git_repo, suture_cli):
    project(git_repo, CALC.replace("return a * b", "return a * b + 0 if a else 1"))
    git_repo.write("tests/test_calc.py",
                   TESTS + "\n\ndef test_zero():\n    assert mul(0, 5) == 0\n")
    git_repo.commit("zero case")
    assert suture_cli(git_repo.path, "run").code == 1

    res = suture_cli(git_repo.path, "fix", "--json", "-r", "ruff-fix", "--report", "fix.md")

    assert res.code == 1
    (esc,) = json.loads(res.stdout)["remedies"]
    assert esc["status"] == "escalated" and esc["stage"] == "tests"
    assert "no remedy applies" in esc["reason"]
    report = (git_repo.path / "fix.md").read_text()
    assert "Needs a person" in report and "test\\_zero" in report
    assert "1. Why did the tests gate fail?" in report
    human = suture_cli(git_repo.path, "runs")  # the store is still readable
    assert human.code == 0


def test_nothing_to_fix_and_bad_arguments(git_repo, suture_cli):
    assert suture_cli(git_repo.path, "fix").code == 2  # no runs
    project(git_repo)
    suture_cli(git_repo.path, "run")
    ok = suture_cli(git_repo.path, "fix")
    assert ok.code == 0 and "nothing to fix" in ok.stdout
    git_repo.write("calc.py", "import os\n" + CALC)
    git_repo.commit("unused import")
    suture_cli(git_repo.path, "run")
    bad = suture_cli(git_repo.path, "fix", "-r", "magic")
    assert bad.code == 2 and "unknown remedy magic" in bad.stderr


class _Hostile:
    """A remedy that 'fixes' a failing test by weakening or deleting tests, or escaping."""

    name = "hostile"

    def __init__(self, edits: list[dict[str, str | None]]) -> None:
        self.edits = edits

    def applies(self, target: FixTarget) -> bool:
        return target.stage.kind == "tests"

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        for edit in self.edits:
            for rel, text in edit.items():
                path = workdir / rel
                if text is None:
                    path.unlink()
                elif text.startswith("->"):
                    path.symlink_to(text[2:])
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text)
            yield Proposal(summary=f"hostile edit of {', '.join(edit)}", rationale="because")


@pytest.fixture
def failing(git_repo, suture_cli):
    """A repo whose test_add fails at its only commit; returns (repo, run)."""
    project(git_repo, CALC.replace("return a + b", "return a - b"))
    suture_cli(git_repo.path, "run")
    with open_store(git_repo.path) as store:
        run = store.get_run(store.list_runs(limit=1)[0].run_id)
    return git_repo, run


def test_weakening_or_escaping_candidates_are_rejected(failing):
    repo, run = failing
    weakened_assert = TESTS.replace("    assert add(2, 2) == 4\n", "    add(2, 2)\n")
    skipped = TESTS.replace("def test_add", "import pytest\n\n\n@pytest.mark.skip\ndef test_add")
    edits: list[dict[str, str | None]] = [
        {"tests/test_calc.py": None},
        {"tests/test_calc.py": weakened_assert},
        {"tests/test_calc.py": skipped},
        {"tests/test_calc.py": TESTS.replace("def test_add():\n    assert add(2, 2) == 4\n\n\n",
                                             "")},
        {"suture.yml": "gates: {}\n"},
        {"tests/conftest.py": CONFTEST + "collect_ignore = ['test_calc.py']\n"},
        {"evil_link": "->/etc/passwd"},
        {"calc.py": CALC.replace("return a + b", "return a - b") + "\nprint('noop')\n"},
    ]
    config = config_mod.load(repo.path)

    report = fix(repo.path, run, [], config, sys.executable, remedies=[_Hostile(edits)])

    reasons = [a.reason for a in report.attempts if a.status == AttemptStatus.REJECTED]
    assert len(reasons) == len(edits), reasons
    assert "test file deleted" in reasons[0]
    assert "assertion(s) removed" in reasons[1]
    assert "skip added" in reasons[2]
    assert "test removed" in reasons[3]
    assert "suture.yml" in reasons[4]
    assert "conftest.py" in reasons[5]
    assert "symbolic link" in reasons[6]
    assert reasons[7].startswith("tests passes")  # a change that fixes nothing
    assert report.head is None and report.escalated == ("tests",)
    assert branches(repo) == [] and repo.git("status", "--porcelain") == ""
    assert len(repo.git("worktree", "list").splitlines()) == 1


def _wheel(folder: Path, name: str, version: str, module_source: str) -> Path:
    """A minimal pure-Python wheel, built by hand: what a package index would serve."""
    import base64
    import hashlib
    import zipfile

    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": module_source,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: suture-tests\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def test_a_missing_dependency_is_declared_and_verified_by_installing_it(git_repo, suture_cli,
                                                                         tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    _wheel(index, "tinydep", "1.0", "def double(x):\n    return 2 * x\n")
    git_repo.write("calc.py", CALC + "\n\ndef twice(x):\n    from tinydep import double\n\n"
                   "    return double(x)\n")
    git_repo.write("tests/test_twice.py", "from calc import twice\n\n\ndef test_twice():\n"
                   "    assert twice(4) == 8\n")
    project(git_repo, (git_repo.path / "calc.py").read_text())
    git_repo.write("requirements.txt", "# runtime\n")
    git_repo.commit("requirements")
    assert suture_cli(git_repo.path, "run").code == 1
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(index)}  # a local index, no network

    res = suture_cli(git_repo.path, "fix", "--json", "-r", "missing-dependency", env=env)

    assert res.code == 0, res.out
    (attempt,) = json.loads(res.stdout)["remedies"]
    assert attempt["status"] == "accepted", attempt
    assert attempt["verification"]["declared dependency installs"]["passed"]
    branch = json.loads(res.stdout)["branch"]
    assert "tinydep" in git_repo.git("show", f"{branch}:requirements.txt")


def test_security_findings_are_fixed_one_commit_each(git_repo, suture_cli):
    git_repo.write("app/loader.py", '''"""Loading settings."""

import requests
import yaml


def settings(path):
    """The settings in a YAML file."""
    with open(path) as fh:
        return yaml.load(fh, Loader=yaml.Loader)  # settings are ours


def fetch(url):
    """A remote document."""
    return requests.get(url).json()
''')
    git_repo.write("suture.yml", "gates:\n  sast:\n    paths: [app]\n")
    git_repo.write(".gitignore", ".suture/\n")
    git_repo.commit("loader")
    assert suture_cli(git_repo.path, "run").code == 1

    res = suture_cli(git_repo.path, "fix", "--json")

    assert res.code == 0, res.out
    data = json.loads(res.stdout)
    accepted = [a for a in data["remedies"] if a["status"] == "accepted"]
    assert [a["remedy"] for a in accepted] == ["security-codemod", "security-codemod"]
    assert "sast improves" in accepted[0]["verification"]  # one finding fixed, one left
    assert accepted[1]["verification"]["sast passes"]["passed"]
    fixed = git_repo.git("show", f"{data['branch']}:app/loader.py")
    assert "yaml.safe_load(fh)  # settings are ours" in fixed
    assert "requests.get(url, timeout=30)" in fixed
    log = git_repo.git("log", "--format=%s", f"HEAD..{data['branch']}")
    assert len(log.splitlines()) == 2


def test_run_heal_runs_diagnoses_and_fixes_in_one_go(git_repo, suture_cli):
    project(git_repo, "import os\n" + CALC)

    res = suture_cli(git_repo.path, "run", "--heal")

    assert res.code == 0, res.out
    assert "lint: lint" in res.stdout  # the diagnosis
    assert "fixed lint with ruff-fix" in res.stdout
    (name,) = branches(git_repo)
    assert "import os" not in git_repo.git("show", f"{name}:calc.py")
    assert (git_repo.path / "calc.py").read_text().startswith("import os")
