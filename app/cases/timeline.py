"""A case's timeline: calls, notes, incidents, perpetrators, risk assessments, consent and
changes of status or assignment, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.audit import DETAIL_LENGTH
from app.cases.models import Case


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: when, what kind, and the record itself."""

    at: datetime
    kind: str  # call, note, incident, perpetrator, risk, consent, event
    item: object


def timeline(case: Case) -> list[Entry]:
    """Everything recorded on the case, newest first."""
    entries = [Entry(c.started_at, "call", c) for c in case.calls]
    entries += [Entry(n.written_at, "note", n) for n in case.notes]
    entries += [Entry(i.recorded_at, "incident", i) for i in case.incidents]
    entries += [Entry(p.recorded_at, "perpetrator", p) for p in case.perpetrators]
    entries += [Entry(r.assessed_at, "risk", r) for r in case.assessments]
    entries += [Entry(c.recorded_at, "consent", c) for c in case.consents]
    entries += [Entry(e.at, "event", e) for e in case.events if e.kind != "risk"]
    return sorted(entries, key=lambda e: e.at, reverse=True)


def shown_parts(entries: list[Entry], limit: int = DETAIL_LENGTH) -> str:
    """What a look at the page showed, for its audit entry: counts per kind first, then the ids
    of the calls shown, newest first, as many as the entry holds ("calls_unnamed=N" for the
    rest), so a long case never loses the counts to the cut."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.kind] = counts.get(entry.kind, 0) + 1
    text = " ".join(f"{k}={n}" for k, n in sorted(counts.items()))
    calls = [f"call:{e.item.id}" for e in entries if e.kind == "call"]
    for named, call in enumerate(calls):
        rest = len(calls) - named - 1
        tail = f" calls_unnamed={rest}" if rest else ""
        if len(text) + 1 + len(call) + len(tail) > limit:
            return f"{text} calls_unnamed={len(calls) - named}"
        text += " " + call
    return text
