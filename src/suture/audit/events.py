"""The audit log's records: actions, events, checkpoints and what a verification found."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from suture.audit.chain import parse_utc
from suture.errors import UsageError

SCHEMA_VERSION = 1
_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
MAX_ACTION_CHARS = 64


class AuditAction(StrEnum):
    """What happened. Extendable: any dotted lowercase name such as `deploy.paused` is accepted."""

    RUN_STARTED = "run.started"
    RUN_FINISHED = "run.finished"
    GATE_RESULT = "gate.result"
    DIAGNOSIS_RECORDED = "diagnosis.recorded"
    LLM_CALL = "llm.call"
    FIX_ATTEMPT = "fix.attempt"
    FIX_COMMIT = "fix.commit"
    APPROVAL_GRANTED = "approval.granted"
    APPROVAL_DENIED = "approval.denied"
    DEPLOY_STEP = "deploy.step"
    JUDGE_VERDICT = "judge.verdict"
    ROLLBACK = "rollback"
    CONFIG_CHANGED = "config.changed"
    KEY_ROTATED = "audit.key_rotated"


def check_action(action: AuditAction | str) -> str:
    """The action as stored; a malformed name is a UsageError (it would break every query)."""
    text = str(action.value if isinstance(action, AuditAction) else action)
    if len(text) > MAX_ACTION_CHARS or not _ACTION_RE.match(text):
        known = ", ".join(a.value for a in AuditAction)
        raise UsageError(
            f"audit action {text!r} is not a lowercase dotted name such as 'run.started'",
            hint=f"use one of {known}, or a new name of the same shape",
        )
    return text


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event to append (see `AuditLog.append_group`): what `append` takes, as one record."""

    action: AuditAction | str
    subject: str
    payload: Mapping[str, Any] | BaseModel | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One link of the chain; `payload` is the canonical JSON text that `payload_digest` covers."""

    seq: int
    time: str
    actor: str
    action: str
    subject: str
    payload: str
    payload_digest: str
    prev_hash: str
    hash: str

    @property
    def timestamp(self) -> datetime:
        """`time` as an aware UTC datetime."""
        return parse_utc(self.time)

    def data(self) -> Any:
        """The payload as JSON data (None if the stored text is not JSON, i.e. was tampered)."""
        try:
            return json.loads(self.payload)
        except ValueError:
            return None

    def to_json(self) -> dict[str, Any]:
        """Every field, payload as data, as written by `suture audit log --json` and export."""
        return {
            "schema_version": SCHEMA_VERSION, "type": "event", "seq": self.seq,
            "time": self.time, "actor": self.actor, "action": self.action,
            "subject": self.subject, "payload": self.data(),
            "payload_digest": self.payload_digest, "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """An Ed25519 signature (hex) by key `key_id` over the chain head `head_hash` at `seq`."""

    seq: int
    head_hash: str
    time: str
    key_id: str
    signature: str

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as one export line."""
        return {
            "schema_version": SCHEMA_VERSION, "type": "checkpoint", "seq": self.seq,
            "head_hash": self.head_hash, "time": self.time, "key_id": self.key_id,
            "signature": self.signature,
        }


class ProblemKind(StrEnum):
    """Why verification stopped."""

    MISSING = "missing"                    # a sequence number is absent: event deleted
    OUT_OF_ORDER = "out-of-order"          # sequence numbers go backwards or repeat
    PAYLOAD_MODIFIED = "payload-modified"  # payload no longer matches its digest
    EVENT_MODIFIED = "event-modified"      # a header field no longer matches the event hash
    CHAIN_BROKEN = "chain-broken"          # prev_hash differs from the previous event's hash
    BAD_SIGNATURE = "bad-signature"        # checkpoint signature invalid: forged or edited
    WRONG_KEY = "wrong-key"                # checkpoint signed by a key that is not trusted
    CHECKPOINT_MISMATCH = "checkpoint-mismatch"  # signed head hash differs from the event's
    TRUNCATED = "truncated"                # a checkpoint names an event past the end of the log
    KEY_RETIRED = "key-retired"            # a checkpoint signed by a key after its rotation
    BAD_ROTATION = "bad-rotation"          # a key rotation the retiring key did not sign


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong with the log: the sequence number, a kind, and a sentence."""

    seq: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What `verify` found; `problem` is None when every event and checkpoint checked out."""

    events: int
    checkpoints: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str | None
    key_ids: tuple[str, ...]
    unsigned_tail: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        """True when the log is intact."""
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        """The result as `suture audit verify --json` prints it."""
        return {
            "schema_version": SCHEMA_VERSION, "ok": self.ok, "events": self.events,
            "checkpoints": self.checkpoints, "first_seq": self.first_seq,
            "last_seq": self.last_seq, "head_hash": self.head_hash,
            "key_ids": list(self.key_ids), "unsigned_tail": self.unsigned_tail,
            "problem": None if self.problem is None else {
                "seq": self.problem.seq, "kind": self.problem.kind.value,
                "detail": self.problem.detail,
            },
        }
