"""Store fixtures: every store test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from suture.store import RunStore, open_store
from suture.store.db import resolve_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: the default SQLite file of a repo, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return resolve_url(tmp_path / "repo")
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[RunStore]:
    """An opened (migrated) store on `db_url`."""
    s = open_store(tmp_path / "repo", db_url)
    yield s
    s.close()


@pytest.fixture
def raw_engine(db_url: str) -> Iterator[Engine]:
    """A plain SQLAlchemy engine on the same database, for what a test must do behind the store."""
    engine = create_engine(db_url)
    yield engine
    engine.dispose()
