"""The signing key: created once, found where configured, and a wrong or lost key is an error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from suture.audit import AuditKeyError, AuditLog
from suture.audit.keys import ENV_KEY, create_signing_key, load_signing_key, public_path
from suture.cli import audit as cli_audit


def _log(root: Path, **kw: object) -> AuditLog:
    return AuditLog.open(root, checkpoint_every=2, **kw)  # type: ignore[arg-type]


def test_first_use_creates_a_private_key_0600_and_its_public_half(tmp_path: Path) -> None:
    with _log(tmp_path) as log:
        log.append("run.started", "r1")
        key = log.signing_key()
    path = tmp_path / ".suture" / "keys" / "audit_ed25519"
    assert key.path == path and path.stat().st_mode & 0o777 == 0o600
    raw = key.public.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key.key_id == hashlib.sha256(raw).hexdigest()[:16]
    assert b"PRIVATE KEY" in path.read_bytes()
    assert b"PUBLIC KEY" in public_path(path).read_bytes()
    # Created once: a second log on the same repo signs with the same key.
    with _log(tmp_path) as again:
        assert again.signing_key().key_id == key.key_id


def test_the_key_path_comes_from_the_argument_or_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli_audit.ENV_KEY == ENV_KEY
    monkeypatch.setenv(ENV_KEY, str(tmp_path / "secrets" / "env_key"))
    with _log(tmp_path / "a") as log:
        assert log.signing_key().path == tmp_path / "secrets" / "env_key"
    with _log(tmp_path / "a", key=tmp_path / "arg_key") as log:
        assert log.signing_key().path == tmp_path / "arg_key"
    assert (tmp_path / "secrets" / "env_key.pub").is_file()


def test_a_key_that_is_not_the_logs_own_is_refused(tmp_path: Path) -> None:
    with _log(tmp_path) as log:
        for i in range(2):
            log.append("gate.result", f"s{i}")  # checkpoint at 2
    other = create_signing_key(tmp_path / "other_key")
    with _log(tmp_path, key=other.path) as log, pytest.raises(AuditKeyError, match="wrong key"):
        log.append("gate.result", "s3")
    # Losing the key must not quietly start a new one for an already signed log.
    key = tmp_path / ".suture" / "keys" / "audit_ed25519"
    key.rename(tmp_path / "moved")
    public_path(key).unlink()
    with _log(tmp_path) as log, pytest.raises(AuditKeyError, match="does not exist") as err:
        log.append("gate.result", "s3")
    assert ENV_KEY in (err.value.hint or "") and err.value.exit_code == 2
    assert not key.exists()
    with _log(tmp_path, key=tmp_path / "moved") as log:
        assert log.append("gate.result", "s3").seq == 3
        assert log.verify().ok


def test_broken_key_files_are_clear_errors(tmp_path: Path) -> None:
    key = create_signing_key(tmp_path / "k")
    other = create_signing_key(tmp_path / "o")
    public_path(key.path).write_bytes(public_path(other.path).read_bytes())
    with pytest.raises(AuditKeyError, match="wrong key"):
        load_signing_key(key.path)

    (tmp_path / "garbage").write_text("not a key\n")
    with pytest.raises(AuditKeyError, match="not a PEM private key"):
        load_signing_key(tmp_path / "garbage")

    ec = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    (tmp_path / "ec").write_bytes(ec)
    with pytest.raises(AuditKeyError, match="not an Ed25519 key"):
        load_signing_key(tmp_path / "ec")

    lost = tmp_path / "lost"
    public_path(lost).write_bytes(public_path(other.path).read_bytes())
    with pytest.raises(AuditKeyError, match="missing"):
        load_signing_key(lost)
