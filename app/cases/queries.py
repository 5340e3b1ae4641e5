"""Reads of cases, scoped to what the current user may see (need-to-know)."""

from __future__ import annotations

from sqlalchemy import Select, false

from app.auth.models import User
from app.cases.models import Case


def case_scope(user: User):
    """A filter for case queries: operators see the cases they opened in their organisation,
    case managers the cases assigned to them (possibly from a partner hotline), supervisors their
    organisation's; admins and partners no case content."""

    def scope(stmt: Select) -> Select:
        if user.role == "operator":
            return stmt.where(
                Case.opened_by_id == user.id, Case.organisation_id == user.organisation_id
            )
        if user.role == "case_manager":
            return stmt.where(Case.assigned_to_id == user.id)
        if user.role == "supervisor":
            return stmt.where(Case.organisation_id == user.organisation_id)
        return stmt.where(false())

    return scope
