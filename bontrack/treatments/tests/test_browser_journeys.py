"""Real browser journeys in headless Chromium: charting on the map, a refused block, override,
signing and the PDF; the response review after cycle two."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bontrack.browser import chromium_page
from bontrack.treatments.models import Injection, ResponseReview, TreatmentSession

from .conftest import signed, stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sessions(world, *personas: str) -> dict[str, str]:
    """Django sessions (TOTP verified where needed), made before the browser starts."""
    return {p: world.client(p).cookies["sessionid"].value for p in personas}


def _sign_in(page, live_server, cookie: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])


def test_a_nurse_charts_a_preempt_session_and_a_physician_overrides_and_signs(
    world, live_server, tmp_path
):
    stock(world.clinic, vials=3)
    cookies = _sessions(world, "nurse", "physician")
    with chromium_page() as page:
        _sign_in(page, live_server, cookies["nurse"])
        page.goto(f"{live_server.url}/patients/{world.patient.pk}/")
        page.get_by_role(
            "button", name="Start chronic migraine session: PREEMPT fixed sites"
        ).click()
        page.wait_for_url("**/treatments/sessions/*/")
        session = TreatmentSession.objects.get()
        assert page.locator("a.site").count() == 31
        # Pick the vial (diluent and reconstitution time are prefilled for chronic migraine).
        page.get_by_role("button", name="Record vial").click()
        page.get_by_text("U / 0.1 mL").wait_for()
        # Edit a trapezius site on the map with the keyboard: focus it and press Enter.
        site = page.locator('a.site[data-site="trapezius-right-3"]')
        site.focus()
        page.keyboard.press("Enter")
        page.locator("#site-editor").get_by_label("Units", exact=True).fill("300")
        page.get_by_role("button", name="Save site").click()
        page.get_by_text("Not saved").first.wait_for()
        assert "BTX-CUM-ADULT-400" in page.content()
        target = Injection.objects.get(
            session=session, muscle="trapezius", side="right", position=30
        )
        assert target.units == Decimal(5)
        # Consent recorded.
        page.get_by_label("Consent obtained").check()
        page.get_by_label("Medication Guide offered").check()
        with page.expect_response(lambda r: "/details/" in r.url) as saved:
            page.get_by_role("button", name="Save details").click()
        assert saved.value.status == 200
        expect(page.get_by_label("Consent obtained")).to_be_checked()

        # The physician overrides with a written reason.
        _sign_in(page, live_server, cookies["physician"])
        page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
        page.locator('a.site[data-site="trapezius-right-3"]').click()
        page.locator("#site-editor").get_by_label("Units", exact=True).fill("300")
        page.get_by_role("button", name="Save site").click()
        page.get_by_label("Physician override reason").fill(
            "Severe focal trapezius pain; discussed"
        )
        page.get_by_role("button", name="Override and save").click()
        page.get_by_text("Saved.", exact=True).wait_for()
        target.refresh_from_db()
        assert target.units == Decimal(300)
        assert "Overridden by" in page.content()
        # 450 U need more than one 200 U vial: record two more.
        for expected in (2, 3):
            page.get_by_text("Pick a vial").click()
            page.get_by_role("button", name="Record vial").click()
            expect(page.locator("#h-vials + table tbody tr")).to_have_count(expected)
        # Acknowledge every warning, then sign.
        acks = page.get_by_role("button", name="Acknowledge")
        for _ in range(30):
            n = acks.count()
            if n == 0:
                break
            form = page.locator("form", has=acks.first).first
            form.get_by_role("checkbox").check()
            form.get_by_role("button", name="Acknowledge").click()
            expect(acks).to_have_count(n - 1)
        page.get_by_role("button", name="Sign session").click()
        page.get_by_role("button", name="Yes, sign the session").click()  # the confirmation step
        page.get_by_text("Signed by").wait_for()
        session.refresh_from_db()
        assert session.status == "signed"
        with page.expect_download() as info:
            page.get_by_role("link", name="PDF").click()
        path = tmp_path / "note.pdf"
        info.value.save_as(path)
        assert path.read_bytes().startswith(b"%PDF")


def test_a_physician_reviews_response_after_cycle_two(world, live_server):
    nurse = world.users["nurse"]
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=120))
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=30))
    cookies = _sessions(world, "physician")
    with chromium_page() as page:
        _sign_in(page, live_server, cookies["physician"])
        page.goto(f"{live_server.url}/patients/{world.patient.pk}/")
        page.get_by_text("Record the response review").click()
        page.get_by_label("Continue").check()
        # The chart's chronic migraine program card has its own "Record decision" (eligibility).
        page.locator("#review").get_by_role("button", name="Record decision").click()
        page.wait_for_url(f"**/patients/{world.patient.pk}/")
        page.get_by_text("Review ").first.wait_for()
        review = ResponseReview.objects.get()
        assert review.decision == "continue" and review.cycles == 2
        assert review.rule_set.startswith("response@")
