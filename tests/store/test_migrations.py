"""The packaged Alembic migrations build exactly the schema the code expects."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from suture.errors import StoreError
from suture.store import RunStore, migrate, open_store
from suture.store.tables import VERSION_TABLE, Base


def test_migrated_schema_matches_the_tables(store: RunStore, raw_engine: Engine) -> None:
    with raw_engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(ctx, Base.metadata) == []
        assert ctx.get_current_revision() == migrate.head_revision()
    names = set(inspect(raw_engine).get_table_names())
    assert {"runs", "stages", "findings", VERSION_TABLE} <= names


def test_reopening_is_a_no_op(store: RunStore, db_url: str, tmp_path: Path) -> None:
    from .records import run

    r = run()
    store.begin_run(r)
    with open_store(tmp_path / "repo", db_url) as again:
        assert again.get_run(r.run_id).run_id == r.run_id


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    engine = create_engine(f"sqlite:///{tmp_path}/.suture/suture.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_database_from_a_newer_suture_is_refused(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    engine = create_engine(f"sqlite:///{tmp_path}/.suture/suture.db")
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="revision 9999") as err:
        open_store(tmp_path)
    assert "newer suture" in (err.value.hint or "")


def test_migration_scripts_ship_inside_the_package() -> None:
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert list((migrate.MIGRATIONS_DIR / "versions").glob("0001_*.py"))


def test_head_constant_matches_alembic_head():
    assert migrate.head_revision() == migrate.HEAD_REVISION
