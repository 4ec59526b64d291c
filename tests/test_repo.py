"""The repository suture works on: root discovery, state, and the project's interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from suture import repo
from suture.errors import ConfigError, NotARepositoryError


def test_root_is_the_nearest_folder_with_suture_yml(git_repo):
    git_repo.write("services/api/suture.yml", "gates: {}\n")
    git_repo.write("services/api/app/main.py", "x = 1\n")
    top = git_repo.path.resolve()
    assert repo.find_root(top / "services/api/app") == top / "services/api"
    assert repo.find_root(top / "services") == top


def test_outside_a_repository(tmp_path):
    with pytest.raises(NotARepositoryError, match="not inside a git repository"):
        repo.find_root(tmp_path)
    with pytest.raises(NotARepositoryError, match="no such directory"):
        repo.find_root(tmp_path / "missing")


def test_state_of_a_fresh_repository_and_after_a_commit(git_repo):
    fresh = repo.state(git_repo.path)
    assert fresh.commit is None and fresh.branch == "main" and not fresh.dirty
    git_repo.write("a.txt", "a\n")
    assert repo.state(git_repo.path).dirty
    sha = git_repo.commit("first")
    after = repo.state(git_repo.path)
    assert after.commit == sha and not after.dirty
    git_repo.git("checkout", "-q", "--detach")
    assert repo.state(git_repo.path).branch is None


def test_configured_python_relative_absolute_and_on_path(tmp_path, monkeypatch):
    venv_python = tmp_path / "env" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("#!/bin/sh\n")
    venv_python.chmod(0o755)
    assert repo.project_python(tmp_path, "env/bin/python") == str(venv_python)
    assert repo.project_python(tmp_path, str(venv_python)) == str(venv_python)
    monkeypatch.setenv("PATH", str(venv_python.parent))
    assert repo.project_python(tmp_path, "python") == str(venv_python)
    with pytest.raises(ConfigError, match="'nope/python' does not exist"):
        repo.project_python(tmp_path, "nope/python")


def test_default_python_order(tmp_path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert repo.project_python(tmp_path, None) == sys.executable
    local = tmp_path / ".venv" / "bin" / "python"
    local.parent.mkdir(parents=True)
    local.write_text("")
    assert repo.project_python(tmp_path, None) == str(local)
    active = tmp_path / "active"
    (active / "bin").mkdir(parents=True)
    (active / "bin" / "python").write_text("")
    monkeypatch.setenv("VIRTUAL_ENV", str(active))
    assert Path(repo.project_python(tmp_path, None)) == active / "bin" / "python"
