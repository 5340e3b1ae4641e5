"""Need-to-know for case reads: which cases a user may see, and which they may add a call to.
Every read of cases goes through one of these filters (docs/security.md, docs/search.md)."""

from __future__ import annotations

from sqlalchemy import Select, exists, false, or_, select
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.calls.models import Call
from app.cases.models import Case


def case_scope(user: User):
    """A filter for case queries: operators see the cases they opened or took a call for in their
    organisation, case managers the cases of their organisation assigned to them (a case
    manager moved to another organisation no longer sees the cases left assigned to them; those
    go back to the supervisors' queue), supervisors their organisation's; admins and partners no
    case content."""

    def scope(stmt: Select) -> Select:
        if user.role == "operator":
            # An alias, so the subquery correlates with the outer case only, even when the outer
            # query also selects calls.
            taken = aliased(Call)
            took_a_call = exists(
                select(taken.id).where(taken.case_id == Case.id, taken.taken_by_id == user.id)
            )
            return stmt.where(
                Case.organisation_id == user.organisation_id,
                or_(Case.opened_by_id == user.id, took_a_call),
            )
        if user.role == "case_manager":
            return stmt.where(
                Case.assigned_to_id == user.id, Case.organisation_id == user.organisation_id
            )
        if user.role == "supervisor":
            return stmt.where(Case.organisation_id == user.organisation_id)
        return stmt.where(false())

    return scope


def linkable_cases(user: User):
    """The cases a user may add a call to: those they may see, and for operators on the phone
    any active case of their organisation (a repeat caller's case was often opened by a
    colleague). Adding a call writes to the case without showing its content."""

    def scope(stmt: Select) -> Select:
        if user.role == "operator":
            return stmt.where(Case.organisation_id == user.organisation_id)
        return case_scope(user)(stmt)

    return scope
