"""Session data sealed under a key derived from the session id, which only the browser holds."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.keyring import derive, open_bytes, seal_bytes


def session_key_id(sid: str) -> str:
    """The database key of a session: a hash of the cookie value, which is never stored."""
    return hashlib.sha256(sid.encode()).hexdigest()


def seal_session(sid: str, payload: bytes) -> bytes:
    """Encrypt session data under a key only the holder of the session cookie can derive."""
    return seal_bytes(AESGCM(derive(sid.encode(), "diemtua/session/v1")), payload, b"web_session")


def open_session(sid: str, sealed: bytes) -> bytes:
    """Decrypt session data; raises DecryptionError when it does not belong to this cookie."""
    return open_bytes(AESGCM(derive(sid.encode(), "diemtua/session/v1")), sealed, b"web_session")
