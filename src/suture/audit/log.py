"""AuditLog: append hash-chained events to the run database, read them back, and verify them."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, Table, func, insert, or_, select, text
from sqlalchemy.exc import IntegrityError

from suture.audit import keys, rotation
from suture.audit.actor import default_actor
from suture.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    event_hash,
    sha256_hex,
    to_jsonable,
    utc_text,
)
from suture.audit.checkpoints import DEFAULT_EVERY, make_checkpoint
from suture.audit.events import (
    AuditAction,
    AuditEvent,
    Checkpoint,
    PendingEvent,
    VerifyResult,
    check_action,
)
from suture.audit.rotation import RotationResult
from suture.audit.verify import verify_stream
from suture.errors import StoreError, SutureError, UsageError
from suture.store import migrate
from suture.store.db import (
    DB_ERRORS,
    DEFAULT_BUSY_TIMEOUT_S,
    SQLITE_BEGIN,
    STATE_DIR,
    create_store_engine,
    mask_url,
    resolve_url,
    store_error,
    translated_errors,
)
from suture.store.tables import AuditCheckpointRow, AuditEventRow

if TYPE_CHECKING:
    from suture.store.runs import RunStore

# Arbitrary constant shared by every suture process: serialises appends on PostgreSQL.
AUDIT_LOCK_KEY = 0x5375747541
BATCH = 5000
MAX_TEXT_CHARS = 4096
_EVENTS = cast(Table, AuditEventRow.__table__)
_CHECKPOINTS = cast(Table, AuditCheckpointRow.__table__)
_EVENT_COLUMNS = (
    _EVENTS.c.seq, _EVENTS.c.time, _EVENTS.c.actor, _EVENTS.c.action, _EVENTS.c.subject,
    _EVENTS.c.payload, _EVENTS.c.payload_digest, _EVENTS.c.prev_hash, _EVENTS.c.hash,
)
_CHECKPOINT_COLUMNS = (
    _CHECKPOINTS.c.seq, _CHECKPOINTS.c.head_hash, _CHECKPOINTS.c.time, _CHECKPOINTS.c.key_id,
    _CHECKPOINTS.c.signature,
)
# Built once: appends are hot, and building a statement costs more than running it on SQLite.
_HEAD = select(_EVENTS.c.seq, _EVENTS.c.hash).order_by(_EVENTS.c.seq.desc()).limit(1)
_INSERT_EVENT = insert(_EVENTS)
_INSERT_CHECKPOINT = insert(_CHECKPOINTS)
_APPEND_TRIES = 3


class AuditLog:
    """The tamper-evident log in one run database; safe to share between threads and processes.

    Appends take the database's write lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL an advisory
    transaction lock), so concurrent writers never fork the chain or reuse a sequence number.
    The engine must come from `suture.store.db.create_store_engine`, which sets up that BEGIN.
    """

    def __init__(self, engine: Engine, url: str, *, root: Path | str | None = None,
                 key: Path | str | None = None, checkpoint_every: int = DEFAULT_EVERY,
                 busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
                 owns_engine: bool = False) -> None:
        if checkpoint_every < 0:
            raise UsageError(f"cannot checkpoint every {checkpoint_every} events",
                             hint="give 0 (only on demand) or a positive number")
        self._engine = engine
        self._reader = engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        self._url = url
        self._root = Path(root) if root is not None else _root_of(engine)
        self.key_path = keys.key_path(self._root, key)
        self.checkpoint_every = checkpoint_every
        self._busy_timeout_s = busy_timeout_s
        self._owns_engine = owns_engine
        self._key: keys.SigningKey | None = None
        self._key_lock = threading.Lock()

    @classmethod
    def open(cls, root: Path | str, url: str | None = None, *, key: Path | str | None = None,
             checkpoint_every: int = DEFAULT_EVERY,
             busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> AuditLog:
        """Open (migrating if needed) the run database of `root`, as `open_store` does."""
        resolved = resolve_url(root, url)
        engine = create_store_engine(resolved, busy_timeout_s)
        try:
            migrate.upgrade(engine)
        except SutureError:
            engine.dispose()
            raise
        except DB_ERRORS as exc:
            engine.dispose()
            raise store_error(exc, resolved, "open", busy_timeout_s) from exc
        return cls(engine, resolved, root=root, key=key, checkpoint_every=checkpoint_every,
                   busy_timeout_s=busy_timeout_s, owns_engine=True)

    @classmethod
    def for_store(cls, store: RunStore, *, root: Path | str | None = None,
                  key: Path | str | None = None,
                  checkpoint_every: int = DEFAULT_EVERY) -> AuditLog:
        """The audit log inside an open RunStore's database, sharing its connections."""
        engine: Engine = store.engine
        url = engine.url.render_as_string(hide_password=False)
        return cls(engine, url, root=root, key=key, checkpoint_every=checkpoint_every,
                   busy_timeout_s=store.busy_timeout_s)

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return mask_url(self._url)

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Release the connections, if this log opened them."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------------

    def append(self, action: AuditAction | str, subject: str,
               payload: Mapping[str, Any] | BaseModel | None = None, *,
               actor: str | None = None) -> AuditEvent:
        """Append one event and return it; every N-th event also gets a signed checkpoint."""
        return self.append_group([PendingEvent(action, subject, payload, actor)])[0]

    def append_group(self, entries: Sequence[PendingEvent], *,
                     unless: tuple[AuditAction | str, str] | None = None) -> list[AuditEvent]:
        """Append `entries` as consecutive events in one transaction, and return them.

        With `unless=(action, subject)`, nothing is appended (and [] returned) when an event
        with that action and subject is already in the log: the check and the append happen
        under one lock, so of two processes recording the same thing, one does.
        """
        prepared = [self._prepare(e) for e in entries]
        guard = (check_action(unless[0]), unless[1]) if unless is not None else None
        key = self.signing_key() if self.checkpoint_every and prepared else None
        for attempt in range(_APPEND_TRIES):
            try:
                with self._write("append to the audit log in") as conn:
                    if guard is not None and _recorded(conn, *guard):
                        return []
                    out: list[AuditEvent] = []
                    for item in prepared:
                        ev = _insert_event(conn, item)
                        out.append(ev)
                        if key is not None and ev.seq % self.checkpoint_every == 0:
                            key = self._current_key(conn, key)
                            conn.execute(_INSERT_CHECKPOINT,
                                         _checkpoint_row(make_checkpoint(key, ev.seq, ev.hash)))
                    return out
            except StoreError as exc:
                # Only possible if a writer bypassed the lock; the unique seq kept the chain whole.
                if not isinstance(exc.__cause__, IntegrityError) or attempt == _APPEND_TRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _prepare(self, entry: PendingEvent) -> _Prepared:
        name = check_action(entry.action)
        subject = _text(entry.subject, "subject")
        who = _text(entry.actor if entry.actor is not None else default_actor(self._root),
                    "actor")
        data = to_jsonable({} if entry.payload is None else entry.payload)
        if not isinstance(data, dict):
            raise UsageError(f"the payload of a {name} event is a "
                             f"{type(entry.payload).__name__}, not a mapping",
                             hint="pass a dict (or a pydantic model)")
        body = canonical_json(data)
        return _Prepared(name, subject, who, body, sha256_hex(body))

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now (end of a run); None for an empty log. Idempotent."""
        key = self.signing_key()
        with self._write("checkpoint the audit log in") as conn:
            seq, head = _head(conn)
            if seq == 0:
                return None
            last = conn.execute(select(*_CHECKPOINT_COLUMNS)
                                .order_by(_CHECKPOINTS.c.seq.desc()).limit(1)).first()
            if last is not None and last.seq == seq:
                return Checkpoint(*last)
            if last is not None and last.key_id != key.key_id:
                key = self._refresh_key(last.key_id)
            cp = make_checkpoint(key, seq, head)
            conn.execute(_INSERT_CHECKPOINT, _checkpoint_row(cp))
            return cp

    def rotate_key(self, *, actor: str | None = None) -> RotationResult:
        """Make a new signing key, hand over to it in the log, and keep the old one trusted.

        See `suture.audit.rotation`: the OLD key signs the head, an `audit.key_rotated` event
        carries its endorsement of the new key, and the NEW key signs that event.
        """
        if not self.key_path.exists() and self._latest_key_id() is None:
            raise keys.AuditKeyError(
                f"there is no audit signing key at {self.key_path} to rotate",
                hint="suture creates one on first use (e.g. `suture audit checkpoint`); rotate "
                "it once it has signed something",
            )
        old = self._refresh_key(self._latest_key_id())  # not a cached key: it may be stale
        pending = rotation.next_path(self.key_path)
        new = keys.create_signing_key(pending, exclusive=True)
        try:
            retired = rotation.retire(self.key_path, old.public)
            with self._write("rotate the audit key of") as conn:
                latest = _latest_key_id(conn)
                if latest is not None and latest != old.key_id:
                    raise keys.AuditKeyError(
                        f"the audit log is signed by key {latest} now, not {old.key_id}: another "
                        "process rotated the key meanwhile",
                        hint="run `suture audit key list` to see the keys; rotate again if needed",
                    )
                seq, head = _head(conn)
                before = None
                if seq:
                    last = conn.execute(select(*_CHECKPOINT_COLUMNS)
                                        .order_by(_CHECKPOINTS.c.seq.desc()).limit(1)).first()
                    before = Checkpoint(*last) if last is not None and last.seq == seq \
                        else make_checkpoint(old, seq, head)
                    if last is None or last.seq != seq:
                        conn.execute(_INSERT_CHECKPOINT, _checkpoint_row(before))
                handover = rotation.endorse(old, new.public, seq, head)
                ev = _insert_event(conn, self._prepare(PendingEvent(
                    AuditAction.KEY_ROTATED, new.key_id, handover.to_payload(), actor)))
                after = make_checkpoint(new, ev.seq, ev.hash)
                conn.execute(_INSERT_CHECKPOINT, _checkpoint_row(after))
        except BaseException:
            pending.unlink(missing_ok=True)  # the log never named it: nothing depends on it
            keys.public_path(pending).unlink(missing_ok=True)
            raise
        installed = rotation.install(self.key_path)
        with self._key_lock:
            self._key = installed
        return RotationResult(old.key_id, new.key_id, ev, before, after, self.key_path, retired)

    def signing_key(self) -> keys.SigningKey:
        """The checkpoint key, created on first use; refuses a key that is not the log's own."""
        with self._key_lock:
            if self._key is None:
                self._key = self._load_key(self._latest_key_id())
            return self._key

    def _current_key(self, conn: Connection, key: keys.SigningKey) -> keys.SigningKey:
        """`key`, or the log's newer key if another process rotated it meanwhile."""
        latest = _latest_key_id(conn)
        return key if latest is None or latest == key.key_id else self._refresh_key(latest)

    def _refresh_key(self, latest: str | None) -> keys.SigningKey:
        with self._key_lock:
            self._key = self._load_key(latest)
            return self._key

    def _load_key(self, latest: str | None) -> keys.SigningKey:
        key = keys.load_signing_key(self.key_path)
        if latest is not None and (key is None or key.key_id != latest):
            # A rotation that switched the log but died before installing its key file.
            key = rotation.finish_pending(self.key_path, latest) or key
        if key is None:
            if latest is not None:
                raise keys.AuditKeyError(
                    f"the audit signing key {self.key_path} does not exist, but the audit log "
                    f"is signed by key {latest}",
                    hint=f"copy that key to {self.key_path} or set {keys.ENV_KEY} to its path; "
                    "a new key would not be trusted by anyone checking the log",
                )
            state = self._root if self.key_path == keys.default_key_path(self._root) else None
            key = keys.create_signing_key(self.key_path, state_root=state)
        if latest is not None and latest != key.key_id:
            raise keys.AuditKeyError(
                f"wrong key: {self.key_path} has key id {key.key_id}, but the audit log's "
                f"checkpoints are signed by key {latest}",
                hint=f"set {keys.ENV_KEY} to the key with id {latest}",
            )
        return key

    def _latest_key_id(self) -> str | None:
        with self._read("read") as conn:
            return _latest_key_id(conn)

    # -- reads ----------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """The newest sequence number and hash; (0, genesis hash) for an empty log."""
        with self._read("read") as conn:
            return _head(conn)

    def iter_events(self, from_seq: int = 1, to_seq: int | None = None,
                    batch: int = BATCH) -> Iterator[AuditEvent]:
        """Every event from `from_seq` (to `to_seq`) in order, fetched `batch` rows at a time."""
        last = from_seq - 1
        with self._read("read") as conn:
            while True:
                query = select(*_EVENT_COLUMNS).where(_EVENTS.c.seq > last)
                if to_seq is not None:
                    query = query.where(_EVENTS.c.seq <= to_seq)
                rows = conn.execute(query.order_by(_EVENTS.c.seq).limit(batch)).all()
                for row in rows:
                    yield AuditEvent(*row)
                if len(rows) < batch:
                    return
                last = rows[-1].seq

    def events(self, *, since: datetime | None = None, actions: Sequence[str] = (),
               subject: str | None = None, limit: int | None = None,
               newest_first: bool = True, before_seq: int | None = None) -> list[AuditEvent]:
        """Events matching every filter; an action ending in `.*` matches by prefix."""
        query = select(*_EVENT_COLUMNS)
        if before_seq is not None:  # a cursor: pages stay stable while events are appended
            query = query.where(_EVENTS.c.seq < before_seq)
        if since is not None:
            query = query.where(_EVENTS.c.time >= utc_text(since))
        if actions:
            query = query.where(or_(*(_action_filter(a) for a in actions)))
        if subject is not None:
            query = query.where(_EVENTS.c.subject == subject)
        query = query.order_by(_EVENTS.c.seq.desc() if newest_first else _EVENTS.c.seq)
        if limit is not None:
            query = query.limit(limit)
        with self._read("read") as conn:
            return [AuditEvent(*row) for row in conn.execute(query)]

    def first_seq_since(self, since: datetime | None) -> int | None:
        """The first event recorded at or after `since` (None when there is none)."""
        query = select(func.min(_EVENTS.c.seq))
        if since is not None:
            query = query.where(_EVENTS.c.time >= utc_text(since))
        with self._read("read") as conn:
            return conn.execute(query).scalar_one_or_none()

    def checkpoints(self, from_seq: int = 0) -> list[Checkpoint]:
        """Every checkpoint at or after `from_seq`, oldest first."""
        query = (select(*_CHECKPOINT_COLUMNS).where(_CHECKPOINTS.c.seq >= from_seq)
                 .order_by(_CHECKPOINTS.c.seq))
        with self._read("read") as conn:
            return [Checkpoint(*row) for row in conn.execute(query)]

    def trusted_keys(self, public_keys: Sequence[keys.PublicKey] | None = None
                     ) -> dict[str, keys.PublicKey]:
        """The keys checkpoints are checked with: those given, else the log's own `.pub` and
        the retired keys kept beside it (`<key>.<key id>.pub`)."""
        if public_keys is None:
            pub = keys.public_path(self.key_path)
            if pub.exists():
                public_keys = [keys.load_public_key(pub)]
            elif self.key_path.exists():
                public_keys = [keys.load_public_key(self.key_path)]
            else:
                public_keys = []
            public_keys = [*rotation.retired_keys(self.key_path), *public_keys]
        return {k.key_id: k for k in public_keys}

    def key_usage(self) -> dict[str, tuple[int, int, int]]:
        """Per key id that signed checkpoints: (count, first seq, last seq)."""
        query = (select(_CHECKPOINTS.c.key_id, func.count(), func.min(_CHECKPOINTS.c.seq),
                        func.max(_CHECKPOINTS.c.seq)).group_by(_CHECKPOINTS.c.key_id))
        with self._read("read") as conn:
            return {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(query)}

    def verify(self, public_keys: Sequence[keys.PublicKey] | None = None) -> VerifyResult:
        """Walk the whole chain in batches and name the first bad event or checkpoint."""
        checkpoints = self.checkpoints()
        trusted = self.trusted_keys(public_keys)
        if checkpoints and not trusted:
            raise keys.AuditKeyError(
                f"no public key to check the audit log's {len(checkpoints)} signed checkpoints: "
                f"{keys.public_path(self.key_path)} does not exist",
                hint=f"pass --public-key with the log's .pub file, or set {keys.ENV_KEY}",
            )
        return verify_stream(self.iter_events(), checkpoints, trusted)

    # -- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        # SQLite: the engine opens writers with BEGIN IMMEDIATE, which is the append lock.
        with self._translate(action), self._engine.begin() as conn:
            if self._engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
            yield conn

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        with self._translate(action), self._reader.connect() as conn:
            yield conn

    def _translate(self, action: str) -> AbstractContextManager[None]:
        return translated_errors(self._url, action, self._busy_timeout_s)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An event checked and serialised, waiting for its place (seq, time, prev_hash)."""

    action: str
    subject: str
    actor: str
    body: str
    digest: str


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(_HEAD).first()
    return (0, GENESIS_HASH) if row is None else (int(row.seq), str(row.hash))


def _insert_event(conn: Connection, item: _Prepared) -> AuditEvent:
    """Chain `item` onto the head; the caller holds the append lock."""
    seq, prev = _head(conn)
    seq += 1
    time = utc_text()
    ev = AuditEvent(seq, time, item.actor, item.action, item.subject, item.body, item.digest,
                    prev, event_hash(seq, time, item.actor, item.action, item.subject,
                                     item.digest, prev))
    conn.execute(_INSERT_EVENT, _event_row(ev))
    return ev


def _latest_key_id(conn: Connection) -> str | None:
    query = select(_CHECKPOINTS.c.key_id).order_by(_CHECKPOINTS.c.seq.desc()).limit(1)
    return conn.execute(query).scalar_one_or_none()


def _recorded(conn: Connection, action: str, subject: str) -> bool:
    query = select(_EVENTS.c.seq).where(_EVENTS.c.subject == subject,
                                        _EVENTS.c.action == action).limit(1)
    return conn.execute(query).first() is not None


def _event_row(ev: AuditEvent) -> dict[str, Any]:
    return {"seq": ev.seq, "time": ev.time, "actor": ev.actor, "action": ev.action,
            "subject": ev.subject, "payload": ev.payload, "payload_digest": ev.payload_digest,
            "prev_hash": ev.prev_hash, "hash": ev.hash}


def _checkpoint_row(cp: Checkpoint) -> dict[str, Any]:
    return {"seq": cp.seq, "head_hash": cp.head_hash, "time": cp.time, "key_id": cp.key_id,
            "signature": cp.signature}


def _action_filter(action: str) -> Any:
    if action.endswith(".*"):
        prefix = action[:-2].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return _EVENTS.c.action.like(f"{prefix}.%", escape="\\")
    return _EVENTS.c.action == action


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"the audit {what} must be text, not a {type(value).__name__}",
                         hint=f"pass the {what} as a str")
    if len(value) > MAX_TEXT_CHARS:
        raise UsageError(f"the audit {what} is {len(value)} characters long",
                         hint=f"keep it under {MAX_TEXT_CHARS}; put details in the payload")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"the audit {what} is not valid UTF-8 text",
                         hint="decode it properly before recording it") from exc
    return value


def _root_of(engine: Engine) -> Path:
    """Where `.suture/` is: beside a SQLite file in it, else the current directory."""
    if engine.dialect.name == "sqlite" and engine.url.database:
        folder = Path(engine.url.database).resolve().parent
        if folder.name == STATE_DIR:
            return folder.parent
    return Path.cwd()
