"""The base layout: every field has a label, navigation follows the role, a skip link exists."""

from html.parser import HTMLParser

import pytest


class FieldsAndLabels(HTMLParser):
    """Collect form controls and the ids that labels point at."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_targets: set[str] = set()
        self.in_label = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if attributes.get("for"):
                self.label_targets.add(attributes["for"])
        if tag in ("input", "select", "textarea"):
            kind = attributes.get("type", "text")
            if kind not in ("hidden", "submit", "button"):
                self.controls.append(attributes | {"_wrapped": self.in_label > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self.in_label -= 1


PAGES = {
    "operator": ["/home/operator", "/auth/account", "/auth/password", "/auth/enrol"],
    "admin": ["/admin/users", "/admin/users/new", "/admin/organisations/new"],
    "supervisor": ["/home/supervisor"],
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_field_has_a_label(client, login_as, role):
    login_as(role)
    for page in PAGES[role]:
        parser = FieldsAndLabels()
        parser.feed(client.get(page).get_data(as_text=True))
        for control in parser.controls:
            labelled = (
                control["_wrapped"]
                or control.get("id") in parser.label_targets
                or control.get("aria-label")
            )
            assert labelled, f"unlabelled field {control} on {page}"


def test_sign_in_page_fields_are_labelled(client):
    parser = FieldsAndLabels()
    parser.feed(client.get("/auth/login").get_data(as_text=True))
    assert {c["id"] for c in parser.controls} >= {"email", "password"}
    assert all(c.get("id") in parser.label_targets for c in parser.controls)


@pytest.mark.parametrize(
    "role, links, hidden",
    [
        ("operator", ["/home/operator"], ["/admin/users"]),
        ("admin", ["/admin/users", "/admin/organisations"], ["/home/operator"]),
        ("supervisor", ["/home/supervisor"], ["/admin/users"]),
    ],
)
def test_navigation_follows_the_role(client, login_as, role, links, hidden):
    login_as(role)
    html = client.get("/auth/account").get_data(as_text=True)
    nav = html.split('<nav class="main-nav"')[1].split("</nav>")[0]
    for link in links:
        assert f'href="{link}"' in nav
    for link in hidden:
        assert f'href="{link}"' not in nav
    assert 'class="skip-link" href="#main"' in html
