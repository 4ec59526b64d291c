"""A real repository with one `suture run` of a passing and a failing command gate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.cli import run_suture
from tests.fixtures.git import GitRepo, make_repo

SUTURE_YML = """\
version: 1
gates:
  ok:
    kind: command
    run: "true"
  bad:
    kind: command
    run: "false"
"""


@pytest.fixture(scope="module")
def ran_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo whose one run has gate `ok` passed and gate `bad` failed (shared: read only)."""
    repo = make_repo(tmp_path_factory.mktemp("compliance") / "repo")
    _setup(repo)
    return repo.path


@pytest.fixture
def own_repo(ran_repo: Path, tmp_path: Path) -> Path:
    """A private copy of `ran_repo` that a test may tamper with."""
    dest = tmp_path / "copy"
    shutil.copytree(ran_repo, dest)
    return dest


def _setup(repo: GitRepo) -> None:
    repo.git("config", "user.name", "Test Author")
    repo.git("config", "user.email", "author@example.test")
    repo.write("suture.yml", SUTURE_YML)
    repo.write(".gitignore", ".suture/\n")
    repo.write("app.py", "X = 1\n")
    repo.commit("init")
    result = run_suture(repo.path, "run", timeout=120)
    assert result.code == 1, result.out  # gate `bad` fails, by design


def write_pack(path: Path, controls: str, pack_id: str = "team") -> Path:
    """A pack file with the given YAML `controls:` body."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"id: {pack_id}\ntitle: Team pack\nversion: '2'\ncontrols:\n{controls}")
    return path
