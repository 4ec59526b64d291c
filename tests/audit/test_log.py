"""Appending, reading back, checkpoints and the record() API on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from suture.audit import AuditAction, AuditLog, audit_log, checkpoint, record
from suture.audit.chain import GENESIS_HASH, event_hash, sha256_hex
from suture.audit.keys import load_public_key, public_path
from suture.audit.recorder import _BY_ROOT
from suture.errors import UsageError
from suture.store import open_store


def test_events_chain_from_genesis_with_consecutive_seqs(audit: AuditLog) -> None:
    first = audit.append(AuditAction.RUN_STARTED, "run-1", {"commit": "abc", "n": 1.5},
                         actor="ci-token:deployer")
    second = audit.append("gate.result", "run-1/lint", {"status": "passed"})
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert first.payload == '{"commit":"abc","n":1.5}'
    assert first.payload_digest == sha256_hex(first.payload)
    assert first.hash == event_hash(1, first.time, "ci-token:deployer", "run.started", "run-1",
                                    first.payload_digest, GENESIS_HASH)
    assert first.time.endswith("Z") and first.timestamp <= second.timestamp
    stored = list(audit.iter_events())
    assert stored == [first, second]  # byte-for-byte what was hashed
    assert audit.head() == (2, second.hash)


def test_every_nth_event_and_each_run_end_are_signed(audit: AuditLog) -> None:
    assert audit.checkpoint() is None  # nothing to sign yet
    events = [audit.append("gate.result", f"s{i}", {"i": i}) for i in range(12)]
    assert [c.seq for c in audit.checkpoints()] == [5, 10]
    end = audit.checkpoint()
    assert end is not None and (end.seq, end.head_hash) == (12, events[-1].hash)
    assert audit.checkpoint() == end  # at the same head it signs nothing new
    pub = load_public_key(public_path(audit.key_path))
    assert {c.key_id for c in audit.checkpoints()} == {pub.key_id}
    result = audit.verify()
    assert result.ok, result.problem
    assert (result.events, result.checkpoints, result.unsigned_tail) == (12, 3, 0)


def test_reading_streams_in_batches_and_filters(audit: AuditLog) -> None:
    for i in range(7):
        audit.append("fix.attempt" if i % 2 else "fix.commit", f"run-{i % 3}", {"i": i})
    audit.append("deploy.step", "release-1", {})
    assert [e.seq for e in audit.iter_events(batch=3)] == list(range(1, 9))
    assert [e.seq for e in audit.iter_events(from_seq=4, to_seq=6, batch=2)] == [4, 5, 6]
    assert [e.seq for e in audit.events(actions=["fix.commit"])] == [7, 5, 3, 1]
    assert [e.seq for e in audit.events(actions=["fix.*"], limit=3)] == [7, 6, 5]
    assert [e.seq for e in audit.events(subject="run-1", newest_first=False)] == [2, 5]
    assert audit.events(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(audit.events(since=datetime.now(UTC) - timedelta(minutes=5))) == 8
    assert audit.first_seq_since(None) == 1


def test_the_tables_refuse_update_and_delete(audit: AuditLog, raw_engine: Engine) -> None:
    audit.append("run.started", "r", {})
    audit.checkpoint()
    for sql in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events",
                "DELETE FROM audit_checkpoints"):
        with pytest.raises(DBAPIError, match="append-only"), raw_engine.begin() as conn:
            conn.execute(text(sql))
    assert audit.verify().ok


def test_bad_input_is_refused_before_anything_is_written(audit: AuditLog) -> None:
    with pytest.raises(UsageError, match="NaN|nan"):
        audit.append("llm.call", "r", {"latency": float("nan")})
    with pytest.raises(UsageError, match="lowercase"):
        audit.append("LLM Call", "r", {})
    with pytest.raises(UsageError, match="subject"):
        audit.append("llm.call", 42, {})  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="mapping"):
        audit.append("llm.call", "r", ["not", "an", "object"])  # type: ignore[arg-type]
    assert audit.head() == (0, GENESIS_HASH)


def test_record_on_an_open_store_uses_its_database(db_url: str, repo_root: Path) -> None:
    with open_store(repo_root, db_url) as store:
        ev = record(store, AuditAction.RUN_FINISHED, "run-9", {"status": "failed"},
                    actor="alice", root=repo_root)
        again = record(store, "approval.granted", "release-3", actor="bob")
        assert audit_log(store) is audit_log(store)  # cached: no reopening per event
        cp = checkpoint(store)
    assert (ev.seq, again.seq, again.prev_hash) == (1, 2, ev.hash)
    assert cp is not None and cp.seq == 2
    with AuditLog.open(repo_root, db_url) as log:
        assert [(e.actor, e.action) for e in log.iter_events()] == [
            ("alice", "run.finished"), ("bob", "approval.granted")]
        assert log.verify().ok


def test_record_on_a_root_defaults_the_actor_to_the_git_identity(git_repo) -> None:
    git_repo.git("config", "user.name", "Dana Scully")
    git_repo.git("config", "user.email", "dana@example.org")
    _BY_ROOT.clear()
    ev = record(git_repo.path, "config.changed", "suture.yml", {"gates": ["tests"]})
    assert ev.actor == "Dana Scully <dana@example.org>"
    assert json.loads(ev.payload) == {"gates": ["tests"]}
    key = git_repo.path / ".suture" / "keys" / "audit_ed25519"
    assert key.stat().st_mode & 0o777 == 0o600
    assert public_path(key).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert (git_repo.path / ".suture" / ".gitignore").read_text() == "*\n"
    audit_log(git_repo.path).close()
    _BY_ROOT.clear()
