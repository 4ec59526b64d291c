"""Where the run database lives and how to connect to it: URL resolution, engines, error text."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from suture.errors import StoreError, SutureError

ENV_URL = "SUTURE_DATABASE_URL"
STATE_DIR = ".suture"
DB_FILE = "suture.db"
DEFAULT_BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 10
# Execution option naming how a SQLite transaction begins; writers take the lock up front.
SQLITE_BEGIN = "suture_sqlite_begin"

_PG_PREFIXES = ("postgres://", "postgresql://", "postgresql+psycopg2://")
_PASSWORD_RE = re.compile(r"(://[^:/@]*:)[^@]*@")


def resolve_url(root: Path | str, url: str | None = None) -> str:
    """The database URL: `url`, else $SUTURE_DATABASE_URL, else SQLite in `<root>/.suture/`."""
    raw = (url or os.environ.get(ENV_URL, "")).strip()
    if raw:
        return normalise_url(raw)
    state = Path(root) / STATE_DIR
    ensure_state_dir(state)
    return f"sqlite:///{state / DB_FILE}"


def normalise_url(url: str) -> str:
    """Point every PostgreSQL spelling at the psycopg 3 driver; reject backends suture can't use."""
    for prefix in _PG_PREFIXES:
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
            break
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"the database URL {mask_url(url)} is not a valid SQLAlchemy URL",
            hint=f"set {ENV_URL} to e.g. postgresql://suture@db.example:5432/suture",
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"the database URL {mask_url(url)} names an unsupported backend "
            f"{parsed.get_backend_name()!r}",
            hint=f"suture stores runs in SQLite or PostgreSQL; fix {ENV_URL}",
        )
    return url


def ensure_state_dir(state: Path) -> None:
    """Create `.suture/` with a `.gitignore` that keeps all of it out of git."""
    try:
        state.mkdir(parents=True, exist_ok=True)
        ignore = state / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
    except OSError as exc:
        raise StoreError(
            f"cannot create the state directory {state}: {exc.strerror or exc}",
            hint=f"make {state.parent} writable (and {state} a directory), or set {ENV_URL}",
        ) from exc


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ***, safe for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        if "://" in url:
            return _PASSWORD_RE.sub(r"\1***@", url)
        # Without a scheme we cannot tell where a password might sit: show none of it.
        return "(unparseable URL)"


def create_store_engine(url: str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Engine:
    """An engine tuned for the backend: SQLite waits on locks, PostgreSQL fails fast if down."""
    parsed = make_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": busy_timeout_s})
            _tune_sqlite(engine, busy_timeout_s)
            return engine
        return create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S, "application_name": "suture"},
        )
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"cannot load the database driver for {mask_url(parsed)}: {_one_line(exc)}",
            hint="install the PostgreSQL driver with: pip install 'suture[postgres]'",
        ) from exc


def _tune_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    busy_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN; pysqlite's own handling skips DDL and reads.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock at BEGIN, so busy_timeout applies instead of a
        # lock-upgrade failure halfway through a transaction.
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def store_error(exc: BaseException, url: str, action: str, busy_timeout_s: float) -> StoreError:
    """Turn a driver/OS failure into a one-line StoreError naming the database and a fix."""
    masked = mask_url(url)
    detail = _one_line(exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc)
    password = _password(url)
    if password:
        detail = detail.replace(password, "***")
    message = f"cannot {action} the run database {masked}: {detail}"
    return StoreError(message, hint=_hint(url, detail, busy_timeout_s))


def _hint(url: str, detail: str, busy_timeout_s: float) -> str:
    low = detail.lower()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if "locked" in low or "busy" in low:
            return (
                f"another process held the database lock for more than {busy_timeout_s:g}s; "
                f"wait for it to finish, or set {ENV_URL} to a PostgreSQL server"
            )
        if any(w in low for w in _SQLITE_PATH_WORDS):
            where = Path(parsed.database or ".").parent
            return f"make sure {where} exists and is writable by you, or set {ENV_URL}"
        return _REJECTED
    if "password" in low or "authentication" in low:
        return f"check the user name and password in {ENV_URL}"
    if "database" in low and "does not exist" in low:
        return f"create the database on the server or fix its name in {ENV_URL}"
    if any(w in low for w in _PG_CONNECT_WORDS):
        return (
            "check that the PostgreSQL server is running and reachable from here and that "
            f"{ENV_URL} has the right host and port"
        )
    return _REJECTED + "; the PostgreSQL server log has the details"


_SQLITE_PATH_WORDS = ("unable to open", "readonly", "read-only", "disk i/o", "directory", "denied")
_PG_CONNECT_WORDS = ("connect", "timeout", "host", "server closed", "network", "ssl")
_REJECTED = "the database rejected the change and kept none of it; fix the cause named above"


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None


def _one_line(exc: BaseException) -> str:
    # Drivers print hints on extra lines; the message must stay one line.
    return " ".join(str(exc).split()) or type(exc).__name__


# What a database call can raise besides our own errors: the driver's, SQLAlchemy's, the disk's.
DB_ERRORS = (SQLAlchemyError, sqlite3.Error, OSError)


@contextmanager
def translated_errors(url: str, action: str, busy_timeout_s: float) -> Iterator[None]:
    """Turn a database failure inside the block into a StoreError saying what and where."""
    try:
        yield
    except SutureError:
        raise
    except DB_ERRORS as exc:
        raise store_error(exc, url, action, busy_timeout_s) from exc
