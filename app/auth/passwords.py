"""Password hashing (argon2id) and the password policy: length and a common-password check."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MAX_LENGTH = 256
# argon2-cffi's defaults are RFC 9106's low-memory profile of argon2id (t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()
# Spent on unknown accounts, so a missing account takes as long to refuse as a wrong password.
_DUMMY_HASH = _hasher.hash("diemtua-timing-equaliser")


class PasswordPolicyError(ValueError):
    """A new password is refused; the message is for the user, in their language."""


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash in constant effort, even when there is none."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords from zxcvbn's lists, plus local favourites."""
    local = {"matkhau123456", "123456789abc", "diemtua123456", "abcd12345678", "qwerty123456"}
    return frozenset(FREQUENCY_LISTS["passwords"]) | local


def check_password_policy(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    """Raise PasswordPolicyError when a new password is too short, too long, or easy to guess."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise PasswordPolicyError(_l("Use at least %(n)d characters.", n=minimum))
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in _common_passwords() or lowered.strip("0123456789!.") in _common_passwords():
        raise PasswordPolicyError(
            _l("This password is one of the most common ones. Choose another.")
        )
    inputs = [part for value in user_inputs for part in value.lower().replace("@", " ").split()]
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < 3:
        raise PasswordPolicyError(
            _l("This password is easy to guess. A few unrelated words make a strong one.")
        )
