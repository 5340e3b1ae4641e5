"""The key file and what is done with its keys: wrapping data keys, sealing values, index digests.

The key file (JSON, mode 0600, never committed; or the KEYS_JSON environment variable) holds:
- key-encryption keys (KEK) with short ids; one is active, older ones stay to unwrap until
  `flask keys rotate` has re-wrapped every data key, then they are retired;
- blind-index keys with short ids; one is active (`flask keys reindex` makes a new one);
- the audit key, which keys the audit log's hash chain and never changes.
Data keys (one per case, call or account) are random AES-256 keys stored wrapped by a KEK.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE_VERSION = 3
NONCE_BYTES = 12
SEALED_MAGIC = b"\x01"  # format version of a sealed value: 1 byte, then nonce, then ciphertext+tag


class KeyFileError(RuntimeError):
    """The key file is missing, unreadable or malformed; the message says what to do."""


class DecryptionError(RuntimeError):
    """A sealed value failed to open: wrong key, wrong place, or tampered with."""


def b64(data: bytes) -> str:
    """URL-safe base64 text of bytes."""
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Bytes of URL-safe base64 text."""
    return base64.urlsafe_b64decode(text.encode("ascii"))


def derive(key: bytes, info: str, length: int = 32) -> bytes:
    """A purpose-bound subkey (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info.encode()).derive(key)


def seal_bytes(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a fresh 96-bit nonce; the result carries its format byte and nonce."""
    nonce = os.urandom(NONCE_BYTES)
    return SEALED_MAGIC + nonce + aead.encrypt(nonce, plaintext, aad)


def open_bytes(aead: AESGCM, sealed: bytes, aad: bytes) -> bytes:
    """Open what seal_bytes made with the same key and associated data, or raise."""
    if not sealed or sealed[:1] != SEALED_MAGIC:
        raise DecryptionError("not a sealed value")
    try:
        return aead.decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], aad)
    except InvalidTag as exc:
        raise DecryptionError("sealed value failed to open") from exc


@dataclass(frozen=True)
class Keyring:
    """The key-encryption and blind-index keys of one installation."""

    keks: dict[str, bytes]
    active_kek_id: str
    index_keys: dict[str, bytes]
    active_index_id: str
    audit_key: bytes
    source: str = field(default="", compare=False)

    def fingerprint(self) -> str:
        """A short, non-secret identifier of the active KEK, safe to store and show."""
        return kek_fingerprint(self.active_kek_id, self.keks[self.active_kek_id])

    def fingerprints(self) -> dict[str, str]:
        """Fingerprints of every KEK in the file."""
        return {kid: kek_fingerprint(kid, key) for kid, key in self.keks.items()}

    def wrap(self, data_key: bytes, *, data_key_id: int) -> tuple[str, bytes]:
        """Wrap a data key under the active KEK, bound to its row; returns (kek id, wrapped)."""
        aead = AESGCM(self.keks[self.active_kek_id])
        aad = f"diemtua/data-key/{data_key_id}/{self.active_kek_id}".encode()
        return self.active_kek_id, seal_bytes(aead, data_key, aad)

    def unwrap(self, kek_id: str, wrapped: bytes, *, data_key_id: int) -> bytes:
        """Unwrap a data key; a KEK missing from the file is a KeyFileError, not empty data."""
        if kek_id not in self.keks:
            raise KeyFileError(
                f"The key file has no key {kek_id!r}, which data key {data_key_id} needs: "
                "restore the key file from your key backup."
            )
        aad = f"diemtua/data-key/{data_key_id}/{kek_id}".encode()
        return open_bytes(AESGCM(self.keks[kek_id]), wrapped, aad)

    def index_digest(
        self, field_name: str, value: str, *, bits: int, index_id: str | None = None
    ) -> bytes:
        """HMAC-SHA256 of a normalised value under the field's own key, cut to `bits` bits."""
        kid = index_id or self.active_index_id
        key = self._subkey(kid, f"diemtua/blind-index/{field_name}")
        digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
        return digest[: max(1, bits // 8)]

    def audit_mac(self, canonical: bytes) -> str:
        """HMAC-SHA256 (hex) of an audit entry's canonical form under the audit key."""
        mac = self._audit_hmac.copy()  # the keyed state is prepared once
        mac.update(canonical)
        return mac.hexdigest()

    def _subkey(self, kid: str, info: str) -> bytes:
        """derive(index key `kid`, info), derived once and kept."""
        key = self._subkeys.get((kid, info))
        if key is None:
            key = self._subkeys[kid, info] = derive(self.index_keys[kid], info)
        return key

    @cached_property
    def _subkeys(self) -> dict[tuple[str, str], bytes]:
        return {}

    @cached_property
    def _audit_hmac(self) -> hmac.HMAC:
        return hmac.new(self.audit_key, digestmod=hashlib.sha256)

    def keyed_hash(self, value: str, *, purpose: str) -> str:
        """HMAC-SHA256 (hex) under a per-purpose key, for lookups that must not reveal the value."""
        return self._index_hash(self.active_index_id, value, purpose)

    def keyed_hashes(self, value: str, *, purpose: str) -> list[str]:
        """keyed_hash under every index key in the file (records keyed before a rebuild)."""
        return [self._index_hash(kid, value, purpose) for kid in self.index_keys]

    def _index_hash(self, kid: str, value: str, purpose: str) -> str:
        key = self._subkey(kid, f"diemtua/index/{purpose}")
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    def lasting_hash(self, value: str, *, purpose: str) -> str:
        """HMAC-SHA256 (hex) under a per-purpose key no rebuild changes (derived from the audit
        key, kept for the installation's life): for a key a record is found by for good (a
        register row imported once), which keyed_hash's would lose at `flask keys reindex`."""
        key = self._lasting_keys.get(purpose)
        if key is None:
            key = self._lasting_keys[purpose] = derive(self.audit_key, f"diemtua/lasting/{purpose}")
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    @cached_property
    def _lasting_keys(self) -> dict[str, bytes]:
        return {}

    def with_new_kek(self) -> Keyring:
        """A copy with a fresh active KEK; the old ones stay for unwrapping."""
        kid = _next_id("k", self.keks)
        return replace(self, keks=self.keks | {kid: secrets.token_bytes(32)}, active_kek_id=kid)

    def without_keks(self, retired: set[str]) -> Keyring:
        """A copy without retired KEKs (never the active one)."""
        keep = {k: v for k, v in self.keks.items() if k not in retired or k == self.active_kek_id}
        return replace(self, keks=keep)

    def with_new_index_key(self) -> Keyring:
        """A copy with a fresh active blind-index key."""
        kid = _next_id("i", self.index_keys)
        return replace(
            self, index_keys=self.index_keys | {kid: secrets.token_bytes(32)}, active_index_id=kid
        )

    def without_index_keys(self, retired: set[str]) -> Keyring:
        """A copy without retired index keys (never the active one)."""
        keep = {
            k: v
            for k, v in self.index_keys.items()
            if k not in retired or k == self.active_index_id
        }
        return replace(self, index_keys=keep)

    def to_json(self) -> str:
        """The key file's text."""
        return json.dumps(
            {
                "version": KEY_FILE_VERSION,
                "keks": {k: b64(v) for k, v in self.keks.items()},
                "active_kek": self.active_kek_id,
                "index_keys": {k: b64(v) for k, v in self.index_keys.items()},
                "active_index": self.active_index_id,
                "audit": b64(self.audit_key),
            },
            indent=2,
        )


def kek_fingerprint(kid: str, key: bytes) -> str:
    """`kid:` and 16 hex digits of an HMAC of a fixed label, revealing nothing of the key."""
    return f"{kid}:{hmac.new(key, b'diemtua-fingerprint', hashlib.sha256).hexdigest()[:16]}"


def _next_id(prefix: str, existing: dict) -> str:
    numbers = [int(k[1:]) for k in existing if k[1:].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def new_keyring() -> Keyring:
    """Fresh keys for a new installation."""
    return Keyring(
        keks={"k1": secrets.token_bytes(32)},
        active_kek_id="k1",
        index_keys={"i1": secrets.token_bytes(32)},
        active_index_id="i1",
        audit_key=secrets.token_bytes(32),
    )


def parse_keyring(text: str, *, source: str) -> Keyring:
    """Read key file text, checking every key."""
    data = json.loads(text)
    if data.get("version") != KEY_FILE_VERSION:
        raise ValueError("unknown key file version")
    keks = {kid: unb64(k) for kid, k in data["keks"].items()}
    index_keys = {kid: unb64(k) for kid, k in data["index_keys"].items()}
    ring = Keyring(
        keks=keks,
        active_kek_id=data["active_kek"],
        index_keys=index_keys,
        active_index_id=data["active_index"],
        audit_key=unb64(data["audit"]),
        source=source,
    )
    lengths = [len(k) for k in (*keks.values(), *index_keys.values(), ring.audit_key)]
    if (
        ring.active_kek_id not in keks
        or ring.active_index_id not in index_keys
        or set(lengths) != {32}
    ):
        raise ValueError("bad key length or active key id")
    return ring


def load_keyring(path: str | Path) -> Keyring:
    """The keys from KEYS_JSON or the key file, refusing with one plain sentence when broken."""
    if os.environ.get("KEYS_JSON"):
        try:
            return parse_keyring(os.environ["KEYS_JSON"], source="KEYS_JSON")
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyFileError(
                "The KEYS_JSON environment variable cannot be read: "
                "set it to the content of your key file."
            ) from exc
    path = Path(path)
    if not path.exists():
        raise KeyFileError(
            f"The key file {path} is missing: restore it from your key backup, "
            "or run 'make run' once to create a new installation."
        )
    try:
        return parse_keyring(path.read_text(), source=str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(
            f"The key file {path} cannot be read: check its permissions, "
            "or restore it from your key backup."
        ) from exc


def save_keyring(ring: Keyring, path: str | Path) -> None:
    """Replace the key file atomically, readable only by its owner."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(ring.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_new_key_file(path: str | Path) -> None:
    """Create a fresh key file readable only by its owner; never overwrite an existing one."""
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(new_keyring().to_json())
