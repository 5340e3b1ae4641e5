"""The only place that touches keys and ciphers.

The instance key file (JSON, mode 0600, never committed) holds key-encryption keys, each with a
short id, one of them active. Application secrets (one-time-code seeds) are sealed with AES-256-GCM
under a key derived from a KEK, with associated data naming what the value is, so a sealed value
cannot be moved to another place. Server-side session data is sealed under a key derived from the
session id that only the browser holds, so the session table reveals nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE_VERSION = 1
NONCE_BYTES = 12


class KeyFileError(RuntimeError):
    """The key file is missing, unreadable or malformed; the message says what to do."""


class DecryptionError(RuntimeError):
    """A sealed value failed to open: wrong key, wrong place, or tampered with."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def _derive(key: bytes, info: str, length: int = 32) -> bytes:
    """Derive a purpose-bound subkey with HKDF-SHA256."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info.encode()).derive(key)


@dataclass(frozen=True)
class Keyring:
    """The key-encryption keys of one installation, loaded from its key file."""

    keks: dict[str, bytes]
    active_kek_id: str
    index_key: bytes

    def fingerprint(self) -> str:
        """A short, non-secret identifier of this key set, safe to store and show."""
        digest = hmac.new(self.keks[self.active_kek_id], b"diemtua-fingerprint", hashlib.sha256)
        return f"{self.active_kek_id}:{digest.hexdigest()[:16]}"

    def seal_secret(self, value: str, *, context: str) -> str:
        """Encrypt an application secret under the active KEK, bound to its context."""
        key = _derive(self.keks[self.active_kek_id], "diemtua/app-secret/v1")
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, value.encode(), context.encode())
        return f"v1.{self.active_kek_id}.{_b64(nonce + sealed)}"

    def open_secret(self, token: str, *, context: str) -> str:
        """Decrypt a value sealed by seal_secret in the same context, or raise DecryptionError."""
        try:
            version, kek_id, payload = token.split(".", 2)
            key = _derive(self.keks[kek_id], "diemtua/app-secret/v1")
            raw = _unb64(payload)
            plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (ValueError, KeyError, InvalidTag) as exc:
            raise DecryptionError(f"sealed value for {context!r} failed to open") from exc
        if version != "v1":
            raise DecryptionError(f"unknown sealed value version for {context!r}")
        return plain.decode()

    def keyed_hash(self, value: str, *, purpose: str) -> str:
        """HMAC-SHA256 of a value under a per-purpose key, for lookups that must not reveal it."""
        key = _derive(self.index_key, f"diemtua/index/{purpose}")
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def load_keyring(path: str | Path) -> Keyring:
    """Read the key file, refusing with one plain sentence when it is missing or broken."""
    path = Path(path)
    if not path.exists():
        raise KeyFileError(
            f"The key file {path} is missing: restore it from your key backup, "
            "or run 'make run' once to create a new installation."
        )
    try:
        data = json.loads(path.read_text())
        keks = {kid: _unb64(k) for kid, k in data["keks"].items()}
        ring = Keyring(keks=keks, active_kek_id=data["active_kek"], index_key=_unb64(data["index"]))
        if ring.active_kek_id not in keks or any(len(k) != 32 for k in keks.values()):
            raise ValueError("bad key length or active key id")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(
            f"The key file {path} cannot be read: check its permissions, "
            "or restore it from your key backup."
        ) from exc
    return ring


def write_new_key_file(path: str | Path) -> None:
    """Create a fresh key file readable only by its owner; never overwrite an existing one."""
    path = Path(path)
    content = {
        "version": KEY_FILE_VERSION,
        "keks": {"k1": _b64(secrets.token_bytes(32))},
        "active_kek": "k1",
        "index": _b64(secrets.token_bytes(32)),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)


def session_key_id(sid: str) -> str:
    """The database key of a session: a hash of the cookie value, which is never stored."""
    return hashlib.sha256(sid.encode()).hexdigest()


def seal_session(sid: str, payload: bytes) -> bytes:
    """Encrypt session data under a key only the holder of the session cookie can derive."""
    key = _derive(sid.encode(), "diemtua/session/v1")
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, payload, b"web_session")


def open_session(sid: str, sealed: bytes) -> bytes:
    """Decrypt session data; raises DecryptionError when it does not belong to this cookie."""
    key = _derive(sid.encode(), "diemtua/session/v1")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], b"web_session")
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("session data failed to open") from exc
