"""In a real browser, pasted text-direction characters get a plain error at the field (portal, phone
and desktop). Screenshots go to $BONTRACK_SHOTS (e.g. /tmp/shots-input) when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bontrack.browser import chromium_page
from bontrack.diaries.models import ConsultationNote
from bontrack.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("size", "viewport"),
    [("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1280, "height": 900})],
)
def test_a_patient_sees_why_pasted_text_is_refused(world, live_server, size, viewport):
    with chromium_page(viewport=viewport) as page:
        page.goto(f"{live_server.url}/portal/login/")
        page.get_by_label("Username").fill(world.users["patient"].username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/portal/")
        page.goto(f"{live_server.url}/portal/diary/before-your-visit/")
        page.get_by_label("Your symptoms now").fill("Throbbing pain \u202eleft side")
        page.get_by_role("button", name="Send to my clinic").click()
        error = page.get_by_text("Remove the invisible text-direction characters")
        error.wait_for()
        assert error.is_visible()
        shots = os.environ.get("BONTRACK_SHOTS")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/portal-pre-visit-{size}.png", full_page=True)
    assert not ConsultationNote.objects.exists()
