"""SLSA v1 provenance as an in-toto Statement v1, signed in a DSSE envelope with the audit key.

Formats (followed exactly):
- in-toto Statement v1: `_type`, `subject` [{name, digest: {sha256}}], `predicateType`,
  `predicate` (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md).
- SLSA Provenance v1 predicate: `buildDefinition` {buildType, externalParameters,
  internalParameters, resolvedDependencies} and `runDetails` {builder: {id}, metadata}
  (https://slsa.dev/spec/v1.0/provenance).
- DSSE envelope: {payloadType, payload (base64), signatures: [{keyid, sig (base64)}]}, each
  signature over PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
  (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md).
A file of envelopes, one JSON object a line, is the `.intoto.jsonl` bundle format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from suture import __version__, proc
from suture.audit import record
from suture.audit.keys import PublicKey, SigningKey
from suture.errors import CheckFailed, UsageError
from suture.evidence import evidence_dir
from suture.model import Run
from suture.store import RunStore

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUILD_TYPE = "https://suture.dev/buildtypes/pipeline-run/v1"
BUILDER_ID = "https://suture.dev/builders/suture-cli"
ACTION = "provenance.created"
_CHUNK = 1 << 20


class VerificationError(CheckFailed):
    """A DSSE envelope does not verify: bad encoding, wrong type, wrong key or altered payload."""


@dataclass(frozen=True)
class Subject:
    """An artifact the statement is about: its name and SHA-256."""

    name: str
    sha256: str


@dataclass(frozen=True)
class BuildInfo:
    """What produced the artifacts: the repository state and the suture run that checked it."""

    repository: str
    ref: str | None
    commit: str
    run_id: str
    config_digest: str
    started_on: datetime
    finished_on: datetime | None
    suture_version: str = __version__
    builder_id: str = BUILDER_ID


@dataclass(frozen=True)
class Signature:
    """One DSSE signature: the signing key's id and the base64 signature over the PAE."""

    keyid: str
    sig: str


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope; `payload` holds the raw serialized body (base64 only in JSON)."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> dict[str, Any]:
        """The envelope as DSSE JSON."""
        return {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "signatures": [{"keyid": s.keyid, "sig": s.sig} for s in self.signatures],
        }

    def to_line(self) -> str:
        """One compact JSON line, as a `.intoto.jsonl` bundle holds it."""
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, data: Any) -> Envelope:
        """Parse DSSE JSON (a dict or its text); malformed input is a VerificationError."""
        try:
            doc = json.loads(data) if isinstance(data, str | bytes) else data
            sigs = tuple(Signature(str(s.get("keyid", "")), str(s["sig"]))
                         for s in doc["signatures"])
            return cls(str(doc["payloadType"]),
                       base64.b64decode(doc["payload"], validate=True), sigs)
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise VerificationError(f"not a DSSE envelope: {exc}") from exc


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE pre-authentication encoding: what a signature covers (LEN counts bytes)."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def subject_for(path: Path, name: str | None = None) -> Subject:
    """The subject for a file, its digest computed from its bytes."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise UsageError(f"cannot read the artifact {path}: {exc.strerror or exc}",
                         hint="give files that exist and are readable") from exc
    return Subject(name or path.name, digest.hexdigest())


def build_statement(artifacts: Sequence[Path | Subject], build: BuildInfo) -> dict[str, Any]:
    """An in-toto Statement v1 with a SLSA v1 provenance predicate for `artifacts`."""
    if not artifacts:
        raise UsageError("provenance needs at least one artifact", hint="name the files built")
    subjects = [a if isinstance(a, Subject) else subject_for(a) for a in artifacts]
    metadata: dict[str, Any] = {"invocationId": build.run_id,
                                "startedOn": _rfc3339(build.started_on)}
    if build.finished_on is not None:
        metadata["finishedOn"] = _rfc3339(build.finished_on)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": s.name, "digest": {"sha256": s.sha256}} for s in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"repository": build.repository, "ref": build.ref,
                                       "commit": build.commit},
                "internalParameters": {"run_id": build.run_id,
                                       "suture_version": build.suture_version,
                                       "config_digest": build.config_digest},
                "resolvedDependencies": [{"uri": f"git+{build.repository}@{build.commit}",
                                          "digest": {"gitCommit": build.commit}}],
            },
            "runDetails": {"builder": {"id": build.builder_id}, "metadata": metadata},
        },
    }


def sign(statement: Mapping[str, Any], key: SigningKey) -> Envelope:
    """The statement serialized as JSON and signed (Ed25519 over the PAE) in a DSSE envelope."""
    body = json.dumps(statement, separators=(",", ":"), sort_keys=True).encode("utf-8")
    sig = key.private.sign(pae(PAYLOAD_TYPE, body))
    return Envelope(PAYLOAD_TYPE, body,
                    (Signature(key.key_id, base64.b64encode(sig).decode("ascii")),))


def verify(envelope: Envelope | Mapping[str, Any] | str, public_key: PublicKey
           ) -> dict[str, Any]:
    """The statement inside `envelope` if `public_key` signed it; else VerificationError."""
    env = envelope if isinstance(envelope, Envelope) else Envelope.from_json(envelope)
    if env.payload_type != PAYLOAD_TYPE:
        raise VerificationError(f"payload type {env.payload_type!r} is not {PAYLOAD_TYPE!r}")
    message = pae(env.payload_type, env.payload)
    for s in env.signatures:
        try:
            raw = base64.b64decode(s.sig, validate=True)
        except (ValueError, binascii.Error):
            continue
        if public_key.verifies(raw.hex(), message):
            break
    else:
        raise VerificationError(
            f"no signature in the envelope verifies with key {public_key.key_id} "
            f"({public_key.source}); signed by {[s.keyid for s in env.signatures]}",
            hint="the payload was altered, or it was signed with another key")
    try:
        statement = json.loads(env.payload)
    except ValueError as exc:
        raise VerificationError(f"the signed payload is not JSON: {exc}") from exc
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise VerificationError(f"the signed payload is not an in-toto {STATEMENT_TYPE} statement")
    return statement


def build_info(root: Path, run: Run) -> BuildInfo:
    """Build facts for a recorded run: its commit and branch, the repository's origin URL."""
    if not run.commit:
        raise UsageError(f"run {run.run_id[:12]} has no commit to attest",
                         hint="run `suture run` in a repository with at least one commit")
    ref = f"refs/heads/{run.branch}" if run.branch else None
    return BuildInfo(repository=repository_uri(root), ref=ref, commit=run.commit,
                     run_id=run.run_id, config_digest=run.config_digest,
                     started_on=run.started_at, finished_on=run.finished_at,
                     suture_version=run.suture_version or __version__)


def repository_uri(root: Path) -> str:
    """The `origin` remote's URL, else a file:// URI of the checkout."""
    res = proc.run(("git", "remote", "get-url", "origin"), cwd=root, timeout=30)
    url = res.stdout.strip()
    return url if res.returncode == 0 and url else root.resolve().as_uri()


def store(root: Path, run_store: RunStore, envelope: Envelope, run_id: str) -> Path:
    """Write the envelope under `.suture/evidence/<run_id>/` and record `provenance.created`."""
    line = envelope.to_line() + "\n"
    digest = hashlib.sha256(line.encode("utf-8")).hexdigest()
    path = evidence_dir(root, run_id) / f"provenance-{digest[:12]}.intoto.jsonl"
    path.write_text(line, encoding="utf-8")
    statement = json.loads(envelope.payload)
    record(run_store, ACTION, subject=run_id, root=root, payload={
        "path": path.relative_to(root).as_posix(), "sha256": digest,
        "key_id": [s.keyid for s in envelope.signatures],
        "subjects": statement.get("subject", []),
    })
    return path


def _rfc3339(moment: datetime) -> str:
    text = moment.isoformat().replace("+00:00", "Z")
    return text if moment.tzinfo is not None else text + "Z"
