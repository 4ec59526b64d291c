"""Rotating the audit signing key: the retiring key vouches for its successor inside the chain.

`AuditLog.rotate_key` (`suture audit key rotate`) does, in this order:

1. writes the new private key to `<key>.next` (mode 0600), and the retiring public key to
   `<key>.<old key id>.pub` beside the `.pub`, which keeps it trusted for the old checkpoints;
2. in one transaction under the append lock: signs the current head with the OLD key (unless
   it is signed already), appends an `audit.key_rotated` event whose payload names both keys,
   carries the new public key and the old key's endorsement (an Ed25519 signature over
   `{after_hash, after_seq, new_key_id, new_public_key, old_key_id, type, v}`), and signs that
   event with the NEW key;
3. moves `<key>.next` over the key file and rewrites the `.pub`.

A crash between 2 and 3 is finished by the next process that loads the key (the log's newest
checkpoint names the `.next` key). `verify` refuses a checkpoint signed by a key after the event
that retired it, and a rotation whose endorsement does not verify with the retiring key: a
leaked old key cannot sign new history, and a forged rotation cannot introduce a key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from suture.audit.chain import canonical_json
from suture.audit.events import AuditEvent, Checkpoint, Problem, ProblemKind
from suture.audit.keys import (
    AuditKeyError,
    PublicKey,
    SigningKey,
    load_public_key,
    load_signing_key,
    public_key_from_pem,
    public_path,
    write_public,
)

ROTATION_TYPE = "suture.audit.key_rotation"
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class KeyRotation:
    """The payload of an `audit.key_rotated` event."""

    old_key_id: str
    new_key_id: str
    new_public_key: str
    after_seq: int
    after_hash: str
    endorsement: str

    def message(self) -> bytes:
        """The exact bytes the retiring key's endorsement covers."""
        return endorsed_message(self.old_key_id, self.new_key_id, self.new_public_key,
                                self.after_seq, self.after_hash)

    def to_payload(self) -> dict[str, Any]:
        """The event payload."""
        return asdict(self)

    @classmethod
    def from_payload(cls, data: object) -> KeyRotation | None:
        """The rotation an event's payload describes, or None if it is not a well-formed one."""
        if not isinstance(data, Mapping):
            return None
        try:
            rotation = cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None
        texts = (rotation.old_key_id, rotation.new_key_id, rotation.new_public_key,
                 rotation.after_hash, rotation.endorsement)
        if not all(isinstance(t, str) for t in texts) or type(rotation.after_seq) is not int:
            return None
        return rotation


@dataclass(frozen=True)
class RotationResult:
    """What `rotate_key` did: the keys, the event, and the checkpoints either side of it."""

    old_key_id: str
    new_key_id: str
    event: AuditEvent
    before: Checkpoint | None
    after: Checkpoint
    key_path: Path
    retired_public: Path


def endorsed_message(old_key_id: str, new_key_id: str, new_public_key: str, after_seq: int,
                     after_hash: str) -> bytes:
    """Canonical JSON of what the retiring key signs when it hands over."""
    doc = {"after_hash": after_hash, "after_seq": after_seq, "new_key_id": new_key_id,
           "new_public_key": new_public_key, "old_key_id": old_key_id, "type": ROTATION_TYPE,
           "v": 1}
    return canonical_json(doc).encode("utf-8")


def endorse(old: SigningKey, new: PublicKey, after_seq: int, after_hash: str) -> KeyRotation:
    """The retiring key's signed hand-over to `new`, after event `after_seq` (hash `after_hash`)."""
    pem = new.pem()
    signature = old.sign(endorsed_message(old.key_id, new.key_id, pem, after_seq, after_hash))
    return KeyRotation(old.key_id, new.key_id, pem, after_seq, after_hash, signature)


def check_rotation(ev: AuditEvent, prev_hash: str | None,
                   trusted: Mapping[str, PublicKey]) -> tuple[KeyRotation | None, Problem | None]:
    """The rotation event `ev` records, and what is wrong with it (None when it checks out).

    The endorsement is checked when the retiring key is trusted; `prev_hash` (None in an export
    that starts mid-log) must be what the retiring key saw as the head.
    """
    rotation = KeyRotation.from_payload(ev.data())
    if rotation is None:
        return None, Problem(ev.seq, ProblemKind.BAD_ROTATION,
                             f"event {ev.seq} records a key rotation without the keys, the head "
                             "it follows and the retiring key's endorsement")
    if rotation.after_seq != ev.seq - 1 or (prev_hash is not None
                                            and rotation.after_hash != prev_hash):
        return rotation, Problem(ev.seq, ProblemKind.BAD_ROTATION,
                                 f"the key rotation at event {ev.seq} was endorsed for the head "
                                 f"at event {rotation.after_seq}, not the event before it")
    try:
        new = public_key_from_pem(rotation.new_public_key, f"event {ev.seq}")
    except AuditKeyError:
        new = None
    if new is None or new.key_id != rotation.new_key_id:
        return rotation, Problem(ev.seq, ProblemKind.BAD_ROTATION,
                                 f"the key rotation at event {ev.seq} names key "
                                 f"{rotation.new_key_id} but carries a different public key")
    old = trusted.get(rotation.old_key_id)
    if old is not None and not old.verifies(rotation.endorsement, rotation.message()):
        return rotation, Problem(ev.seq, ProblemKind.BAD_ROTATION,
                                 f"the key rotation at event {ev.seq} is not signed by the key "
                                 f"it retires ({rotation.old_key_id}): it was forged or edited")
    return rotation, None


def next_path(private: Path) -> Path:
    """Where a rotation keeps the new private key until the log has switched to it."""
    return private.with_name(private.name + ".next")


def retired_path(private: Path, key_id: str) -> Path:
    """`<key>.<key id>.pub` beside the key's `.pub`: a retired key, still trusted for the past."""
    pub = public_path(private)
    return pub.with_name(f"{private.name}.{key_id}.pub")


def retired_keys(private: Path) -> list[PublicKey]:
    """Every retired public key kept beside `private`'s `.pub`, checked against its file name."""
    folder = public_path(private).parent
    if not folder.is_dir():
        return []
    found: list[PublicKey] = []
    prefix = f"{private.name}."
    for path in sorted(folder.glob(f"{private.name}.*.pub")):
        key_id = path.name[len(prefix):-len(".pub")]
        if not _KEY_ID.match(key_id):
            continue  # `<key>.next.pub`, or a file someone else put here
        key = load_public_key(path)
        if key.key_id != key_id:
            raise AuditKeyError(
                f"{path} is named for key {key_id} but holds key {key.key_id}",
                hint=f"rename it to {retired_path(private, key.key_id).name}, or restore the "
                "original file",
            )
        found.append(key)
    return found


def retire(private: Path, key: PublicKey) -> Path:
    """Keep `key` as a retired, still trusted public key; returns its file."""
    path = retired_path(private, key.key_id)
    if not path.exists():
        write_public(path, key.key)
    return path


def install(private: Path) -> SigningKey:
    """Move the `.next` key over `private` and rewrite its `.pub` (the last step of a rotation)."""
    pending = next_path(private)
    try:
        os.replace(pending, private)
        public_path(pending).unlink(missing_ok=True)
    except FileNotFoundError:
        pass  # another process finished this rotation first
    except OSError as exc:
        raise AuditKeyError(
            f"cannot move the new audit key {pending} to {private}: {exc.strerror or exc}",
            hint=f"move it by hand; until then suture signs with nothing ({private} is the "
            "retired key)",
        ) from exc
    # The `.pub` still holds the retired key: replace it (atomically) with the new one's.
    write_public(public_path(private), load_public_key(private).key)
    key = load_signing_key(private)
    if key is None:  # pragma: no cover - deleted in the instant since it was moved
        raise AuditKeyError(f"the audit signing key {private} vanished during a rotation")
    return key


def finish_pending(private: Path, latest: str) -> SigningKey | None:
    """Finish a rotation that changed the log but not the key file; None if there is none.

    Only a `.next` key whose id is the one the log's newest checkpoint names is installed.
    """
    pending = next_path(private)
    if not pending.exists():
        return None
    candidate = load_signing_key(pending)
    if candidate is None or candidate.key_id != latest:
        return None
    if private.exists():
        current = load_public_key(private)
        retire(private, current)
    return install(private)
