"""The tamper-evident audit log: hash-chained events in the run database, signed checkpoints.

Recording (the whole API a call site needs)::

    from suture.audit import AuditAction, checkpoint, record

    record(store, AuditAction.GATE_RESULT, subject=f"{run_id}/{stage.name}",
           payload={"status": stage.status, "findings": len(stage.new_findings)})
    ...
    checkpoint(store)          # once at the end of each run: signs the head of the chain

- `store` is an open `RunStore` (the event goes into the same database) or a repository root
  path (the database is opened as `open_store` would). Pass `root=` with a store on PostgreSQL
  so the signing key is looked up under that repository's `.suture/`.
- `action` is an `AuditAction` or any lowercase dotted name (`deploy.paused`); `subject` names
  what it is about (run id, `run/stage`, commit, release); `payload` is a dict or pydantic model
  of JSON data (enums, paths, datetimes are converted; NaN and infinities are refused).
- `actor` defaults to the git identity `user.name <user.email>` of the repository, else the OS
  user; pass a token's subject when a person acted through the web UI or an API.
- It returns the stored `AuditEvent` and raises (`StoreError`, `UsageError`, `AuditKeyError`)
  rather than skip: an event that cannot be recorded must stop the step that needed it.

Several events that belong together (a run's) go in with `AuditLog.append_group`, which can
also skip them when an (action, subject) is already recorded, so two processes never record
one thing twice (see `trail.py`: config changes, runs, interrupted and dead runs).

Each event stores seq (1..n, no gaps), UTC time, actor, action, subject, the canonical JSON
payload, its SHA-256, the previous event's hash and its own hash (see `chain.py`). Every 1000th
event and every `checkpoint()` is signed with the Ed25519 key `.suture/keys/audit_ed25519`
(or $SUTURE_AUDIT_KEY), created on first use. `AuditLog.rotate_key()` (`suture audit key
rotate`) replaces it: the old key signs the head and endorses the new one in an
`audit.key_rotated` event that the new key signs; the old public key stays trusted as
`audit_ed25519.<key id>.pub` for the checkpoints it signed, and only those (see `rotation.py`).
`AuditLog(...).verify()` and `suture audit verify` name the first event that was modified,
deleted, inserted or reordered, and any forged checkpoint or rotation.
Limits: events after the last checkpoint can be cut off or re-forged by someone who can write
the database, which is why every run ends with a checkpoint.
"""

from suture.audit.events import (
    AuditAction,
    AuditEvent,
    Checkpoint,
    PendingEvent,
    Problem,
    ProblemKind,
    VerifyResult,
)
from suture.audit.keys import AuditKeyError
from suture.audit.log import AuditLog
from suture.audit.recorder import audit_log, checkpoint, record

__all__ = [
    "AuditAction",
    "AuditEvent",
    "AuditKeyError",
    "AuditLog",
    "Checkpoint",
    "PendingEvent",
    "Problem",
    "ProblemKind",
    "VerifyResult",
    "audit_log",
    "checkpoint",
    "record",
]
