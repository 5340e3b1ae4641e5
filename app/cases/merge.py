"""Who changed what, for the conflict screen: the edit form carries a fingerprint of each value
it started from, so when someone else saved first each differing field can be told apart as
changed by them only, by this editor only, or by both.

A field only the other person changed keeps their value, one only this editor changed keeps the
editor's, unless the editor picks otherwise; a field both changed is shown as such and needs the
editor's eye. Saving from the screen never quietly undoes the other person's work on a field
this editor did not touch.

The fingerprints are keyed digests (HMAC-SHA-256 under a key derived from the app's secret key
for this use alone, bound to the case and the field), 16 hex digits each: the page holds the
values themselves anyway, and a digest of another case's or another field's value never matches.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from flask import current_app

from app import classifications as c
from app.cases.services import EDITABLE

DIGITS = 16
# Shown in one-line boxes, whose values browsers send without line breaks (an imported
# register's cell may hold some).
ONE_LINE = {"survivor_name", "survivor_phone", "survivor_address"}


def _normal(name: str, value) -> str:
    """The value as compared: a form's round trip (line ends, trailing spaces, the order of a
    multiple choice) is not a change."""
    if value is None:
        return ""
    if name == "services_wanted":
        return " ".join(sorted(c.codes(value)))
    if name in ONE_LINE:
        return str(value).replace("\r", "").replace("\n", "").strip()
    lines = str(value).replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _digest(case_id: uuid.UUID, name: str, value) -> str:
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    key = hmac.new(secret, b"case edit: starting values", hashlib.sha256).digest()  # this use's own
    message = f"{case_id}\x1f{name}\x1f{_normal(name, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:DIGITS]


# Stands for a start not known: no value's digest is this (as good as never), so a field kept at
# it counts as changed by both.
UNKNOWN = "0" * DIGITS


def fingerprints(case_id: uuid.UUID, values: dict, *, kept: dict[str, str] | None = None) -> str:
    """The form's `base`: one digest a field, in the order of EDITABLE. `kept`: digests to carry
    over as they are (a field both people changed keeps the editor's start, so whatever happens
    next, a third save or a detour through the edit page, it is still compared as changed by
    both until the editor has chosen)."""
    kept = kept or {}
    return ".".join(kept.get(name) or _digest(case_id, name, values.get(name)) for name in EDITABLE)


def read_base(typed: str | None) -> dict[str, str] | None:
    """The digests a form came back with; None when there are none or they are not this form's
    (a page from before fingerprints, or an altered field): then nothing is known of the start."""
    parts = (typed or "").split(".")
    if len(parts) != len(EDITABLE):
        return None
    if not all(len(p) == DIGITS and all(ch in "0123456789abcdef" for ch in p) for p in parts):
        return None
    return dict(zip(EDITABLE, parts, strict=True))


def who_changed(case_id: uuid.UUID, name: str, base: dict[str, str] | None, mine, theirs) -> str:
    """'theirs' when only the other person changed the field since the editor's start, 'mine'
    when only the editor did, 'both' when both did (or the start is not known)."""
    if base is None:
        return "both"
    mine_moved = not hmac.compare_digest(_digest(case_id, name, mine), base[name])
    theirs_moved = not hmac.compare_digest(_digest(case_id, name, theirs), base[name])
    if theirs_moved and not mine_moved:
        return "theirs"
    if mine_moved and not theirs_moved:
        return "mine"
    return "both"


def differs(name: str, mine, theirs) -> bool:
    """Whether the two values differ as a person would see them."""
    return _normal(name, mine) != _normal(name, theirs)
