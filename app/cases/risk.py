"""The risk checklist: yes/no questions drawn from the Danger Assessment (J. Campbell) and the
SafeLives DASH checklist, adapted to Vietnamese hotline practice; see docs/risk.md.

Each "yes" counts one point. Three answers are red flags, because they predict lethal violence
most strongly: strangulation, threats to kill, and a weapon used or threatened. The level:

- severe: two or more red flags, or 10 points or more;
- high: one red flag, or 6 points or more;
- medium: 3 points or more;
- low: otherwise.

The person assessing may raise the level (never lower it) on professional judgement, with a
reason; the computed level is kept next to the final one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

QUESTIONS = {
    "escalating": _l("The violence has become more frequent or worse"),
    "threats_to_kill": _l("Threatened to kill the survivor, the children or someone else"),
    "weapon_used": _l("Used or threatened with a knife, gun or other weapon"),
    "strangulation": _l("Choked, strangled or smothered the survivor"),
    "weapon_access": _l("Has easy access to a weapon"),
    "fears_death": _l("The survivor believes they could be killed"),
    "pregnant": _l("The survivor is pregnant or had a baby in the last 18 months"),
    "separating": _l("The survivor has left or is trying to leave"),
    "controlling": _l("Controls daily life, money or phone; extreme jealousy"),
    "substance": _l("Drinks heavily or uses drugs"),
    "children_harmed": _l("Has harmed or threatened the children"),
    "sexual_violence": _l("Has forced sex"),
    "suicide_threats": _l("Has threatened or attempted suicide"),
    "injuries": _l("Injuries that needed medical care"),
    "order_broken": _l("Has broken a prohibition of contact or other order"),
    "isolated": _l("The survivor has nowhere safe to go"),
}
RED_FLAGS = ("strangulation", "threats_to_kill", "weapon_used")
LEVELS = ("low", "medium", "high", "severe")


@dataclass(frozen=True)
class Score:
    """What a checklist gives: points, red flags met, and the computed level."""

    points: int
    red_flags: int
    level: str


def score(answers: list[str]) -> Score:
    """Score the questions answered yes (unknown codes are ignored)."""
    yes = {a for a in answers if a in QUESTIONS}
    red = sum(1 for a in RED_FLAGS if a in yes)
    points = len(yes)
    if red >= 2 or points >= 10:
        level = "severe"
    elif red == 1 or points >= 6:
        level = "high"
    elif points >= 3:
        level = "medium"
    else:
        level = "low"
    return Score(points=points, red_flags=red, level=level)


def final_level(computed: str, raised_to: str | None) -> str:
    """Professional judgement may raise the level, never lower it."""
    if raised_to in LEVELS and LEVELS.index(raised_to) > LEVELS.index(computed):
        return raised_to
    return computed


def at_least_high(level: str | None) -> bool:
    """Whether a level calls for a safety re-assessment task."""
    return level in ("high", "severe")
