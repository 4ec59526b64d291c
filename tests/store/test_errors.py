"""A database that is unreachable, unwritable or locked gives one clear line, password masked."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from suture.errors import StoreError
from suture.store import open_store
from suture.store.db import normalise_url, resolve_url

from .records import run


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_postgres_names_the_masked_url(tmp_path: Path) -> None:
    port = _closed_port()
    url = f"postgresql://suture:s3cr3t-pw@127.0.0.1:{port}/runs"
    with pytest.raises(StoreError) as err:
        open_store(tmp_path, url)
    message = str(err.value)
    assert f"postgresql+psycopg://suture:***@127.0.0.1:{port}/runs" in message
    assert "s3cr3t-pw" not in message and "s3cr3t-pw" not in (err.value.hint or "")
    assert "\n" not in message
    assert "refused" in message.lower()
    assert "SUTURE_DATABASE_URL" in (err.value.hint or "")
    assert err.value.exit_code == 3


@pytest.mark.postgres
def test_missing_postgres_database_says_so(postgres_url: str, tmp_path: Path) -> None:
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(StoreError, match="no_such_db") as err:
        open_store(tmp_path, url)
    assert "create the database" in (err.value.hint or "")


def test_env_var_selects_postgres_and_leaves_no_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", "postgres://u:pw@db.internal:5433/suture")
    assert resolve_url(tmp_path) == "postgresql+psycopg://u:pw@db.internal:5433/suture"
    assert not (tmp_path / ".suture").exists()


def test_default_sqlite_lives_in_a_gitignored_state_dir(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        assert store.backend == "sqlite"
        assert store.url == f"sqlite:///{tmp_path}/.suture/suture.db"
    assert (tmp_path / ".suture" / "suture.db").is_file()
    assert (tmp_path / ".suture" / ".gitignore").read_text() == "*\n"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql+psycopg://a@h/d", "postgresql+psycopg://a@h/d"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_url_spellings(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_unsupported_or_garbled_urls_are_rejected() -> None:
    with pytest.raises(StoreError, match="unsupported backend 'mysql'"):
        normalise_url("mysql://root:pw@localhost/db")
    with pytest.raises(StoreError, match="not a valid") as err:
        normalise_url("postgres//suture:s3cr3t@db:5432")
    assert "s3cr3t" not in str(err.value)


def test_state_dir_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / ".suture").write_text("oops")
    with pytest.raises(StoreError, match=r"\.suture") as err:
        open_store(tmp_path)
    assert "writable" in (err.value.hint or "")


def test_unwritable_sqlite_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    url = f"sqlite:///{blocker}/runs.db"
    with pytest.raises(StoreError) as err:
        open_store(tmp_path, url)
    assert str(blocker / "runs.db") in str(err.value)
    assert "unable to open database file" in str(err.value)
    assert str(blocker) in (err.value.hint or "")


def test_locked_sqlite_waits_then_fails_clearly(tmp_path: Path) -> None:
    store = open_store(tmp_path, busy_timeout_s=0.3)
    holder = sqlite3.connect(tmp_path / ".suture" / "suture.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # e.g. another suture stuck mid-write
    try:
        with pytest.raises(StoreError, match="database is locked") as err:
            store.begin_run(run())
        assert "lock" in (err.value.hint or "")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.begin_run(run())  # once released, writing works again
    assert len(store.list_runs()) == 1
    store.close()
