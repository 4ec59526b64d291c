"""`suture db`: apply the run database's migrations explicitly, and show where it stands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from pydantic import BaseModel, ConfigDict
from rich.markup import escape
from sqlalchemy import Engine, func, inspect, select, table

from suture.cli.common import ROOT_OPTION, out_console, resolve_root
from suture.errors import StoreError
from suture.store import migrate
from suture.store.db import (
    DEFAULT_BUSY_TIMEOUT_S,
    ENV_URL,
    SQLITE_BEGIN,
    create_store_engine,
    mask_url,
    resolve_url,
    store_error,
    translated_errors,
)

SCHEMA_VERSION = 1
COUNTED = ("runs", "releases", "audit_events", "api_tokens")

db_app = typer.Typer(
    help="The run database: apply its schema migrations (`upgrade`), or show its revision, "
    "backend and size (`status`). Team mode: run `suture db upgrade` once per release of "
    "suture, before the processes that use the database.\n\nExamples:\n\n"
    "  suture db status\n\n"
    "  SUTURE_DATABASE_URL=postgresql+psycopg://suture@db:5432/suture suture db upgrade",
    no_args_is_help=True,
)
URL_OPTION = typer.Option(None, "--database-url", help=f"Database URL (default: ${ENV_URL}, "
                          "else SQLite in the repository's .suture/).", show_default=False)


class DbStatus(BaseModel):
    """Where a run database stands: schema revision against this suture's head, and its size."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = SCHEMA_VERSION
    url: str
    backend: str
    revision: str | None
    head: str
    up_to_date: bool
    counts: dict[str, int | None]


def register(app: typer.Typer) -> None:
    """Add the `db` group."""
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(database_url: str | None = URL_OPTION, root: Path | None = ROOT_OPTION) -> None:
    """Migrate the run database to this suture's schema (safe to run from several machines)."""
    url = _url(database_url, root)
    with _engine(url) as engine:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        after = migrate.current_revision(engine)
    if before == after:
        out_console.print(f"{escape(mask_url(url))}: already at revision {after} (head)")
    else:
        out_console.print(f"{escape(mask_url(url))}: {before or '(empty)'} -> {after}")


@db_app.command("status")
def status(database_url: str | None = URL_OPTION,
           as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
           root: Path | None = ROOT_OPTION) -> None:
    """Show the schema revision, backend, URL and record counts (changes nothing)."""
    url = _url(database_url, root)
    with _engine(url) as engine:
        report = read_status(engine, url)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    state = "up to date" if report.up_to_date else "[yellow]behind: run `suture db upgrade`[/]"
    out_console.print(f"database  {escape(report.url)} ({report.backend})")
    out_console.print(f"revision  {report.revision or '(empty)'}, head {report.head}: {state}")
    for name, count in report.counts.items():
        out_console.print(f"{name:<13} {'-' if count is None else count}")


def read_status(engine: Engine, url: str) -> DbStatus:
    """Revision, head and counts of a database, without migrating it."""
    revision = migrate.current_revision(engine)
    head = migrate.head_revision()
    _refuse_unknown(revision, url)
    present = set(inspect(engine).get_table_names())
    counts: dict[str, int | None] = {}
    with engine.connect().execution_options(**{SQLITE_BEGIN: "DEFERRED"}) as conn:
        for name in COUNTED:
            counts[name] = (conn.execute(select(func.count()).select_from(table(name)))
                            .scalar_one() if name in present else None)
    return DbStatus(url=mask_url(url), backend=engine.dialect.name, revision=revision,
                    head=head, up_to_date=revision == head, counts=counts)


def _url(database_url: str | None, root: Path | None) -> str:
    # With a URL given there is nothing to find in a repository: a DBA may run this anywhere.
    if database_url or os.environ.get(ENV_URL, "").strip():
        return resolve_url(Path.cwd(), database_url)
    return resolve_url(resolve_root(root))


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    from alembic.util import CommandError

    engine = create_store_engine(url)
    try:
        with translated_errors(url, "open", DEFAULT_BUSY_TIMEOUT_S):
            yield engine
    except CommandError as exc:
        raise store_error(exc, url, "migrate", DEFAULT_BUSY_TIMEOUT_S) from exc
    finally:
        engine.dispose()


def _refuse_unknown(revision: str | None, url: str) -> None:
    from alembic.script import ScriptDirectory

    if revision is None:
        return
    known = {r.revision for r in ScriptDirectory.from_config(migrate.alembic_config())
             .walk_revisions()}
    if revision not in known:
        raise StoreError(
            f"the run database {mask_url(url)} is at schema revision {revision}, which this "
            "suture does not know",
            hint="it was written by a newer suture; upgrade suture to use this database",
        )
