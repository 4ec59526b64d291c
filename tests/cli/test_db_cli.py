"""`suture db upgrade` and `suture db status` on SQLite and PostgreSQL, and on bad input."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from suture.store import migrate
from suture.store.tables import VERSION_TABLE
from tests.fixtures.cli import run_suture
from tests.fixtures.git import GitRepo

HEAD = migrate.head_revision()


def _status(cwd: Path, env: dict[str, str] | None = None) -> dict:
    res = run_suture(cwd, "db", "status", "--json", env=env)
    assert res.code == 0, res.out
    return json.loads(res.stdout)


def test_sqlite_status_then_upgrade(git_repo: GitRepo) -> None:
    before = _status(git_repo.path)
    assert before["schema_version"] == 1 and before["backend"] == "sqlite"
    assert before["revision"] is None and before["head"] == HEAD and not before["up_to_date"]
    assert set(before["counts"].values()) == {None}

    res = run_suture(git_repo.path, "db", "upgrade")
    assert res.code == 0, res.out
    assert f"(empty) -> {HEAD}" in res.stdout and ".suture/suture.db" in res.stdout
    after = _status(git_repo.path)
    assert after["revision"] == HEAD and after["up_to_date"]
    assert after["counts"] == {"runs": 0, "releases": 0, "audit_events": 0, "api_tokens": 0}

    again = run_suture(git_repo.path, "db", "upgrade")
    assert again.code == 0 and f"already at revision {HEAD}" in again.stdout
    text = run_suture(git_repo.path, "db", "status")
    assert "up to date" in text.stdout and "api_tokens" in text.stdout


def test_upgrade_names_the_revisions_it_crossed(git_repo: GitRepo) -> None:
    db = git_repo.path / ".suture" / "suture.db"
    db.parent.mkdir()
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0005")
    engine.dispose()
    assert _status(git_repo.path)["revision"] == "0005"
    res = run_suture(git_repo.path, "db", "upgrade")
    assert res.code == 0, res.out
    assert f"0005 -> {HEAD}" in res.stdout


def test_a_database_from_a_newer_suture_is_refused(git_repo: GitRepo) -> None:
    assert run_suture(git_repo.path, "db", "upgrade").code == 0
    conn = sqlite3.connect(git_repo.path / ".suture" / "suture.db")
    conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    conn.commit()
    conn.close()
    for cmd in ("upgrade", "status"):
        res = run_suture(git_repo.path, "db", cmd)
        assert res.code == 3, res.out
        assert "revision 9999" in res.stderr and "newer suture" in res.stderr
        assert "Traceback" not in res.out


def test_a_database_that_is_down_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://suture:hunter2@127.0.0.1:{port}/suture"
    for cmd in ("upgrade", "status"):
        res = run_suture(tmp_path, "db", cmd, "--database-url", url)
        assert res.code == 3, res.out
        first = res.stderr.splitlines()[0]
        assert first.startswith("error: cannot open the run database") and "***" in first
        assert "hunter2" not in res.out and "Traceback" not in res.out
        assert "PostgreSQL server is running" in res.stderr


@pytest.mark.postgres
def test_postgres_via_the_environment_outside_a_repository(
        fresh_postgres_url: str, tmp_path: Path) -> None:
    url = fresh_postgres_url.replace("postgres@", "postgres:hunter2@")
    env = {"SUTURE_DATABASE_URL": url}
    assert not _status(tmp_path, env)["up_to_date"]
    res = run_suture(tmp_path, "db", "upgrade", env=env)
    assert res.code == 0, res.out
    assert f"(empty) -> {HEAD}" in res.stdout and "postgres:***@" in res.stdout
    assert "hunter2" not in res.out
    status = _status(tmp_path, env)
    assert status["backend"] == "postgresql" and status["up_to_date"]
    assert status["counts"]["runs"] == 0
    assert run_suture(tmp_path, "db", "status", "--database-url", fresh_postgres_url).code == 0
