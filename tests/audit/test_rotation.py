"""Key rotation: the old key hands over in the chain, old checkpoints verify, forgeries fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from suture.audit import AuditKeyError, AuditLog, ProblemKind
from suture.audit.chain import canonical_json, event_hash, sha256_hex
from suture.audit.checkpoints import make_checkpoint
from suture.audit.events import AuditEvent, Checkpoint
from suture.audit.export import export, verify_export
from suture.audit.keyring import KeyRole, describe_keys
from suture.audit.keys import create_signing_key, load_signing_key, public_path
from suture.audit.rotation import endorse, next_path, retired_path

from .conftest import drop_guards


def _fill(log: AuditLog, count: int, tag: str = "e") -> None:
    for i in range(count):
        log.append("gate.result", f"{tag}{i}", {"i": i})


def _insert_checkpoint(engine: Engine, cp: Checkpoint) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_checkpoints (seq, head_hash, time, key_id, signature)"
                          " VALUES (:seq, :head_hash, :time, :key_id, :signature)"),
                     {"seq": cp.seq, "head_hash": cp.head_hash, "time": cp.time,
                      "key_id": cp.key_id, "signature": cp.signature})


def test_rotation_hands_over_and_the_whole_log_still_verifies(audit: AuditLog, repo_root: Path,
                                                              db_url: str) -> None:
    _fill(audit, 7)  # checkpoint every 5: at 5 by the first key
    old = audit.signing_key()
    done = audit.rotate_key(actor="security-officer")

    assert (done.old_key_id, done.before and done.before.seq) == (old.key_id, 7)
    assert done.before is not None and done.before.key_id == old.key_id  # old key signs first
    ev = done.event
    assert (ev.seq, ev.action, ev.subject, ev.actor) == (8, "audit.key_rotated", done.new_key_id,
                                                         "security-officer")
    payload = ev.data()
    assert payload["old_key_id"] == old.key_id and payload["new_key_id"] == done.new_key_id
    assert payload["after_seq"] == 7 and "PUBLIC KEY" in payload["new_public_key"]
    assert (done.after.seq, done.after.key_id) == (8, done.new_key_id)  # then the new key
    # Files: the new key replaced the old one; the old public key is kept under its id.
    key_path = repo_root / ".suture" / "keys" / "audit_ed25519"
    current = load_signing_key(key_path)
    assert current is not None and current.key_id == done.new_key_id
    assert done.retired_public == retired_path(key_path, old.key_id)
    assert not next_path(key_path).exists() and not public_path(next_path(key_path)).exists()

    _fill(audit, 4, "after")  # a periodic checkpoint at 10, by the new key
    audit.checkpoint()
    result = audit.verify()
    assert result.ok, result.problem
    assert set(result.key_ids) == {old.key_id, done.new_key_id} and result.checkpoints == 5
    # A fresh process (no cached key) signs with the new key and trusts both.
    with AuditLog.open(repo_root, db_url) as again:
        assert again.append("run.started", "r").seq == 13
        assert again.checkpoint() is not None and again.checkpoints()[-1].key_id == done.new_key_id
        assert again.verify().ok
        roles = {k.key_id: (k.role, k.checkpoints, k.retired_at, k.introduced_at)
                 for k in describe_keys(again)}
    assert roles == {old.key_id: (KeyRole.RETIRED, 2, 8, None),
                     done.new_key_id: (KeyRole.SIGNING, 4, None, 8)}


def test_checkpoints_by_the_retired_key_or_a_stranger_after_rotation_are_forgeries(
        audit: AuditLog, repo_root: Path, raw_engine: Engine, tmp_path: Path) -> None:
    _fill(audit, 3)
    leaked = tmp_path / "leaked_old_key"
    shutil.copy(audit.key_path, leaked)  # someone kept a copy of the old private key
    audit.rotate_key()
    _fill(audit, 3, "after")  # events 5..7, unsigned tail
    old = load_signing_key(leaked)
    assert old is not None
    head = list(audit.iter_events(7))[0]
    _insert_checkpoint(raw_engine, make_checkpoint(old, 7, head.hash))
    result = audit.verify()
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (7, ProblemKind.KEY_RETIRED)
    assert "retired at event 4" in result.problem.detail

    # The same forgery with a key nobody trusts.
    stranger = create_signing_key(tmp_path / "stranger")
    drop_guards(raw_engine)
    with raw_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints WHERE seq = 7"))
    _insert_checkpoint(raw_engine, make_checkpoint(stranger, 7, head.hash))
    problem = audit.verify().problem
    assert problem is not None and (problem.seq, problem.kind) == (7, ProblemKind.WRONG_KEY)


def test_a_forged_rotation_to_the_attackers_key_is_caught(audit: AuditLog, raw_engine: Engine,
                                                          tmp_path: Path) -> None:
    _fill(audit, 3)
    audit.checkpoint()  # signed up to 3
    attacker = create_signing_key(tmp_path / "attacker")
    # The attacker signs their own "hand-over" (they do not hold the log's key) and chains it.
    prev = list(audit.iter_events(3))[0]
    handover = endorse(attacker, attacker.public, 3, prev.hash)
    body = canonical_json(handover.to_payload() | {"old_key_id": audit.signing_key().key_id})
    digest = sha256_hex(body)
    time = prev.time
    ev = AuditEvent(4, time, "mallory", "audit.key_rotated", attacker.key_id, body, digest,
                    prev.hash, event_hash(4, time, "mallory", "audit.key_rotated",
                                          attacker.key_id, digest, prev.hash))
    with raw_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_events (seq, time, actor, action, subject, payload, "
            "payload_digest, prev_hash, hash) VALUES (:seq, :time, :actor, :action, :subject, "
            ":payload, :payload_digest, :prev_hash, :hash)"),
            {"seq": 4, "time": time, "actor": "mallory", "action": ev.action,
             "subject": ev.subject, "payload": body, "payload_digest": digest,
             "prev_hash": prev.hash, "hash": ev.hash})
    problem = audit.verify().problem
    assert problem is not None and (problem.seq, problem.kind) == (4, ProblemKind.BAD_ROTATION)
    assert "not signed by the key it retires" in problem.detail


def test_missing_wrong_or_absent_keys_are_clear_errors_and_change_nothing(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "empty") as log, \
            pytest.raises(AuditKeyError, match="no audit signing key"):
        log.rotate_key()
    root = tmp_path / "repo"
    with AuditLog.open(root, checkpoint_every=2) as log:
        _fill(log, 2)
        key_path = log.key_path
    other = create_signing_key(tmp_path / "other")
    with AuditLog.open(root, key=other.path) as log, \
            pytest.raises(AuditKeyError, match="wrong key"):
        log.rotate_key()
    shutil.move(key_path, tmp_path / "moved")
    with AuditLog.open(root) as log:
        with pytest.raises(AuditKeyError, match="is missing") as err:
            log.rotate_key()
        assert "SUTURE_AUDIT_KEY" in (err.value.hint or "")
        assert [e.seq for e in log.iter_events()] == [1, 2]  # no rotation event
    assert not next_path(key_path).exists() and not next_path(other.path).exists()


def test_a_rotation_interrupted_before_installing_its_key_is_finished_on_next_use(
        tmp_path: Path) -> None:
    with AuditLog.open(tmp_path, checkpoint_every=3) as log:
        _fill(log, 2)
        key_path = log.key_path
        saved_old = tmp_path / "old_copy"
        shutil.copy(key_path, saved_old)
        shutil.copy(public_path(key_path), tmp_path / "old_copy.pub")
        done = log.rotate_key()
    # Put the files back as they were after the commit and before the install step.
    shutil.move(key_path, next_path(key_path))
    shutil.copy(saved_old, key_path)
    shutil.copy(tmp_path / "old_copy.pub", public_path(key_path))
    with AuditLog.open(tmp_path, checkpoint_every=3) as log:
        assert log.signing_key().key_id == done.new_key_id
        log.append("run.started", "after-crash")
        assert log.checkpoint() is not None
        assert log.verify().ok
    assert not next_path(key_path).exists()


def test_a_process_still_holding_the_old_key_switches_to_the_new_one(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path, checkpoint_every=2) as busy, \
            AuditLog.open(tmp_path, checkpoint_every=2) as admin:
        _fill(busy, 2)
        old = busy.signing_key()  # cached in this process
        done = admin.rotate_key()
        _fill(busy, 3, "late")  # a periodic checkpoint at 6
        assert busy.checkpoint() is not None
        signers = {c.seq: c.key_id for c in busy.checkpoints()}
        assert signers[2] == old.key_id and signers[6] == done.new_key_id
        assert busy.verify().ok


def test_an_export_after_rotation_verifies_offline_with_the_keys_it_carries(
        tmp_path: Path) -> None:
    with AuditLog.open(tmp_path, checkpoint_every=2) as log:
        _fill(log, 3)
        first = log.signing_key().public
        log.rotate_key()
        _fill(log, 2, "after")
        log.checkpoint()
        out = tmp_path / "audit.jsonl"
        with out.open("w", encoding="utf-8") as fh:
            export(log, fh)
        current = log.signing_key().public
    header = json.loads(out.read_text().splitlines()[0])
    assert {k["key_id"] for k in header["public_keys"]} == {first.key_id, current.key_id}
    assert verify_export(out).ok
    problem = verify_export(out, [current]).problem  # only the new key: old checkpoints fail
    assert problem is not None and problem.kind == ProblemKind.WRONG_KEY
    assert verify_export(out, [first, current]).ok
