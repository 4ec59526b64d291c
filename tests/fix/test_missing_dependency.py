"""missing-dependency on real repositories with real interpreters (suture's and an empty venv)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from suture.fix.remedies.interface import FixTarget
from suture.fix.remedies.missing_dependency import (
    Distribution,
    MissingDependency,
    declare,
    resolve,
)
from suture.model import Category, Diagnosis, Finding, Level
from tests.fixtures.fix import make_context, make_target, proposals
from tests.fixtures.git import GitRepo

SUTURE_YML = "gates:\n  tests:\n    paths: [tests]\n"
YAML_VERSION = version("PyYAML")


@pytest.fixture
def empty_python(tmp_path: Path) -> str:
    """An interpreter with nothing installed: a venv without pip."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")],
                   check=True)
    return str(tmp_path / "venv" / "bin" / "python")


def failing(*modules: str, diagnosed: str | None = None, log: str = "") -> FixTarget:
    """A tests stage whose tests failed importing `modules`, optionally with its diagnosis."""
    found = [Finding(rule_id="tests/failed", level=Level.ERROR, tool="pytest",
                     message=f"tests/test_app.py::test_{i} failed: ModuleNotFoundError: No module "
                     f"named '{m}'", path="tests/test_app.py", line=3, fingerprint=f"fp-{m}")
             for i, m in enumerate(modules)]
    diagnosis = None
    if diagnosed is not None:
        diagnosis = Diagnosis(stage="tests", category=Category.MISSING_DEPENDENCY,
                              root_cause=f"module '{diagnosed}' is not installed in the "
                              "project's environment")
    return make_target("tests", found, diagnosis=diagnosis, log=log)


def repo_with(git_repo: GitRepo, files: dict[str, str]) -> GitRepo:
    git_repo.write("suture.yml", SUTURE_YML)
    git_repo.write("tests/test_app.py", "import yaml\n\n\ndef test_0():\n    assert yaml\n")
    for rel, text in files.items():
        git_repo.write(rel, text)
    git_repo.commit("project")
    return git_repo


def test_pinned_requirements_get_the_installed_version_in_name_order(git_repo: GitRepo) -> None:
    repo = repo_with(git_repo, {"requirements.txt": "# runtime\nclick==8.1.7\nrequests==2.31.0\n"})
    target = failing("yaml", diagnosed="yaml")
    remedy = MissingDependency()
    assert remedy.applies(target)
    (proposal, changed), = proposals(remedy, target, repo.path, make_context(repo.path))
    assert changed == {
        "requirements.txt": f"# runtime\nclick==8.1.7\nPyYAML=={YAML_VERSION}\nrequests==2.31.0\n"
    }
    assert proposal.summary == "Declare PyYAML (imported as yaml) in requirements.txt"
    assert proposal.addresses == ("fp-yaml",)
    assert "ModuleNotFoundError: No module named 'yaml'" in proposal.rationale
    assert f"installed in the project's environment ({sys.executable})" in proposal.rationale
    assert f"the file pins with ==; {YAML_VERSION} is the version installed" in proposal.rationale
    assert "does not install it" in proposal.rationale
    assert proposal.rationale.endswith("pip install -r requirements.txt")


def test_not_installed_for_the_project_stays_unpinned_and_the_table_names_it(
    git_repo: GitRepo, empty_python: str
) -> None:
    repo = repo_with(git_repo, {"requirements.txt": "requests==2.31.0\nclick==8.1.7"})
    log = "E   ModuleNotFoundError: No module named 'sklearn'\n"
    target = failing("yaml", log=log)
    remedy = MissingDependency()
    assert remedy.applies(target)
    found = proposals(remedy, target, repo.path, make_context(repo.path, python=empty_python))
    assert [(p.summary, files) for p, files in found] == [
        ("Declare PyYAML (imported as yaml) in requirements.txt",
         {"requirements.txt": "requests==2.31.0\nclick==8.1.7\nPyYAML\n"}),
        ("Declare scikit-learn (imported as sklearn) in requirements.txt",
         {"requirements.txt": "requests==2.31.0\nclick==8.1.7\nscikit-learn\n"}),
    ]
    yaml_, sklearn = (p for p, _ in found)
    assert "installed in suture's environment" in yaml_.rationale
    assert "unpinned although the file uses ==: PyYAML is not installed" in yaml_.rationale
    assert "suture's table of import names" in sklearn.rationale
    assert sklearn.addresses == ()  # only the log named it


def test_stdlib_local_declared_hashed_and_misread_modules_are_refused(git_repo: GitRepo) -> None:
    repo = repo_with(git_repo, {
        "requirements.txt": "pyyaml>=6  # config\n",
        "src/helpers/__init__.py": "",
        "tools/fhirutil.py": "",
    })
    remedy = MissingDependency()
    ctx = make_context(repo.path)
    cases = [
        failing("distutils"),  # standard library: removed in 3.12, not a PyPI package
        failing("helpers.dates"),  # the repository's own package: a path problem
        failing("fhirutil"),  # the repository's own module
        failing("yaml"),  # already declared: installing is the fix, not declaring
    ]
    for target in cases:
        assert remedy.applies(target)
        assert proposals(remedy, target, repo.path, ctx) == []
    # "cannot import name" is filed as a missing dependency, but names no module
    misread = make_target("tests", [Finding(
        rule_id="tests/failed", level=Level.ERROR, tool="pytest",
        message="tests/test_app.py::test_0 failed: ImportError: cannot import name 'dump' from "
        "'json'")], diagnosis=Diagnosis(stage="tests", category=Category.MISSING_DEPENDENCY,
                                        root_cause="module 'dump' is not installed in the "
                                        "project's environment"))
    assert remedy.applies(misread)
    assert proposals(remedy, misread, repo.path, ctx) == []
    assert not remedy.applies(make_target("tests", log="AssertionError: 1 != 2"))

    (repo.path / "requirements.txt").write_text("click==8.1.7 --hash=sha256:00ff\n")
    repo.commit("hash-checking mode")
    assert proposals(remedy, failing("bs4"), repo.path, ctx) == []


def test_pyproject_dependencies_keep_their_layout(git_repo: GitRepo) -> None:
    repo = repo_with(git_repo, {"pyproject.toml": """\
        [project]
        name = "clinic"
        version = "1.0"
        dependencies = [
            "click>=8.1",  # CLI
            "requests>=2.31",
        ]

        [project.urls]
        home = "https://example.test"
        """})
    (proposal, changed), = proposals(MissingDependency(), failing("yaml", diagnosed="yaml"),
                                     repo.path, make_context(repo.path))
    assert changed == {"pyproject.toml": f"""\
[project]
name = "clinic"
version = "1.0"
dependencies = [
    "click>=8.1",  # CLI
    "PyYAML>={YAML_VERSION}",
    "requests>=2.31",
]

[project.urls]
home = "https://example.test"
"""}
    assert proposal.summary == "Declare PyYAML (imported as yaml) in pyproject.toml"
    assert proposal.rationale.endswith("pip install -e .")


@pytest.mark.parametrize(("before", "after"), [
    # unsorted, no trailing comma: the old last item gains one, the new one has none
    ("dependencies = [\n  'zope.interface',  # z\n  'attrs'\n]\n",
     "dependencies = [\n  'zope.interface',  # z\n  'attrs',\n  'PyYAML'\n]\n"),
    ('dependencies = ["requests", "click"]\n', 'dependencies = ["requests", "click", "PyYAML"]\n'),
    ("dependencies = []\n", 'dependencies = ["PyYAML"]\n'),
    ('dependencies = [\n]\n', 'dependencies = [\n    "PyYAML",\n]\n'),
    ("", 'dependencies = ["PyYAML"]\n'),
])
def test_pyproject_list_shapes(tmp_path: Path, before: str, after: str) -> None:
    head = '[project]\nname = "clinic"\nversion = "1.0"\n'
    tail = '\n[tool.ruff]\nline-length = 100\n'
    (tmp_path / "pyproject.toml").write_text(head + before + tail)
    decl = declare(tmp_path, Distribution("PyYAML", None, "test"))
    assert decl is not None
    assert decl.text == head + after + tail
    assert decl.requirement == "PyYAML"


def test_pyproject_declaration_is_refused_when_it_cannot_be_written_faithfully(
    tmp_path: Path
) -> None:
    dist = Distribution("PyYAML", "6.0.2", "test")
    for text in (
        '[project]\nname = "x"\ndynamic = ["dependencies"]\n',  # setup.py owns the list
        '[project]\nname = "x"\ndependencies = ["pyyaml"]\n',  # already declared
        '[project]\nname = "x"\ndependencies = ["a",\n  "b"]\n',  # items on the bracket lines
        '[tool.poetry]\nname = "x"\n',  # no [project] table
    ):
        (tmp_path / "pyproject.toml").write_text(text)
        assert declare(tmp_path, dist) is None, text
    (tmp_path / "pyproject.toml").unlink()
    assert declare(tmp_path, dist) is None  # nothing to declare it in


def test_distribution_lookup(empty_python: str) -> None:
    here = Path.cwd()
    assert resolve("_pytest", sys.executable, here) == Distribution(
        "pytest", version("pytest"), f"installed in the project's environment ({sys.executable})")
    assert resolve("google.protobuf", empty_python, here).name == "protobuf"
    guessed = resolve("clinicaltoolkit.core", empty_python, here)
    assert (guessed.name, guessed.version) == ("clinicaltoolkit", None)
