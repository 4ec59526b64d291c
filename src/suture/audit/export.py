"""Export the log as JSON Lines an auditor can re-verify offline, and verify such a file.

Line 1 is a header (format, range, the public key and the hashing rules), then every checkpoint
in the range, then every event with all its fields; each line carries `schema_version` and `type`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from suture.audit.chain import GENESIS_HASH, canonical_json, utc_text
from suture.audit.events import (
    SCHEMA_VERSION,
    AuditEvent,
    Checkpoint,
    Problem,
    ProblemKind,
    VerifyResult,
)
from suture.audit.keys import PublicKey, load_public_key, public_key_from_pem, public_path
from suture.audit.log import AuditLog
from suture.audit.verify import verify_stream
from suture.errors import UsageError

FORMAT = "suture-audit-export"
RULES = {
    "canonical_json": "RFC 8785 (JCS): keys sorted, no whitespace, UTF-8, ECMAScript numbers",
    "payload_digest": "sha256 hex of canonical_json(payload)",
    "hash": "sha256 hex of canonical_json({action, actor, payload_digest, prev_hash, seq, "
            "subject, time})",
    "genesis_prev_hash": GENESIS_HASH,
    "checkpoint_signature": "Ed25519 over canonical_json({head_hash, key_id, seq, time, "
                            "type: 'suture.audit.checkpoint', v: 1}), hex",
    "key_id": "first 16 hex of sha256 of the raw 32-byte public key",
}


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    events: int
    checkpoints: int
    first_seq: int | None
    last_seq: int | None
    key_id: str | None


def export(log: AuditLog, out: IO[str], since: datetime | None = None) -> ExportSummary:
    """Write the events recorded since `since` (all if None), contiguous up to the current head."""
    first = log.first_seq_since(since)
    last, _ = log.head()
    public = _public_key(log)
    # Every key the log trusts, so checkpoints signed before a key rotation verify offline too.
    trusted = sorted(log.trusted_keys().values(), key=lambda k: k.key_id)
    if first is None:
        first, last = last + 1, last
    checkpoints = [c for c in log.checkpoints(first) if c.seq <= last]
    span = (first, last) if last >= first else (None, None)
    header = {
        "schema_version": SCHEMA_VERSION, "type": "header", "format": FORMAT,
        "exported_at": utc_text(), "database": log.url,
        "since": utc_text(since) if since else None,
        "first_seq": span[0], "last_seq": span[1],
        "public_key": public.pem() if public else None, "key_id": public.key_id if public else None,
        "public_keys": [{"key_id": k.key_id, "pem": k.pem()} for k in trusted],
        "rules": RULES,
    }
    out.write(_line(header))
    for cp in checkpoints:
        out.write(_line(cp.to_json()))
    count = 0
    for ev in log.iter_events(first, last):
        out.write(_line(ev.to_json()))
        count += 1
    return ExportSummary(count, len(checkpoints), span[0], span[1],
                         public.key_id if public else None)


@dataclass
class ExportFile:
    """A parsed export: its header, checkpoints, and a one-pass reader of its events."""

    path: Path
    header: dict[str, Any]
    checkpoints: list[Checkpoint] = field(default_factory=list)

    def embedded_key(self) -> PublicKey | None:
        """The public key the file carries (trust it only after comparing its id out of band)."""
        pem = self.header.get("public_key")
        return public_key_from_pem(pem, str(self.path)) if isinstance(pem, str) else None

    def embedded_keys(self) -> list[PublicKey]:
        """Every public key the file carries: the signing key and those it replaced."""
        found = [self.embedded_key()]
        listed = self.header.get("public_keys")
        for item in listed if isinstance(listed, list) else []:
            pem = item.get("pem") if isinstance(item, dict) else None
            if isinstance(pem, str):
                found.append(public_key_from_pem(pem, str(self.path)))
        return [k for k in found if k is not None]

    def events(self) -> Iterator[AuditEvent]:
        """The event lines, in file order, with the payload back in canonical form."""
        with self.path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                doc = _parse(line, number, self.path)
                if doc.get("type") == "event":
                    yield _event(doc, number, self.path)


def read_export(path: Path) -> ExportFile:
    """Read the header and checkpoints of an export file (events are streamed later)."""
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}",
                         hint="give the file written by `suture audit export`") from exc
    with fh:
        parsed = None
        checkpoints: list[Checkpoint] = []
        for number, line in enumerate(fh, 1):
            doc = _parse(line, number, path)
            if number == 1:
                if doc.get("type") != "header" or doc.get("format") != FORMAT:
                    raise UsageError(f"{path} is not a suture audit export (line 1 has no header)",
                                     hint="give the file written by `suture audit export`")
                parsed = ExportFile(path, doc)
            elif doc.get("type") == "checkpoint":
                checkpoints.append(_checkpoint(doc, number, path))
            elif doc.get("type") == "event":
                break
    if parsed is None:
        raise UsageError(f"{path} is empty", hint="give the file written by `suture audit export`")
    parsed.checkpoints = checkpoints
    return parsed


def verify_export(path: Path, public_keys: Sequence[PublicKey] | None = None) -> VerifyResult:
    """Check an export on its own: chain, digests, checkpoints, and that no tail was cut off."""
    exported = read_export(path)
    if public_keys is None:
        public_keys = exported.embedded_keys()
    trusted = {k.key_id: k for k in public_keys}
    result = verify_stream(exported.events(), exported.checkpoints, trusted, start_seq=None,
                           start_prev_hash=None)
    promised = exported.header.get("last_seq")
    if result.ok and isinstance(promised, int) and (result.last_seq or 0) < promised:
        end = result.last_seq or (exported.header.get("first_seq") or 1) - 1
        problem = Problem(end + 1, ProblemKind.TRUNCATED,
                          f"the export's header promises events up to {promised}, but the file "
                          f"ends at {end}: events were cut from the end")
        return VerifyResult(result.events, result.checkpoints, result.first_seq, result.last_seq,
                            result.head_hash, result.key_ids, result.unsigned_tail, problem)
    return result


def _public_key(log: AuditLog) -> PublicKey | None:
    pub = public_path(log.key_path)
    if pub.exists():
        return load_public_key(pub)
    return load_public_key(log.key_path) if log.key_path.exists() else None


def _line(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def _parse(line: str, number: int, path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except ValueError as exc:
        raise UsageError(f"{path}:{number}: not a JSON line: {exc}",
                         hint="the export was damaged; export again from the database") from exc
    if not isinstance(doc, dict):
        raise UsageError(f"{path}:{number}: expected a JSON object",
                         hint="the export was damaged; export again from the database")
    return doc


def _event(doc: dict[str, Any], number: int, path: Path) -> AuditEvent:
    try:
        payload = canonical_json(doc["payload"])
        return AuditEvent(int(doc["seq"]), str(doc["time"]), str(doc["actor"]),
                          str(doc["action"]), str(doc["subject"]), payload,
                          str(doc["payload_digest"]), str(doc["prev_hash"]), str(doc["hash"]))
    except (KeyError, TypeError, ValueError, UsageError) as exc:
        raise UsageError(f"{path}:{number}: not a complete audit event ({exc})",
                         hint="the export was damaged; export again from the database") from exc


def _checkpoint(doc: dict[str, Any], number: int, path: Path) -> Checkpoint:
    try:
        return Checkpoint(int(doc["seq"]), str(doc["head_hash"]), str(doc["time"]),
                          str(doc["key_id"]), str(doc["signature"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path}:{number}: not a complete checkpoint ({exc})",
                         hint="the export was damaged; export again from the database") from exc

