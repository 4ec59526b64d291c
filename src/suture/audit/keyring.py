"""Which keys an audit log knows: the signing key, retired keys, and signers nobody here trusts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from suture.audit import keys
from suture.audit.events import AuditAction
from suture.audit.log import AuditLog
from suture.audit.rotation import KeyRotation


class KeyRole(StrEnum):
    """What a key is to the log."""

    SIGNING = "signing"    # signs new checkpoints
    RETIRED = "retired"    # replaced by a rotation; still checks the checkpoints it signed
    UNKNOWN = "unknown"    # signed checkpoints, but no public key for it is kept here


@dataclass(frozen=True)
class KeyInfo:
    """One key: its id and role, the checkpoints it signed, and where its public key is."""

    key_id: str
    role: KeyRole
    checkpoints: int
    first_seq: int | None
    last_seq: int | None
    introduced_at: int | None  # the rotation event that made it the signing key
    retired_at: int | None     # the rotation event that replaced it
    path: str | None

    def to_json(self) -> dict[str, Any]:
        """The key as `suture audit key list --json` prints it."""
        return {"key_id": self.key_id, "role": self.role.value, "checkpoints": self.checkpoints,
                "first_seq": self.first_seq, "last_seq": self.last_seq,
                "introduced_at": self.introduced_at, "retired_at": self.retired_at,
                "path": self.path}


def describe_keys(log: AuditLog) -> list[KeyInfo]:
    """Every key the log's checkpoints or key files name, oldest introduction first.

    Reads only: unlike signing, listing never creates a key.
    """
    trusted = log.trusted_keys()
    usage = log.key_usage()
    introduced: dict[str, int] = {}
    retired: dict[str, int] = {}
    for ev in log.events(actions=[AuditAction.KEY_ROTATED.value], newest_first=False):
        rotation = KeyRotation.from_payload(ev.data())
        if rotation is not None:
            retired.setdefault(rotation.old_key_id, ev.seq)
            introduced.setdefault(rotation.new_key_id, ev.seq)
    current = _current_id(log)
    infos = []
    for key_id in set(trusted) | set(usage):
        count, first, last = usage.get(key_id, (0, None, None))
        if key_id == current:
            role, path = KeyRole.SIGNING, str(log.key_path)
        elif key_id in trusted:
            role, path = KeyRole.RETIRED, trusted[key_id].source
        else:
            role, path = KeyRole.UNKNOWN, None
        infos.append(KeyInfo(key_id, role, count, first, last, introduced.get(key_id),
                             retired.get(key_id), path))
    return sorted(infos, key=lambda k: (k.introduced_at or 0, k.first_seq or 0, k.key_id))


def _current_id(log: AuditLog) -> str | None:
    pub = keys.public_path(log.key_path)
    if pub.exists():
        return keys.load_public_key(pub).key_id
    if log.key_path.exists():
        return keys.load_public_key(log.key_path).key_id
    return None
