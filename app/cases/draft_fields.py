"""A case-page draft's fields: what they may hold, what counts as typed in them, and the form data
they fill a form with again (app/cases/drafts.py keeps and finds the drafts)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from werkzeug.datastructures import MultiDict

from app.cases.models import CaseDraft
from app.crypto.datakeys import keyring

MAX_PAYLOAD = 100_000  # characters of JSON; the longest case form is a few kB
# Fields a form carries for its own bookkeeping: a draft holding nothing else holds nothing typed
# (`seen`: what the page showed of a risk assessment or of a part being corrected).
BOOKKEEPING = {"csrf_token", "form_key", "copy_of", "version", "base", "to", "submit", "seen"}
# Fields a page sends nothing of when nothing in them is ticked.
TICKED = {"MultiCheckboxField", "BooleanField", "RadioField"}


class DraftError(Exception):
    """The draft could not be kept (too large, malformed, or no such form)."""


def clean(fields: dict) -> dict:
    """The fields as strings and lists of strings, the CSRF token left out."""
    out: dict[str, str | list[str]] = {}
    for name, value in fields.items():
        if not isinstance(name, str) or name == "csrf_token":
            continue
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[name] = value
        else:
            raise DraftError("not a form's fields")
    if len(json.dumps(out, ensure_ascii=False)) > MAX_PAYLOAD:
        raise DraftError("draft too large")
    return out


def sent_key(page: uuid.UUID | None, fields) -> uuid.UUID | None:
    """The key a page's form is recorded under when it is sent: the page's key and what the
    form held (`fields`: the form as posted, or a draft's fields). The same text sent again
    from the page (a double click, a retry after a timeout, the back button) finds it taken;
    other text sent under the same key (two tabs showing one draft brought back, a page sent,
    gone back to and changed) is a sending of its own, saved too, so neither is lost. A keyed
    hash under a key no blind-index rebuild changes (a double click straddling `flask keys
    reindex` is still one sending): the record says nothing of the text. None for a form
    with no key."""
    if page is None:
        return None
    if isinstance(fields, MultiDict):
        fields = {name: fields.getlist(name) for name in fields}
    content = []
    for name in sorted(fields):
        if name in BOOKKEEPING:
            continue
        value = fields[name]
        items = value if isinstance(value, list) else [value]
        # Line ends as a page sends them (a form post gives CRLF, a page's FormData LF).
        content.append([name, [str(v).replace("\r\n", "\n").replace("\r", "\n") for v in items]])
    text = json.dumps([str(page), content], ensure_ascii=False, separators=(",", ":"))
    return uuid.UUID(keyring().lasting_hash(text, purpose="form-sent")[:32])


def _values(value) -> list[str]:
    """A field's values as compared: text trimmed, line ends as a browser gives them."""
    if value is None or value is False:
        return []
    if value is True:
        return ["y"]
    items = value if isinstance(value, list) else [value]
    texts = (str(v).replace("\r\n", "\n").strip() for v in items)
    return [text for text in texts if text]


def holds_typing(start, fields: dict) -> bool:
    """Whether anything in the fields differs from the form as it opens (`start`): something
    typed, chosen or cleared; not a choice an empty form starts with (a note's kind, an
    incident's place "unknown"), nor an edit's values as stored."""
    for name, value in fields.items():
        if name in BOOKKEEPING:
            continue
        opened = _values(start[name].data) if name in start._fields else []
        if sorted(_values(value)) != sorted(opened):
            return True
    # A group of boxes with none ticked is not sent at all (a browser's FormData leaves it out):
    # boxes that opened ticked and are missing were unticked.
    return any(
        field.type in TICKED and name not in fields and _values(field.data)
        for name, field in start._fields.items()
    )


class Restored:
    """A draft offered back: its fields (as a form's data), when they were last typed, and how
    many other drafts of the same form the person has on the case (other tabs)."""

    def __init__(self, draft: CaseDraft, fields: dict, others: int):
        self.form = draft.form
        self.page = draft.page  # the draft's own key (the copy's form has another when live)
        self.updated_at: datetime = draft.updated_at
        self.fields = fields
        self.others = others
        self.live = False  # a copy of a draft a page still open may be typing

    def formdata(self) -> MultiDict:
        data = MultiDict()
        for name, value in self.fields.items():
            for one in value if isinstance(value, list) else [value]:
                data.add(name, one)
        return data


# A copy (drafts.restore) names the pages it was copied from, newest first, each with the key
# of the text it held then ("PAGE:KEY PAGE:KEY"): a page reloaded twice is a copy of a copy.
MAX_SOURCES = 5


def mark_copy(fields: dict, page: uuid.UUID) -> None:
    """Mark fields brought back from `page`'s draft as a copy of it (and of what it copied)."""
    sources = [(page, sent_key(page, fields))] + copy_sources(fields.get("copy_of"))
    fields["copy_of"] = " ".join(f"{p}:{k}" for p, k in sources[:MAX_SOURCES])


def copy_sources(value) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The (page, key of its text when copied) pairs a copy's mark names; none if malformed."""
    if not isinstance(value, str):
        return []
    found = []
    for item in value.split()[:MAX_SOURCES]:
        page, _, key = item.partition(":")
        try:
            found.append((uuid.UUID(page), uuid.UUID(key)))
        except ValueError:
            return []
    return found
