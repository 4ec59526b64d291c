"""API tokens of `suture serve`: a role each, only a hash of the secret stored, expiry, revocation.

A token reads `sut_<id>_<secret>`: the 8-hex id is public (lists, audit events, log lines); the
secret is shown once at creation and only its SHA-256 is kept in the run database.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from suture.errors import StoreError, UsageError
from suture.store.db import SQLITE_BEGIN
from suture.store.runs import RunStore
from suture.store.tables import TokenRow

PREFIX = "sut_"
_RAW_RE = re.compile(r"^sut_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
_ID_RE = re.compile(r"^[0-9a-f]{8}$")
# Recording every request's use would turn each read into a write; a minute's precision is enough.
TOUCH_EVERY = timedelta(minutes=1)


class Role(StrEnum):
    """What a token may do; each role includes the ones before it."""

    VIEWER = "viewer"
    DEVELOPER = "developer"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the order viewer < developer < approver < admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """True when this role may do what `needed` may (admin allows everything)."""
        return self.rank >= Role(needed).rank


@dataclass(frozen=True)
class TokenRecord:
    """A token as listed: everything but its secret."""

    id: str
    name: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_by: str

    def active(self, now: datetime | None = None) -> bool:
        """True when the token is neither revoked nor expired at `now` (default: now)."""
        return self.state(now) == "active"

    def state(self, now: datetime | None = None) -> str:
        """`active`, `expired` or `revoked`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC)):
            return "expired"
        return "active"


class TokenRejected(UsageError):
    """A presented token grants nothing; `reason` is malformed, unknown, expired or revoked."""

    def __init__(self, reason: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.reason = reason


class TokenStore:
    """Creates, checks, lists and revokes API tokens in the run database."""

    def __init__(self, runs: RunStore) -> None:
        self._runs = runs
        self._writer = sessionmaker(runs.engine, expire_on_commit=False)
        # Checking a token is a read on every request: don't take SQLite's write lock for it.
        self._reader = sessionmaker(runs.engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"}),
                                    expire_on_commit=False)

    def create(self, name: str, role: Role | str, *, expires_in: timedelta | None,
               created_by: str) -> tuple[TokenRecord, str]:
        """Store a new token and return it with its raw secret, which is never available again."""
        name, role = _check_name(name), _role(role)
        if expires_in is not None and expires_in <= timedelta(0):
            raise UsageError(f"a token cannot expire {expires_in} from now",
                             hint="give a positive lifetime such as 90d, or never")
        now = datetime.now(UTC)
        for _attempt in range(3):
            tid, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
            row = TokenRow(id=tid, name=name, role=role.value, secret_hash=_digest(secret),
                           created_at=now, expires_at=now + expires_in if expires_in else None,
                           last_used_at=None, revoked_at=None, created_by=created_by)
            try:
                with self._write(f"record token {name!r} in") as session:
                    # An expired token can never work again: retire it so its name is free.
                    session.execute(update(TokenRow).where(
                        TokenRow.name == name, TokenRow.revoked_at.is_(None),
                        TokenRow.expires_at <= now).values(revoked_at=TokenRow.expires_at)
                        .execution_options(synchronize_session=False))
                    self._refuse_taken(session, name)
                    session.add(row)
            except StoreError as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
                with self._read() as session:  # a racing namesake, else an id collision: retry
                    self._refuse_taken(session, name)
                continue
            return _record(row), f"{PREFIX}{tid}_{secret}"
        raise StoreError("could not find a free token id in three tries",  # pragma: no cover
                         hint="try again")

    def verify(self, raw: str) -> TokenRecord:
        """The token `raw` names, if it is valid now; TokenRejected says why not otherwise."""
        match = _RAW_RE.match(raw.strip())
        if match is None:
            raise TokenRejected("malformed", "the API token is not a suture token",
                                hint="tokens look like sut_<8 hex>_<43 characters>; "
                                "an admin makes one with `suture token create`")
        tid, secret = match.groups()
        with self._read() as session:
            row = session.get(TokenRow, tid)
        # Constant-time comparison, so response timing says nothing about the stored hash.
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
            raise TokenRejected("unknown", f"API token {tid} is not known here",
                                hint="check you copied the whole token, or ask an admin "
                                "for a new one")
        record, now = _record(row), datetime.now(UTC)
        if record.revoked_at is not None:
            raise TokenRejected("revoked", f"API token {tid} ({record.name}) was revoked at "
                                f"{record.revoked_at:%Y-%m-%d %H:%M} UTC",
                                hint="ask an admin for a new token")
        if not record.active(now):
            raise TokenRejected("expired", f"API token {tid} ({record.name}) expired at "
                                f"{record.expires_at:%Y-%m-%d %H:%M} UTC",
                                hint="ask an admin for a new token")
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
            with self._write(f"record the use of token {tid} in") as session:
                # The condition makes concurrent requests of one token write at most once.
                session.execute(update(TokenRow).where(
                    TokenRow.id == tid, or_(TokenRow.last_used_at.is_(None),
                                            TokenRow.last_used_at <= now - TOUCH_EVERY))
                    .values(last_used_at=now).execution_options(synchronize_session=False))
            record = replace(record, last_used_at=now)
        return record

    def list(self, include_revoked: bool = False) -> builtins.list[TokenRecord]:
        """Tokens oldest first: active and expired ones, plus revoked ones when asked."""
        query = select(TokenRow).order_by(TokenRow.created_at, TokenRow.id)
        if not include_revoked:
            query = query.where(TokenRow.revoked_at.is_(None))
        with self._read() as session:
            return [_record(r) for r in session.scalars(query)]

    def revoke(self, ref: str) -> TokenRecord:
        """Revoke the token with id `ref`, or the unrevoked one named `ref`; returns it revoked."""
        ref = ref.strip()
        with self._write(f"revoke token {ref!r} in") as session:
            row = session.get(TokenRow, ref.lower(), with_for_update=True) \
                if _ID_RE.match(ref.lower()) else None
            if row is None:
                row = session.scalars(select(TokenRow).where(
                    TokenRow.name == ref, TokenRow.revoked_at.is_(None)).with_for_update()).first()
            if row is None:
                raise UsageError(f"no unrevoked token with id or name {ref!r} in the run "
                                 f"database {self.url}", hint="`suture token list` shows them")
            if row.revoked_at is not None:
                raise UsageError(f"token {row.id} ({row.name}) was already revoked at "
                                 f"{row.revoked_at:%Y-%m-%d %H:%M} UTC",
                                 hint="`suture token list --all` shows revoked tokens")
            row.revoked_at = datetime.now(UTC)
            return _record(row)

    def any_active(self) -> bool:
        """True when at least one token is neither revoked nor expired."""
        now = datetime.now(UTC)
        query = select(TokenRow.id).where(
            TokenRow.revoked_at.is_(None),
            or_(TokenRow.expires_at.is_(None), TokenRow.expires_at > now)).limit(1)
        with self._read() as session:
            return session.scalars(query).first() is not None

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return self._runs.url

    def _refuse_taken(self, session: Session, name: str) -> None:
        taken = session.scalars(select(TokenRow).where(
            TokenRow.name == name, TokenRow.revoked_at.is_(None)).limit(1)).first()
        if taken is not None:
            raise UsageError(f"an active token named {name!r} already exists ({taken.id}, "
                             f"{taken.role})", hint=f"pick another name, or `suture token "
                             f"revoke {taken.id}` first")

    @contextmanager
    def _write(self, action: str) -> Iterator[Session]:
        with self._runs.translated(action), self._writer.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._runs.translated("read the tokens of"), self._reader() as session:
            yield session


def _digest(secret: str) -> str:
    # A fast hash is right here: the secret is 256 random bits, so there is nothing to brute-force
    # (GitHub stores its tokens the same way); slow password hashes guard low-entropy passwords.
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _check_name(name: str) -> str:
    name = name.strip()
    if not _NAME_RE.match(name) or _ID_RE.match(name):
        raise UsageError(f"{name!r} is not a usable token name",
                         hint="use 1-64 letters, digits, '.', '_', '@', '+' or '-', starting "
                         "with a letter or digit and not looking like a token id (8 hex digits)")
    return name


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise UsageError(f"unknown role {value!r}",
                         hint=f"use one of: {', '.join(r.value for r in Role)}") from None


def _record(row: TokenRow) -> TokenRecord:
    return TokenRecord(row.id, row.name, Role(row.role), row.created_at, row.expires_at,
                       row.last_used_at, row.revoked_at, row.created_by)
