"""Real browser journeys in headless Chromium against a live server."""

from __future__ import annotations

import pytest

from bontrack.browser import chromium_page
from bontrack.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_front_desk_signs_in_finds_a_patient_and_opens_the_chart(world, live_server):
    with chromium_page() as page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("frontdesk")
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/patients/")
        page.get_by_role("searchbox").fill("cohen")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Cohen, Rosa").click()
        page.wait_for_url(f"**/patients/{world.patient.pk}/")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Cohen, Rosa")
        assert "No active contraindications" in page.content()


def test_a_patient_signs_in_to_the_portal_on_a_phone(world, live_server):
    with chromium_page(viewport={"width": 390, "height": 844}) as page:
        page.goto(f"{live_server.url}/portal/login/")
        page.get_by_label("Username").fill(world.users["patient"].username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/portal/")
        assert page.get_by_role("heading", level=1).inner_text() == "Hello, Rosa"
        assert "Adam" not in page.content()
