"""Signed checkpoints: an Ed25519 signature over the chain head, so history cannot be rewritten.

The signed message is the canonical JSON of
`{"head_hash", "key_id", "seq", "time", "type": "suture.audit.checkpoint", "v": 1}`.
"""

from __future__ import annotations

from collections.abc import Mapping

from suture.audit.chain import canonical_json, utc_text
from suture.audit.events import Checkpoint, Problem, ProblemKind
from suture.audit.keys import PublicKey, SigningKey

DEFAULT_EVERY = 1000
_TYPE = "suture.audit.checkpoint"


def signed_message(seq: int, head_hash: str, time: str, key_id: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    doc = {"head_hash": head_hash, "key_id": key_id, "seq": seq, "time": time,
           "type": _TYPE, "v": 1}
    return canonical_json(doc).encode("utf-8")


def make_checkpoint(key: SigningKey, seq: int, head_hash: str) -> Checkpoint:
    """Sign the head `head_hash` of the chain at `seq` now."""
    time = utc_text()
    signature = key.sign(signed_message(seq, head_hash, time, key.key_id))
    return Checkpoint(seq, head_hash, time, key.key_id, signature)


def check_signature(cp: Checkpoint, trusted: Mapping[str, PublicKey]) -> Problem | None:
    """Whether a trusted key signed exactly this checkpoint (its hash is checked elsewhere)."""
    key = trusted.get(cp.key_id)
    if key is None:
        known = ", ".join(sorted(trusted)) or "none"
        return Problem(cp.seq, ProblemKind.WRONG_KEY,
                       f"the checkpoint at event {cp.seq} names key {cp.key_id}, which is not "
                       f"a trusted key (trusted: {known})")
    if not key.verifies(cp.signature, signed_message(cp.seq, cp.head_hash, cp.time, cp.key_id)):
        return Problem(cp.seq, ProblemKind.BAD_SIGNATURE,
                       f"the signature of the checkpoint at event {cp.seq} does not verify with "
                       f"key {key.key_id} ({key.source}): the checkpoint was forged or edited")
    return None
