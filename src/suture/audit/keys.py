"""The Ed25519 key that signs audit checkpoints: where it lives, loading, first-use creation."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from suture.errors import UsageError
from suture.store.db import STATE_DIR, ensure_state_dir

ENV_KEY = "SUTURE_AUDIT_KEY"
KEY_DIR = "keys"
KEY_FILE = "audit_ed25519"


class AuditKeyError(UsageError):
    """The signing or verifying key is missing, unreadable, malformed or not the log's key."""


def default_key_path(root: Path | str) -> Path:
    """`<root>/.suture/keys/audit_ed25519`."""
    return Path(root) / STATE_DIR / KEY_DIR / KEY_FILE


def key_path(root: Path | str, explicit: Path | str | None = None) -> Path:
    """The private key's path: `explicit`, else $SUTURE_AUDIT_KEY, else the default under root."""
    chosen = explicit or os.environ.get(ENV_KEY, "").strip()
    return Path(chosen).expanduser() if chosen else default_key_path(root)


def public_path(private: Path) -> Path:
    """Where the public half of `private` is kept: alongside it, with `.pub` appended."""
    return private.with_name(private.name + ".pub")


def compute_key_id(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw 32-byte public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    """A key checkpoints are checked against, and where it came from (for messages)."""

    key: Ed25519PublicKey
    key_id: str
    source: str

    def pem(self) -> str:
        """The key as SubjectPublicKeyInfo PEM text, as stored in the `.pub` file."""
        return _public_pem(self.key).decode("ascii")

    def verifies(self, signature_hex: str, message: bytes) -> bool:
        """True when `signature_hex` is this key's signature over `message`."""
        try:
            self.key.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """The private key that signs checkpoints, with its public half."""

    path: Path
    private: Ed25519PrivateKey
    public: PublicKey

    @property
    def key_id(self) -> str:
        """The public key's id."""
        return self.public.key_id

    def sign(self, message: bytes) -> str:
        """The Ed25519 signature over `message`, in hex."""
        return self.private.sign(message).hex()


def load_signing_key(path: Path) -> SigningKey | None:
    """The key at `path` (writing a lost `.pub` back), or None when neither file exists."""
    pub_path = public_path(path)
    if not path.exists():
        if pub_path.exists():
            raise AuditKeyError(
                f"the audit signing key {path} is missing, but its public key {pub_path} is there",
                hint=f"restore the private key to {path} (or set {ENV_KEY} to where it is); "
                "suture will not silently start a new key for an existing log",
            )
        return None
    private = _load_private(path)
    public = PublicKey(private.public_key(), compute_key_id(private.public_key()), str(path))
    if pub_path.exists():
        stored = load_public_key(pub_path)
        if stored.key_id != public.key_id:
            raise AuditKeyError(
                f"wrong key: {path} (key id {public.key_id}) is not the private half of "
                f"{pub_path} (key id {stored.key_id})",
                hint="put the matching pair side by side, or point "
                f"{ENV_KEY} at the key that signs this log",
            )
    else:
        write_public(pub_path, private.public_key())
    return SigningKey(path, private, public)


def create_signing_key(path: Path, *, state_root: Path | None = None,
                       exclusive: bool = False) -> SigningKey:
    """Make a new key at `path` (mode 0600) and its `.pub`; if another process won, use theirs.

    With `exclusive`, a key already at `path` is an AuditKeyError instead.
    """
    try:
        if state_root is not None:
            ensure_state_dir(state_root / STATE_DIR)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            # link() refuses to replace: of two first uses at once, exactly one key wins.
            os.link(tmp, path)
        except FileExistsError:
            if exclusive:
                raise AuditKeyError(
                    f"{path} already exists: another key rotation is running, or one was "
                    "interrupted before it changed the audit log",
                    hint=f"if no `suture audit key rotate` is running, delete {path} and "
                    "rotate again",
                ) from None
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise AuditKeyError(
            f"cannot create the audit signing key {path}: {exc.strerror or exc}",
            hint=f"make {path.parent} writable, or set {ENV_KEY} to a key file you can write",
        ) from exc
    key = load_signing_key(path)
    if key is None:  # pragma: no cover - someone deleted it in the instant since
        raise AuditKeyError(f"the audit signing key {path} vanished while being created")
    return key


def load_public_key(path: Path) -> PublicKey:
    """A public key from a `.pub` PEM file, or the public half of a private key file."""
    data = _read(path, "public key")
    try:
        if b"PRIVATE KEY" in data:
            key: object = _load_private(path).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise AuditKeyError(f"{path} is not a PEM public key: {exc}",
                            hint="give the `.pub` file written next to the audit key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 public key",
                            hint="give the `.pub` file written next to the audit key")
    return PublicKey(key, compute_key_id(key), str(path))


def public_key_from_pem(text: str, source: str) -> PublicKey:
    """A public key from PEM text (e.g. the one an export carries)."""
    try:
        key = serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise AuditKeyError(f"the public key in {source} is not valid PEM: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"the public key in {source} is not an Ed25519 key")
    return PublicKey(key, compute_key_id(key), source)


def _load_private(path: Path) -> Ed25519PrivateKey:
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # encrypted PEM
        raise AuditKeyError(f"the audit signing key {path} is encrypted",
                            hint="suture needs an unencrypted PKCS#8 PEM key; protect it with "
                            "file permissions (mode 0600) instead") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise AuditKeyError(f"the audit signing key {path} is not a PEM private key",
                            hint=f"restore the original key, or point {ENV_KEY} at it") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"the audit signing key {path} is a {type(key).__name__}, "
                            "not an Ed25519 key",
                            hint=f"point {ENV_KEY} at an Ed25519 key, or remove the file so "
                            "suture creates one")
    return key


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit {what} {path}: {exc.strerror or exc}",
                            hint=f"check that it exists and is readable by you, or set {ENV_KEY}"
                            ) from exc


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def write_public(path: Path, key: Ed25519PublicKey) -> None:
    """Write the public key as PEM (mode 0644), replacing the file atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_bytes(_public_pem(key))
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AuditKeyError(f"cannot write the audit public key {path}: {exc.strerror or exc}",
                            hint=f"make {path.parent} writable") from exc
