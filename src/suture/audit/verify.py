"""Walk a stream of events and checkpoints once and name the first thing wrong with it.

The same walk checks the database (from event 1 and the genesis hash) and an export file (from
wherever it starts), so an auditor's offline check is exactly the one suture runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from suture.audit.chain import GENESIS_HASH, event_hash, sha256_hex
from suture.audit.checkpoints import check_signature
from suture.audit.events import (
    AuditAction,
    AuditEvent,
    Checkpoint,
    Problem,
    ProblemKind,
    VerifyResult,
)
from suture.audit.keys import PublicKey
from suture.audit.rotation import check_rotation


def verify_stream(
    events: Iterable[AuditEvent],
    checkpoints: Iterable[Checkpoint],
    trusted: Mapping[str, PublicKey],
    *,
    start_seq: int | None = 1,
    start_prev_hash: str | None = GENESIS_HASH,
) -> VerifyResult:
    """Check every event's digest, hash and link, and every checkpoint's key, signature and hash.

    `events` must come in the order stored (by seq); `checkpoints` in any order. `start_seq` None
    (an export from mid-log) takes the first event as the anchor and trusts its prev_hash.
    """
    walk = _Walk(sorted(checkpoints, key=lambda c: c.seq), trusted, start_seq, start_prev_hash)
    problem = walk.run(iter(events))
    return VerifyResult(
        events=walk.count, checkpoints=walk.checked, first_seq=walk.first_seq,
        last_seq=walk.last_seq, head_hash=walk.prev, key_ids=tuple(sorted(walk.key_ids)),
        unsigned_tail=(walk.last_seq - walk.last_signed) if walk.last_seq is not None else 0,
        problem=problem,
    )


class _Walk:
    """The state of one pass: where we are, the hash we expect next, checkpoints pending."""

    def __init__(self, checkpoints: list[Checkpoint], trusted: Mapping[str, PublicKey],
                 start_seq: int | None, start_prev_hash: str | None) -> None:
        self.pending = checkpoints
        self.next_cp = 0
        self.trusted = trusted
        self.expected = start_seq
        self.prev: str | None = start_prev_hash if start_seq is not None else None
        self.count = 0
        self.checked = 0
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.last_signed = 0
        self.key_ids: set[str] = set()
        # Key id -> the rotation event that retired it: it may sign nothing from there on.
        self.retired: dict[str, int] = {}

    def run(self, events: Iterator[AuditEvent]) -> Problem | None:
        for ev in events:
            if self.expected is None:  # export from mid-log: skip checkpoints before it
                self.expected = ev.seq
                self.last_signed = ev.seq - 1
                self.prev = GENESIS_HASH if ev.seq == 1 else None
                while self.next_cp < len(self.pending) and self.pending[self.next_cp].seq < ev.seq:
                    self.next_cp += 1
            problem = self._event(ev) or self._rotation(ev) or self._checkpoints_at(ev)
            if problem is not None:
                return problem
            self.prev = ev.hash
            self.expected = ev.seq + 1
            self.last_seq = ev.seq
            if self.first_seq is None:
                self.first_seq = ev.seq
            self.count += 1
        return self._leftover_checkpoints()

    def _event(self, ev: AuditEvent) -> Problem | None:
        expected = self.expected or 1
        if ev.seq > expected:
            gone = f"event {expected}" if ev.seq == expected + 1 else \
                f"events {expected} to {ev.seq - 1}"
            return Problem(expected, ProblemKind.MISSING,
                           f"{gone} missing (the log goes on at {ev.seq}): deleted")
        if ev.seq < expected:
            return Problem(ev.seq, ProblemKind.OUT_OF_ORDER,
                           f"event {ev.seq} comes after event {expected - 1}: the log was "
                           "reordered or an event was duplicated")
        if sha256_hex(ev.payload) != ev.payload_digest:
            return Problem(ev.seq, ProblemKind.PAYLOAD_MODIFIED,
                           f"the payload of event {ev.seq} no longer matches its digest: it was "
                           "modified after it was recorded")
        computed = event_hash(ev.seq, ev.time, ev.actor, ev.action, ev.subject,
                              ev.payload_digest, ev.prev_hash)
        if computed != ev.hash:
            return Problem(ev.seq, ProblemKind.EVENT_MODIFIED,
                           f"event {ev.seq} no longer matches its hash: its time, actor, action, "
                           "subject, digest or prev_hash was modified after it was recorded")
        if self.prev is not None and ev.prev_hash != self.prev:
            before = "the genesis hash" if ev.seq == 1 else f"the hash of event {ev.seq - 1}"
            return Problem(ev.seq, ProblemKind.CHAIN_BROKEN,
                           f"event {ev.seq} does not link to {before}: an event was inserted or "
                           "reordered here, or the one before it was rewritten and re-hashed")
        return None

    def _rotation(self, ev: AuditEvent) -> Problem | None:
        if ev.action != AuditAction.KEY_ROTATED.value:
            return None
        rotation, problem = check_rotation(ev, self.prev, self.trusted)
        if rotation is not None and problem is None:
            self.retired.setdefault(rotation.old_key_id, ev.seq)
        return problem

    def _checkpoints_at(self, ev: AuditEvent) -> Problem | None:
        while self.next_cp < len(self.pending) and self.pending[self.next_cp].seq <= ev.seq:
            cp = self.pending[self.next_cp]
            self.next_cp += 1
            problem = check_signature(cp, self.trusted) or self._retired_signer(cp)
            if problem is not None:
                return problem
            if cp.head_hash != ev.hash:
                since = f"after event {self.last_signed}" if self.last_signed else "from the start"
                return Problem(cp.seq, ProblemKind.CHECKPOINT_MISMATCH,
                               f"the signed checkpoint at event {cp.seq} names head hash "
                               f"{cp.head_hash[:16]}..., but event {cp.seq} hashes to "
                               f"{ev.hash[:16]}...: the chain {since} up to {cp.seq} was "
                               "rewritten and re-hashed")
            self.checked += 1
            self.key_ids.add(cp.key_id)
            self.last_signed = cp.seq
        return None

    def _retired_signer(self, cp: Checkpoint) -> Problem | None:
        retired_at = self.retired.get(cp.key_id)
        if retired_at is None or cp.seq < retired_at:
            return None
        return Problem(cp.seq, ProblemKind.KEY_RETIRED,
                       f"the checkpoint at event {cp.seq} is signed by key {cp.key_id}, which was "
                       f"retired at event {retired_at}: whoever still holds that key forged it")

    def _leftover_checkpoints(self) -> Problem | None:
        if self.next_cp >= len(self.pending):
            return None
        end = (self.expected or 1) - 1
        cp = self.pending[self.next_cp]
        problem = check_signature(cp, self.trusted)
        if problem is not None:
            return problem
        return Problem(end + 1, ProblemKind.TRUNCATED,
                       f"a signed checkpoint covers event {cp.seq}, but the log ends at "
                       f"{end}: events {end + 1} to {cp.seq} were deleted")
