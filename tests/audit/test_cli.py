"""`suture audit` end to end, in a subprocess, as a user or an auditor runs it."""

from __future__ import annotations

import json
import sqlite3

from suture.audit import AuditLog


def _seed(root, count: int = 6) -> None:
    with AuditLog.open(root) as log:
        for i in range(count):
            log.append("fix.attempt" if i % 2 else "run.started", f"run-{i}", {"i": i},
                       actor="ci-bot")
        log.checkpoint()


def _tamper(root, sql: str) -> None:
    db = sqlite3.connect(root / ".suture" / "suture.db")
    db.execute("DROP TRIGGER audit_events_no_update")
    db.execute(sql)
    db.commit()
    db.close()


def test_verify_log_export_and_offline_verify(git_repo, suture_cli) -> None:
    _seed(git_repo.path)
    ok = suture_cli(git_repo.path, "audit", "verify")
    assert ok.code == 0, ok.out
    assert "audit log intact: 6 events (1..6)" in ok.stdout and "1 signed checkpoint" in ok.stdout

    listed = suture_cli(git_repo.path, "audit", "log", "--json", "--action", "fix.*",
                        "--since", "1d")
    assert listed.code == 0, listed.out
    docs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(d["seq"], d["action"], d["schema_version"]) for d in docs] == [
        (6, "fix.attempt", 1), (4, "fix.attempt", 1), (2, "fix.attempt", 1)]

    exported = suture_cli(git_repo.path, "audit", "export", "--since", "30d", "-o", "audit.jsonl")
    assert exported.code == 0, exported.out
    assert "wrote 6 events (1..6) and 1 checkpoints" in exported.stderr
    again = suture_cli(git_repo.path, "audit", "verify", "--file", "audit.jsonl",
                       "--public-key", ".suture/keys/audit_ed25519.pub", "--json")
    assert again.code == 0, again.out
    assert json.loads(again.stdout)["ok"] is True


def test_tampering_exits_1_naming_the_event_and_key_trouble_exits_2(git_repo, suture_cli) -> None:
    _seed(git_repo.path)
    _tamper(git_repo.path, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    bad = suture_cli(git_repo.path, "audit", "verify")
    assert bad.code == 1, bad.out
    assert "TAMPERED at event 3" in bad.stdout and "event-modified" in bad.stdout

    keys = git_repo.path / ".suture" / "keys"
    for f in keys.iterdir():
        f.rename(git_repo.path / f.name)
    nokey = suture_cli(git_repo.path, "audit", "checkpoint")
    assert nokey.code == 2, nokey.out
    assert "does not exist" in nokey.stderr and "SUTURE_AUDIT_KEY" in nokey.stderr

    usage = suture_cli(git_repo.path, "audit", "log", "--since", "last tuesday")
    assert usage.code == 2 and "7d" in usage.stderr


def test_key_rotate_then_list_and_verify(git_repo, suture_cli) -> None:
    _seed(git_repo.path)  # 6 events, signed at 6
    old = AuditLog.open(git_repo.path)
    old_id = old.signing_key().key_id
    old.close()
    rotated = suture_cli(git_repo.path, "audit", "key", "rotate")
    assert rotated.code == 0, rotated.out
    assert f"rotated the audit key: {old_id} -> " in rotated.stdout
    assert "event 7 audit.key_rotated" in rotated.stdout and "at event 6" in rotated.stdout

    listed = suture_cli(git_repo.path, "audit", "key", "list", "--json")
    assert listed.code == 0, listed.out
    keys = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(k["role"], k["checkpoints"], k["retired_at"], k["introduced_at"]) for k in keys] == [
        ("retired", 1, 7, None), ("signing", 1, None, 7)]
    assert keys[0]["key_id"] == old_id
    assert keys[0]["path"].endswith(f"audit_ed25519.{old_id}.pub")

    ok = suture_cli(git_repo.path, "audit", "verify")
    assert ok.code == 0, ok.out
    assert "2 signed checkpoints verified" in ok.stdout and old_id in ok.stdout

    (git_repo.path / ".suture" / "keys" / "audit_ed25519").rename(git_repo.path / "elsewhere")
    lost = suture_cli(git_repo.path, "audit", "key", "rotate")
    assert lost.code == 2, lost.out
    assert "is missing" in lost.stderr and "SUTURE_AUDIT_KEY" in lost.stderr
