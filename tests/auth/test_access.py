"""The reusable access helpers: role guard and scoped object loading."""

import pytest
from flask_login import login_user
from werkzeug.exceptions import Forbidden, NotFound

from app.auth.access import get_visible_or_404, roles_required, same_organisation
from app.auth.models import User


def _same_org_scope(user):
    return lambda stmt: stmt.where(User.organisation_id == user.organisation_id)


def test_scoped_loading_hides_objects_outside_the_scope(app, make_user, make_org):
    home = make_org()
    supervisor = make_user("supervisor", organisation=home)
    colleague = make_user("operator", organisation=home)
    stranger = make_user("operator")
    with app.test_request_context():
        scope = _same_org_scope(supervisor)
        assert get_visible_or_404(User, colleague.id, scope).id == colleague.id
        with pytest.raises(NotFound):
            get_visible_or_404(User, stranger.id, scope)
        with pytest.raises(NotFound):
            get_visible_or_404(User, 987654, scope)


def test_role_guard_and_organisation_check(app, make_user):
    operator = make_user("operator")

    @roles_required("supervisor", "admin")
    def supervisors_only():
        return "seen"

    with app.test_request_context():
        login_user(operator)
        with pytest.raises(Forbidden):
            supervisors_only()
        assert same_organisation(operator.organisation_id)
        assert not same_organisation(None)
        assert not same_organisation(operator.organisation_id + 1)
