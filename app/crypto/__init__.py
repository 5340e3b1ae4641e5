"""The only place that touches keys, ciphers and blind indexes.

- keyring: the key file, KEK wrapping, sealing primitives, blind-index digests;
- datakeys: per-case (per-call, per-account) data keys and sealed model fields;
- blind: blind indexes for exact lookups (phone numbers first);
- sessions: sealing of server-side session data under the cookie's own key.
"""

from app.crypto.keyring import (
    DecryptionError,
    KeyFileError,
    Keyring,
    load_keyring,
    save_keyring,
    write_new_key_file,
)
from app.crypto.sessions import open_session, seal_session, session_key_id

__all__ = [
    "DecryptionError",
    "KeyFileError",
    "Keyring",
    "load_keyring",
    "open_session",
    "save_keyring",
    "seal_session",
    "session_key_id",
    "write_new_key_file",
]
