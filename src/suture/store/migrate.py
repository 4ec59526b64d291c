"""Bring a run database to the newest schema with Alembic, driven from code (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, String, column, select, table, text
from sqlalchemy.exc import SQLAlchemyError

from suture.errors import StoreError
from suture.store.db import SQLITE_BEGIN
from suture.store.tables import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary constant shared by every suture process: serialises first-time migrations on PostgreSQL.
_PG_LOCK_KEY = 0x5375747572
# The newest revision in migrations/versions; a test keeps it equal to Alembic's head. Knowing it
# lets an up-to-date database open without importing Alembic (a quarter second per command).
HEAD_REVISION = "0007"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations, optionally bound to a connection."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this suture."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - only if the package lost its migration files
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}", hint="reinstall suture")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect().execution_options(**{SQLITE_BEGIN: "DEFERRED"}) as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate to head; safe when several processes open a fresh database at the same moment."""
    if _at_known_head(engine):
        return
    from alembic import command

    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    _refuse_unknown(current, engine)
    with engine.connect() as conn, conn.begin():
        # SQLite: BEGIN IMMEDIATE (see db.py) already holds the write lock. PostgreSQL: an advisory
        # lock makes the second process wait, then find the tables in place and do nothing.
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        command.upgrade(alembic_config(conn), "head")


def _at_known_head(engine: Engine) -> bool:
    """True when the version table says HEAD_REVISION; any doubt goes the slow way."""
    try:
        with engine.connect().execution_options(**{SQLITE_BEGIN: "DEFERRED"}) as conn:
            version = column("version_num", String)
            rows = conn.execute(select(version).select_from(table(VERSION_TABLE))).all()
    except SQLAlchemyError:
        return False
    return [r[0] for r in rows] == [HEAD_REVISION]


def _refuse_unknown(current: str | None, engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    if current is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise StoreError(
            f"the run database {engine.url.render_as_string(hide_password=True)} is at schema "
            f"revision {current}, which this suture does not know",
            hint="it was written by a newer suture; upgrade suture to use this database",
        )
