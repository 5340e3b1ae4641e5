"""Accessibility in the markup: a field's error beside it and tied to it (a group's on each of
its boxes), the child banner's live region, the language of the language switch's names, the
focus ring, a crafted intake post without its page's key."""

from __future__ import annotations

import re
from pathlib import Path

INTAKE_KEY = "01a24ece-9ae5-7765-96d8-76de73a68400"
CSS = Path(__file__).resolve().parents[1] / "app" / "static" / "css" / "app.css"


def control(html: str, element_id: str) -> dict[str, str]:
    """The attributes of the input, select or textarea with this id."""
    found = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{element_id}"[^>]*>', html)
    assert found, f"no control #{element_id}"
    return dict(re.findall(r'([\w:-]+)="([^"]*)"', found.group(0)))


def described_by(html: str, attrs: dict[str, str]) -> str:
    """What a screen reader reads as the control's description."""
    texts = []
    for ident in attrs.get("aria-describedby", "").split():
        found = re.search(rf'<(\w+)\b[^>]*\bid="{ident}"[^>]*>(.*?)</\1>', html, re.S)
        texts.append(re.sub(r"<[^>]+>", "", found.group(2)) if found else "")
    return " ".join(texts)


def test_the_caller_s_number_says_its_mistake_where_it_is(client, login_as):
    """The first field of the intake, drawn by hand: its error was only in the summary at the
    top, the field itself sounding fine to a screen reader."""
    login_as("operator")
    html = client.submit(
        "/calls/new",
        {"intake_key": INTAKE_KEY, "reason": "violence_report",
         "caller_phone": "0912 345 678 và 0987 654 321"},
    ).get_data(as_text=True)  # fmt: skip
    attrs = control(html, "caller_phone")
    assert attrs.get("aria-invalid") == "true"
    assert "Chỉ ghi một số ở đây" in described_by(html, attrs)
    assert "repeat-panel" in attrs["aria-describedby"]  # the panel still described


def test_a_group_of_ticks_says_its_mistake_on_each_box(client, login_as):
    """A group's mistake (a service both agreed to and refused; an emergency action's time) was
    said at the group's head only: a screen reader on one of its boxes heard nothing wrong."""
    login_as("operator")
    html = client.submit(
        "/calls/new",
        {"intake_key": INTAKE_KEY, "reason": "violence_report",
         "consent_services": ["police"], "consent_refused": ["police"],
         "emergency": ["police_113"], "emergency_time_police_113": "31/12/2099 10:00"},
    ).get_data(as_text=True)  # fmt: skip
    boxes = re.findall(r'<input\b[^>]*\bname="consent_refused"[^>]*>', html)
    assert len(boxes) > 3
    for box in boxes:
        attrs = dict(re.findall(r'([\w:-]+)="([^"]*)"', box))
        assert attrs.get("aria-invalid") == "true"
        assert "không thể vừa được đồng ý vừa bị từ chối" in described_by(html, attrs)
    agreed = control(html, "consent_services-0")  # the other side's group has no mistake
    assert "aria-invalid" not in agreed and "aria-describedby" not in agreed
    action = control(html, "emergency-0")
    assert action.get("aria-invalid") == "true"
    assert "không thể ở tương lai" in described_by(html, action)
    time_box = control(html, "emergency_time_police_113")
    assert "không thể ở tương lai" in described_by(html, time_box)


def test_the_child_banner_appears_inside_a_live_region_already_on_the_page(client, login_as):
    """A live region that starts hidden is not watched by some screen readers: the region is
    always there, and the banner (hidden until a child's age is typed) is inside it."""
    login_as("operator")
    html = client.get("/calls/new").get_data(as_text=True)
    region = re.search(r'<div id="child-banner-live" role="status">\s*<div([^>]*)>', html)
    assert region, "no live region around the child banner"
    assert 'id="child-banner"' in region.group(1) and "hidden" in region.group(1)


def test_each_language_s_name_is_marked_in_its_own_language(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert re.search(r'<option value="en" lang="en"[^>]*>English</option>', html)
    assert re.search(r'<option value="vi" lang="vi"[^>]*>Tiếng Việt</option>', html)


def _contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b_ = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b_)

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_focus_ring_stands_out_on_the_cards_and_the_page():
    """WCAG 1.4.11: 3:1 at least against the white cards and the page's grey (the yellow
    ring was 1.8:1 and 1.7:1)."""
    css = CSS.read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    ring = re.search(r"^:focus-visible \{ outline: 3px solid var\(--([\w-]+)\)", css, re.M)
    assert ring, "the focus ring's rule"
    for background in (colours["card"], colours["bg"]):
        assert _contrast(colours[ring.group(1)], background) >= 3


def test_an_intake_post_without_its_page_s_key_is_a_page_not_an_error(client, login_as):
    """A crafted post (no page of the app sends one): the form again, with a key of its own,
    never a server error."""
    login_as("operator")
    token = client.csrf_token("/calls/new")
    answer = client.post("/calls/new", data={"csrf_token": token, "reason": "silent"})
    assert answer.status_code in (200, 422)
    assert re.search(r'name="intake_key" type="hidden" value="[0-9a-f-]{36}"', answer.text)
