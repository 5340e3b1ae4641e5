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


def untouched_since(case_id: uuid.UUID, base: dict[str, str] | None, now: dict) -> bool:
    """Whether none of the editable values moved since the editor's start (`base`): the case's
    version moved on for something else (a note, a task, a call, an assignment), and an edit
    of the survivor's details takes nothing of it. A start not known is not known untouched."""
    if base is None:
        return False
    return all(
        hmac.compare_digest(_digest(case_id, name, now.get(name)), base[name]) for name in EDITABLE
    )


def differs(name: str, mine, theirs) -> bool:
    """Whether the two values differ as a person would see them."""
    return _normal(name, mine) != _normal(name, theirs)


SIDES = ("theirs", "mine")
WHO = ("theirs", "mine", "both")
# A list (the services wanted) both people added to may also be kept as both lists together.
LISTS = ("services_wanted",)


def picks(name: str) -> tuple[str, ...]:
    """What the screen may keep of a field: either side, or for a list both lists together."""
    return SIDES + ("both",) if name in LISTS else SIDES


def together(mine, theirs) -> list[str]:
    """Both lists of codes as one: the editor's, then what only the other person's holds."""
    out = list(c.codes(mine) if isinstance(mine, str) or mine is None else mine)
    for code in c.codes(theirs) if isinstance(theirs, str) or theirs is None else theirs:
        if code not in out:
            out.append(code)
    return out


def both_lists(name: str, mine, theirs) -> str | None:
    """The two lists together, as stored, when that is a third choice (each holds something
    the other lacks); None otherwise."""
    if name not in LISTS:
        return None
    union = together(mine, theirs)
    if len(union) in (len(c.codes(mine)), len(c.codes(theirs))):
        return None
    return " ".join(union)


def decide(
    case_id: uuid.UUID,
    base: dict[str, str] | None,
    mine: dict,
    theirs: dict,
    said: dict[str, tuple[str, str]] | None = None,
) -> dict[str, tuple[str, str]]:
    """Each field that differs: who changed it, and the side marked to keep ("" while the
    editor has to choose: a field both changed). `said`: the screen sent back without every
    choice, its rows' who and choice as they were, which stand."""
    decided = {}
    for name in EDITABLE:
        if not differs(name, mine.get(name), theirs.get(name)):
            continue
        if said is not None:
            who, keep = said.get(name, ("both", ""))
            who = who if who in WHO else "both"
        else:
            who, keep = who_changed(case_id, name, base, mine.get(name), theirs.get(name)), ""
        if keep not in picks(name):
            keep = who if who in SIDES else ""
        decided[name] = (who, keep)
    if said is None:
        _pair_places(decided)
    return decided


def _pair_places(decided: dict[str, tuple[str, str]]) -> None:
    """A commune is marked from the same side as its province: marked apart, the two could make
    a pair the edit refuses (their new province with this editor's commune of the old one).
    When either waits for the editor's choice, so does the other."""
    if "province_code" not in decided or "commune_code" not in decided:
        return
    (p_who, p_keep), (c_who, c_keep) = decided["province_code"], decided["commune_code"]
    keep = p_keep if p_keep and c_keep else ""
    decided["province_code"], decided["commune_code"] = (p_who, keep), (c_who, keep)


def next_base(case_id: uuid.UUID, theirs: dict, base: dict[str, str] | None, decided: dict) -> str:
    """The `base` of the conflict screen's form: saved from there the edit starts from their
    version, but a field both changed keeps the editor's start, so it is compared as changed by
    both until the editor has chosen."""
    start = base or {}
    both = {name: start.get(name, UNKNOWN) for name, (who, _) in decided.items() if who == "both"}
    return fingerprints(case_id, theirs, kept=both)
