"""An export re-verifies offline: same checks, its own key, and a cut-off tail is noticed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from suture.audit import AuditLog, ProblemKind
from suture.audit.export import FORMAT, export, read_export, verify_export
from suture.audit.keys import create_signing_key


def _write(log: AuditLog, path: Path, since: datetime | None = None) -> list[dict]:
    with path.open("w", encoding="utf-8") as fh:
        export(log, fh, since)
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_carries_everything_an_auditor_needs(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path, checkpoint_every=4) as log:
        for i in range(10):
            log.append("llm.call", f"run-{i}", {"tokens": i, "ratio": i / 4, "note": "é"})
        lines = _write(log, tmp_path / "all.jsonl")
        pub = log.signing_key().public
    header, rest = lines[0], lines[1:]
    assert header["format"] == FORMAT and header["key_id"] == pub.key_id
    assert (header["first_seq"], header["last_seq"]) == (1, 10)
    assert header["public_key"] == pub.pem()
    assert [d["seq"] for d in rest if d["type"] == "checkpoint"] == [4, 8]
    events = [d for d in rest if d["type"] == "event"]
    assert [e["seq"] for e in events] == list(range(1, 11))
    assert set(events[0]) >= {"schema_version", "seq", "time", "actor", "action", "subject",
                              "payload", "payload_digest", "prev_hash", "hash"}
    assert events[2]["payload"] == {"tokens": 2, "ratio": 0.5, "note": "é"}
    result = verify_export(tmp_path / "all.jsonl", [pub])
    assert result.ok and (result.events, result.checkpoints) == (10, 2)


def test_a_partial_export_verifies_from_where_it_starts(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path, checkpoint_every=4) as log:
        for i in range(6):
            log.append("deploy.step", f"r{i}")
        assert _write(log, tmp_path / "none.jsonl", datetime.now(UTC) + timedelta(days=1))[0][
            "first_seq"] is None
        first = log.first_seq_since(None)
        assert first == 1
        path = tmp_path / "part.jsonl"
        with path.open("w") as fh:
            # Everything since event 3's time: a mid-log start, anchored by the checkpoint at 4.
            export(log, fh, next(log.iter_events(3)).timestamp)
    exported = read_export(path)
    assert exported.header["first_seq"] == 3 and [c.seq for c in exported.checkpoints] == [4]
    result = verify_export(path)
    assert result.ok and (result.first_seq, result.last_seq) == (3, 6)


def test_an_edited_or_cut_export_fails(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path, checkpoint_every=4) as log:
        for i in range(6):
            log.append("fix.commit", f"r{i}", {"sha": f"{i:040x}"})
        lines = _write(log, tmp_path / "x.jsonl")
    edited = [dict(d) for d in lines]
    edited[-2]["payload"] = {"sha": "f" * 40}  # event 5
    (tmp_path / "edited.jsonl").write_text("".join(json.dumps(d) + "\n" for d in edited))
    problem = verify_export(tmp_path / "edited.jsonl").problem
    assert problem is not None and (problem.seq, problem.kind) == (5, ProblemKind.PAYLOAD_MODIFIED)

    (tmp_path / "cut.jsonl").write_text("".join(json.dumps(d) + "\n" for d in lines[:-1]))
    problem = verify_export(tmp_path / "cut.jsonl").problem
    assert problem is not None and (problem.seq, problem.kind) == (6, ProblemKind.TRUNCATED)

    stranger = create_signing_key(tmp_path / "stranger")
    problem = verify_export(tmp_path / "x.jsonl", [stranger.public]).problem
    assert problem is not None and problem.kind == ProblemKind.WRONG_KEY
