"""Hand edits of the database (raw SQL, triggers dropped first) are caught at the right event."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from suture.audit import AuditEvent, AuditLog, Checkpoint, ProblemKind
from suture.audit.chain import canonical_json, event_hash, sha256_hex
from suture.audit.checkpoints import make_checkpoint
from suture.audit.keys import create_signing_key
from suture.store.db import resolve_url

from .conftest import drop_guards

EVENTS = 12  # checkpoints every 5 (see the `audit` fixture): at 5 and 10


@dataclass
class Scene:
    """The log as recorded, and a connection to edit it behind suture's back."""

    conn: Connection
    events: list[AuditEvent]
    tmp: Path


def _update(conn: Connection, seq: int, **fields: object) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    conn.execute(text(f"UPDATE audit_events SET {sets} WHERE seq = :seq"), {**fields, "seq": seq})


def _insert(conn: Connection, ev: AuditEvent) -> None:
    conn.execute(text(
        "INSERT INTO audit_events (seq, time, actor, action, subject, payload, payload_digest, "
        "prev_hash, hash) VALUES (:seq, :time, :actor, :action, :subject, :payload, "
        ":payload_digest, :prev_hash, :hash)"), ev.to_json() | {"payload": ev.payload})


def _forge(seq: int, prev: str, payload: dict[str, object], like: AuditEvent) -> AuditEvent:
    """A self-consistent event, as an attacker who knows the hashing rule would write it."""
    body = canonical_json(payload)
    digest = sha256_hex(body)
    return AuditEvent(seq, like.time, like.actor, like.action, like.subject, body, digest, prev,
                      event_hash(seq, like.time, like.actor, like.action, like.subject, digest,
                                 prev))


def payload_edited(s: Scene) -> None:
    _update(s.conn, 3, payload='{"i":300}')


def actor_edited(s: Scene) -> None:
    _update(s.conn, 4, actor="mallory")


def event_deleted(s: Scene) -> None:
    s.conn.execute(text("DELETE FROM audit_events WHERE seq = 6"))


def first_event_deleted(s: Scene) -> None:
    s.conn.execute(text("DELETE FROM audit_events WHERE seq = 1"))


def events_swapped(s: Scene) -> None:
    for old, new in ((7, -7), (8, 7), (-7, 8)):
        s.conn.execute(text("UPDATE audit_events SET seq = :n WHERE seq = :o"),
                       {"n": new, "o": old})


def rewritten_and_rehashed(s: Scene) -> None:
    # Event 2 re-hashed so it is self-consistent; event 3 still points at the original.
    ev = _forge(2, s.events[0].hash, {"i": 200}, s.events[1])
    _update(s.conn, 2, payload=ev.payload, payload_digest=ev.payload_digest, hash=ev.hash)


def history_rechained(s: Scene) -> None:
    # The whole chain from event 2 on rewritten consistently: only the signature at 5 knows.
    prev = s.events[0].hash
    for old in s.events[1:]:
        ev = _forge(old.seq, prev, {"i": -old.seq}, old)
        _update(s.conn, old.seq, payload=ev.payload, payload_digest=ev.payload_digest,
                prev_hash=ev.prev_hash, hash=ev.hash)
        prev = ev.hash


def inserted_in_the_middle(s: Scene) -> None:
    s.conn.execute(text("UPDATE audit_events SET seq = -seq WHERE seq >= 9"))
    s.conn.execute(text("UPDATE audit_events SET seq = 1 - seq WHERE seq < 0"))
    _insert(s.conn, _forge(9, s.events[7].hash, {"approved": True}, s.events[7]))


def appended_with_a_wrong_link(s: Scene) -> None:
    _insert(s.conn, _forge(EVENTS + 1, s.events[4].hash, {"i": 99}, s.events[4]))


def checkpoint_signature_forged(s: Scene) -> None:
    other = create_signing_key(s.tmp / "mallory_key")
    forged = make_checkpoint(other, 10, s.events[9].hash)
    s.conn.execute(text("UPDATE audit_checkpoints SET signature = :sig WHERE seq = 10"),
                   {"sig": forged.signature})


def checkpoint_hash_edited(s: Scene) -> None:
    s.conn.execute(text("UPDATE audit_checkpoints SET head_hash = :h WHERE seq = 5"),
                   {"h": s.events[5].hash})


def checkpoint_from_another_key(s: Scene) -> None:
    other = create_signing_key(s.tmp / "mallory_key")
    cp = make_checkpoint(other, 5, s.events[4].hash)
    s.conn.execute(text("UPDATE audit_checkpoints SET signature = :sig, key_id = :kid, "
                        "time = :t WHERE seq = 5"),
                   {"sig": cp.signature, "kid": cp.key_id, "t": cp.time})


TAMPERS: list[tuple[Callable[[Scene], None], int, ProblemKind]] = [
    (payload_edited, 3, ProblemKind.PAYLOAD_MODIFIED),
    (actor_edited, 4, ProblemKind.EVENT_MODIFIED),
    (event_deleted, 6, ProblemKind.MISSING),
    (first_event_deleted, 1, ProblemKind.MISSING),
    (events_swapped, 7, ProblemKind.EVENT_MODIFIED),
    (rewritten_and_rehashed, 3, ProblemKind.CHAIN_BROKEN),
    (history_rechained, 5, ProblemKind.CHECKPOINT_MISMATCH),
    # The forged event 9 links correctly; the first evidence is the renumbered old event 9.
    (inserted_in_the_middle, 10, ProblemKind.EVENT_MODIFIED),
    (appended_with_a_wrong_link, EVENTS + 1, ProblemKind.CHAIN_BROKEN),
    (checkpoint_signature_forged, 10, ProblemKind.BAD_SIGNATURE),
    (checkpoint_hash_edited, 5, ProblemKind.BAD_SIGNATURE),
    (checkpoint_from_another_key, 5, ProblemKind.WRONG_KEY),
]


@dataclass
class Recorded:
    """One log per backend for the whole module; each test tampers, verifies, then restores."""

    audit: AuditLog
    engine: Engine
    events: list[AuditEvent]
    checkpoints: list[Checkpoint]
    tmp: Path


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def recorded(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    tmp = tmp_path_factory.mktemp("tamper")
    server, name = None, f"suture_tamper_{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        url = resolve_url(tmp / "repo")
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(name)
    log = AuditLog.open(tmp / "repo", url, checkpoint_every=5)
    events = [log.append("gate.result", f"run-1/stage-{i}", {"i": i}) for i in range(EVENTS)]
    assert log.verify().ok
    engine = create_engine(url)
    drop_guards(engine)
    yield Recorded(log, engine, events, log.checkpoints(), tmp)
    log.close()
    engine.dispose()
    if server is not None:
        server.drop_database(name)


@pytest.fixture
def scene(recorded: Recorded) -> Iterator[Recorded]:
    """The recorded log; put back exactly as it was after the test, whatever it did."""
    yield recorded
    with recorded.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
        conn.execute(text("DELETE FROM audit_checkpoints"))
        for ev in recorded.events:
            _insert(conn, ev)
        for cp in recorded.checkpoints:
            conn.execute(text("INSERT INTO audit_checkpoints (seq, head_hash, time, key_id, "
                              "signature) VALUES (:seq, :head_hash, :time, :key_id, :signature)"),
                         cp.to_json())
    assert recorded.audit.verify().ok


@pytest.mark.parametrize(("tamper", "seq", "kind"), TAMPERS, ids=[t[0].__name__ for t in TAMPERS])
def test_verify_names_the_first_bad_event(scene: Recorded, tamper: Callable[[Scene], None],
                                          seq: int, kind: ProblemKind) -> None:
    with scene.engine.begin() as conn:
        tamper(Scene(conn, scene.events, scene.tmp))
    result = scene.audit.verify()
    assert result.problem is not None, f"{tamper.__name__} went unnoticed"
    assert (result.problem.seq, result.problem.kind) == (seq, kind), result.problem.detail
    assert not result.ok and str(seq) in result.problem.detail


def test_deleting_the_tail_is_caught_by_the_last_checkpoint(scene: Recorded) -> None:
    assert scene.audit.checkpoint() is not None  # the end of a run signs event 12
    with scene.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq > 10"))
    problem = scene.audit.verify().problem
    assert problem is not None and (problem.seq, problem.kind) == (11, ProblemKind.TRUNCATED)


def test_checking_with_another_public_key_fails(scene: Recorded) -> None:
    stranger = create_signing_key(scene.tmp / "stranger")
    problem = scene.audit.verify([stranger.public]).problem
    assert problem is not None and (problem.seq, problem.kind) == (5, ProblemKind.WRONG_KEY)
    assert scene.audit.verify([stranger.public, scene.audit.signing_key().public]).ok
