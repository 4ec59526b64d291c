"""in-toto/SLSA provenance in a DSSE envelope: fields, signature, tampering, wrong keys."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from suture.audit.keys import SigningKey, create_signing_key
from suture.errors import UsageError
from suture.evidence import provenance
from suture.evidence.provenance import BuildInfo, VerificationError

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    """A fresh Ed25519 key pair, as the audit log creates it."""
    return create_signing_key(tmp_path / "keys" / "audit_ed25519")


@pytest.fixture
def build() -> BuildInfo:
    """Build facts of a run."""
    return BuildInfo(repository="https://git.example/org/app.git", ref="refs/heads/main",
                     commit=COMMIT, run_id="feedbeef" * 4, config_digest="abcd1234abcd1234",
                     started_on=datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
                     finished_on=datetime(2026, 3, 1, 12, 5, 30, tzinfo=UTC),
                     suture_version="0.1.0")


def _artifacts(tmp_path: Path) -> list[Path]:
    a = tmp_path / "dist" / "app-1.0.tar.gz"
    a.parent.mkdir()
    a.write_bytes(b"tarball bytes")
    b = tmp_path / "dist" / "app-1.0-py3-none-any.whl"
    b.write_bytes(b"wheel bytes" * 1000)
    return [a, b]


def test_statement_follows_in_toto_v1_and_slsa_v1(tmp_path: Path, build: BuildInfo) -> None:
    statement = provenance.build_statement(_artifacts(tmp_path), build)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["subject"] == [
        {"name": "app-1.0.tar.gz", "digest": {"sha256": hashlib.sha256(b"tarball bytes")
                                              .hexdigest()}},
        {"name": "app-1.0-py3-none-any.whl",
         "digest": {"sha256": hashlib.sha256(b"wheel bytes" * 1000).hexdigest()}}]
    definition = statement["predicate"]["buildDefinition"]
    assert definition["buildType"].startswith("https://suture.dev/")
    assert definition["externalParameters"] == {
        "repository": "https://git.example/org/app.git", "ref": "refs/heads/main",
        "commit": COMMIT}
    assert definition["internalParameters"] == {
        "run_id": "feedbeef" * 4, "suture_version": "0.1.0", "config_digest": "abcd1234abcd1234"}
    assert definition["resolvedDependencies"] == [
        {"uri": f"git+https://git.example/org/app.git@{COMMIT}", "digest": {"gitCommit": COMMIT}}]
    assert statement["predicate"]["runDetails"] == {
        "builder": {"id": provenance.BUILDER_ID},
        "metadata": {"invocationId": "feedbeef" * 4, "startedOn": "2026-03-01T12:00:00Z",
                     "finishedOn": "2026-03-01T12:05:30Z"}}


def test_pae_matches_the_dsse_spec_vector() -> None:
    assert provenance.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")


def test_signed_envelope_verifies_and_is_plain_dsse(tmp_path: Path, key: SigningKey,
                                                    build: BuildInfo) -> None:
    statement = provenance.build_statement(_artifacts(tmp_path), build)
    envelope = provenance.sign(statement, key)
    doc = json.loads(envelope.to_line())
    assert set(doc) == {"payload", "payloadType", "signatures"}
    assert doc["payloadType"] == "application/vnd.in-toto+json"
    body = base64.b64decode(doc["payload"])
    assert json.loads(body) == statement
    assert doc["signatures"][0]["keyid"] == key.key_id
    # Checked by hand from the spec, not with the module's own pae(): a DSSE verifier elsewhere
    # rebuilds exactly these bytes.
    pae = b"DSSEv1 28 application/vnd.in-toto+json %d " % len(body) + body
    raw_pub: Ed25519PublicKey = key.public.key
    raw_pub.verify(base64.b64decode(doc["signatures"][0]["sig"]), pae)  # raises if wrong
    assert provenance.verify(envelope.to_line(), key.public) == statement
    assert provenance.verify(doc, key.public) == statement


def test_tampering_and_wrong_keys_fail(tmp_path: Path, key: SigningKey, build: BuildInfo) -> None:
    statement = provenance.build_statement(_artifacts(tmp_path), build)
    doc = provenance.sign(statement, key).to_json()

    forged = json.loads(json.dumps(statement))
    forged["subject"][0]["digest"]["sha256"] = "0" * 64
    tampered = {**doc, "payload": base64.b64encode(
        json.dumps(forged, separators=(",", ":"), sort_keys=True).encode()).decode()}
    with pytest.raises(VerificationError, match="no signature in the envelope verifies"):
        provenance.verify(tampered, key.public)

    other = create_signing_key(tmp_path / "other" / "audit_ed25519")
    with pytest.raises(VerificationError, match=f"with key {other.key_id}"):
        provenance.verify(doc, other.public)

    # The type is inside the signed bytes: relabelling the payload breaks the signature too.
    with pytest.raises(VerificationError, match="payload type"):
        provenance.verify({**doc, "payloadType": "application/json"}, key.public)
    with pytest.raises(VerificationError, match="not a DSSE envelope"):
        provenance.verify({**doc, "payload": "***"}, key.public)
    with pytest.raises(VerificationError, match="not a DSSE envelope"):
        provenance.verify("{}", key.public)


def test_missing_artifact_or_none_is_a_usage_error(tmp_path: Path, build: BuildInfo) -> None:
    with pytest.raises(UsageError, match="cannot read the artifact"):
        provenance.build_statement([tmp_path / "missing.whl"], build)
    with pytest.raises(UsageError, match="at least one artifact"):
        provenance.build_statement([], build)
