"""API tokens: roles, hashed secrets, the reasons a token is refused, revocation, unique names."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from suture.errors import UsageError
from suture.store import RunStore, open_store
from suture.store.tokens import Role, TokenRejected, TokenStore

DAY = timedelta(days=1)


@pytest.fixture
def tokens(store: RunStore) -> TokenStore:
    return TokenStore(store)


def _set(engine: Engine, column: str, at: datetime, token_id: str) -> None:
    """Move a token's timestamp, as time passing would."""
    with engine.begin() as conn:
        value = at.replace(tzinfo=None) if engine.dialect.name == "sqlite" else at
        conn.execute(text(f"UPDATE api_tokens SET {column} = :at WHERE id = :id"),
                     {"at": value, "id": token_id})


def test_roles_are_ordered() -> None:
    assert [r.value for r in Role] == ["viewer", "developer", "approver", "admin"]
    assert Role.ADMIN.allows(Role.APPROVER) and Role.ADMIN.allows(Role.VIEWER)
    assert Role.APPROVER.allows(Role.DEVELOPER) and Role.APPROVER.allows(Role.APPROVER)
    assert not Role.APPROVER.allows(Role.ADMIN)
    assert not Role.VIEWER.allows(Role.DEVELOPER)
    assert Role.DEVELOPER.allows(Role.VIEWER) and not Role.DEVELOPER.allows(Role.APPROVER)


def test_created_token_verifies_and_only_its_hash_is_stored(
        tokens: TokenStore, raw_engine: Engine) -> None:
    record, raw = tokens.create("alice", Role.APPROVER, expires_in=90 * DAY,
                                created_by="Ann <ann@example.org>")
    assert raw.startswith(f"sut_{record.id}_") and len(record.id) == 8
    secret = raw.split("_", 2)[2]
    got = tokens.verify(raw)
    assert (got.id, got.name, got.role) == (record.id, "alice", Role.APPROVER)
    assert got.created_by == "Ann <ann@example.org>" and got.active()
    assert record.expires_at is not None
    assert abs(record.expires_at - record.created_at - 90 * DAY) < timedelta(seconds=1)
    with raw_engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM api_tokens")).mappings().one()
    assert secret not in " ".join(str(v) for v in row.values())
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()


@pytest.mark.parametrize("raw", ["", "Bearer x", "sut_", "sut_zzzzzzzz_" + "a" * 43,
                                 "sut_0123abcd_" + "a" * 42, "ghp_" + "a" * 40])
def test_malformed_tokens_are_refused(tokens: TokenStore, raw: str) -> None:
    with pytest.raises(TokenRejected) as err:
        tokens.verify(raw)
    assert err.value.reason == "malformed" and err.value.exit_code == 2


def test_unknown_and_wrong_secret_are_refused_alike(tokens: TokenStore) -> None:
    record, raw = tokens.create("ci", Role.DEVELOPER, expires_in=None, created_by="ops")
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    for bad in (forged, "sut_0badc0de_" + raw.split("_", 2)[2]):
        with pytest.raises(TokenRejected) as err:
            tokens.verify(bad)
        assert err.value.reason == "unknown"
        assert raw.split("_", 2)[2] not in str(err.value)
    assert tokens.verify(raw).id == record.id


def test_revoked_and_expired_tokens_are_refused(tokens: TokenStore, raw_engine: Engine) -> None:
    old, old_raw = tokens.create("old", Role.VIEWER, expires_in=DAY, created_by="ops")
    gone, gone_raw = tokens.create("gone", Role.ADMIN, expires_in=None, created_by="ops")
    _set(raw_engine, "expires_at", datetime.now(UTC) - timedelta(seconds=5), old.id)
    assert tokens.revoke(gone.id).revoked_at is not None
    with pytest.raises(TokenRejected) as err:
        tokens.verify(old_raw)
    assert err.value.reason == "expired" and "old" in str(err.value)
    with pytest.raises(TokenRejected) as err:
        tokens.verify(gone_raw)
    assert err.value.reason == "revoked"
    assert not tokens.any_active()
    states = {t.name: t.state() for t in tokens.list(include_revoked=True)}
    assert states == {"old": "expired", "gone": "revoked"}
    assert [t.name for t in tokens.list()] == ["old"]


def test_last_used_is_written_at_most_once_a_minute(
        tokens: TokenStore, raw_engine: Engine) -> None:
    record, raw = tokens.create("bot", Role.VIEWER, expires_in=None, created_by="ops")
    assert record.last_used_at is None
    first = tokens.verify(raw).last_used_at
    assert first is not None
    assert tokens.verify(raw).last_used_at == first
    assert tokens.list()[0].last_used_at == first  # the second check wrote nothing
    _set(raw_engine, "last_used_at", first - timedelta(minutes=2), record.id)
    later = tokens.verify(raw).last_used_at
    assert later is not None and later >= first
    assert tokens.list()[0].last_used_at == later


def test_names_are_unique_among_active_tokens(tokens: TokenStore, raw_engine: Engine) -> None:
    first, _ = tokens.create("alice", Role.APPROVER, expires_in=None, created_by="ops")
    with pytest.raises(UsageError, match="already exists") as err:
        tokens.create("alice", Role.ADMIN, expires_in=None, created_by="ops")
    assert first.id in (err.value.hint or "")
    tokens.revoke("alice")
    second, _ = tokens.create("alice", Role.ADMIN, expires_in=DAY, created_by="ops")
    _set(raw_engine, "expires_at", datetime.now(UTC) - timedelta(seconds=1), second.id)
    third, raw = tokens.create("alice", Role.VIEWER, expires_in=None, created_by="ops")
    assert tokens.verify(raw).id == third.id
    assert [t.id for t in tokens.list()] == [third.id]
    assert len(tokens.list(include_revoked=True)) == 3


def test_revoke_by_id_or_name_and_bad_refs(tokens: TokenStore) -> None:
    a, _ = tokens.create("a", Role.VIEWER, expires_in=None, created_by="ops")
    tokens.create("b", Role.VIEWER, expires_in=None, created_by="ops")
    assert tokens.revoke(a.id.upper()).name == "a"
    assert tokens.revoke("b").state() == "revoked"
    with pytest.raises(UsageError, match="already revoked"):
        tokens.revoke(a.id)
    with pytest.raises(UsageError, match="no unrevoked token"):
        tokens.revoke("b")
    with pytest.raises(UsageError, match="no unrevoked token"):
        tokens.revoke("nobody")


def test_bad_names_roles_and_lifetimes_are_usage_errors(tokens: TokenStore) -> None:
    for name in ("", " ", "deadbeef", "-x", "a b", "x" * 65):
        with pytest.raises(UsageError, match="token name"):
            tokens.create(name, Role.VIEWER, expires_in=None, created_by="ops")
    with pytest.raises(UsageError, match="unknown role"):
        tokens.create("x", "root", expires_in=None, created_by="ops")
    with pytest.raises(UsageError, match="cannot expire"):
        tokens.create("x", Role.VIEWER, expires_in=timedelta(0), created_by="ops")
    assert tokens.list(include_revoked=True) == []


def test_racing_creates_of_one_name_leave_one_token(db_url: str, tmp_path: Path,
                                                    store: RunStore) -> None:
    barrier, results = threading.Barrier(4), []

    def create() -> None:
        with open_store(tmp_path / "repo", db_url) as own:
            barrier.wait(timeout=30)
            try:
                results.append(TokenStore(own).create("dup", Role.VIEWER, expires_in=None,
                                                      created_by="race")[0].id)
            except UsageError as exc:
                results.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = [r for r in results if isinstance(r, str)]
    lost = [r for r in results if isinstance(r, UsageError)]
    assert len(won) == 1 and len(lost) == 3, results
    assert all("already exists" in str(e) for e in lost)
    assert [t.id for t in TokenStore(store).list(include_revoked=True)] == won
