"""Audit fixtures: every log test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from suture.audit import AuditLog
from suture.store.db import resolve_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: the default SQLite file of a repo, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return resolve_url(tmp_path / "repo")
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def repo_root(tmp_path: Path) -> Path:
    """Where `.suture/` (and so the signing key) lives."""
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture
def audit(db_url: str, repo_root: Path) -> Iterator[AuditLog]:
    """An audit log that signs a checkpoint every 5 events, so small logs have several."""
    log = AuditLog.open(repo_root, db_url, checkpoint_every=5)
    yield log
    log.close()


@pytest.fixture
def raw_engine(db_url: str) -> Iterator[Engine]:
    """A plain engine on the same database: what someone editing it by hand would use."""
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def drop_guards(engine: Engine) -> None:
    """Remove the append-only triggers, as anyone with owner rights on the database can."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("audit_events", "audit_checkpoints"):
                conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
                conn.execute(text(f"DROP TRIGGER {table}_no_truncate ON {table}"))
            return
        for table in ("audit_events", "audit_checkpoints"):
            for verb in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER {table}_no_{verb}"))
