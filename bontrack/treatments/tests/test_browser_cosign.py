"""Real browser: a nurse charts a deviation from the physician's order and signs (with the
confirmation step); the session appears on the physician's worklist; the physician co-signs.
Screenshots of the worklist and the co-sign screen at 1280, 820 and 390 px go to
/work/shots/cosign/ when that folder exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bontrack.browser import chromium_page
from bontrack.treatments.actions import plans
from bontrack.treatments.models import TreatmentSession

from .conftest import stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots/cosign")
WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}


def _sign_in(page, live_server, cookie: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])


def _shots(page, name: str) -> None:
    if not SHOTS.is_dir():
        return
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_nurses_deviation_reaches_the_physicians_worklist_and_is_co_signed(world, live_server):
    stock(world.clinic, vials=3)
    plans.create_plan(actor=world.users["physician"], patient=world.patient)  # the order
    cookies = {p: world.client(p).cookies["sessionid"].value for p in ("nurse", "physician")}
    with chromium_page() as page:
        _sign_in(page, live_server, cookies["nurse"])
        page.goto(f"{live_server.url}/patients/{world.patient.pk}/")
        page.get_by_role("button", name="Start chronic migraine session: The active plan").click()
        page.wait_for_url("**/treatments/sessions/*/")
        session = TreatmentSession.objects.get()
        page.get_by_role("button", name="Record vial").click()
        page.get_by_text("U / 0.1 mL").wait_for()
        # The deviation: 10 U in the left corrugator where the order says 5 U.
        page.locator('a.site[data-site="corrugator-left-1"]').click()
        page.locator("#site-editor").get_by_label("Units", exact=True).fill("10")
        page.get_by_role("button", name="Save site").click()
        page.get_by_text("Saved.", exact=True).wait_for()
        page.get_by_label("Consent obtained").check()
        page.get_by_label("Medication Guide offered").check()
        with page.expect_response(lambda r: "/details/" in r.url):
            page.get_by_role("button", name="Save details").click()
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
        # The confirmation step says where the session goes and why.
        expect(page.get_by_text("It will go to a physician for co-signature")).to_be_visible()
        expect(page.get_by_text("Left corrugator: 10 U charted, 5 U ordered.")).to_be_visible()
        page.get_by_role("button", name="Yes, sign the session").click()
        page.get_by_text("awaiting a physician's co-signature").wait_for()
        session.refresh_from_db()
        assert session.status == "awaiting"

        _sign_in(page, live_server, cookies["physician"])
        page.goto(f"{live_server.url}/patients/")
        expect(page.locator("#cosign-count")).to_have_text("1")
        page.get_by_role("link", name="Co-signatures").click()
        page.wait_for_url("**/treatments/cosign/")
        expect(page.get_by_text("Left corrugator: 10 U charted, 5 U ordered.")).to_be_visible()
        expect(page.locator("#cosign-count")).to_have_text("1")
        _shots(page, "worklist")
        page.get_by_role("link", name="Review the session").click()
        page.wait_for_url(f"**/treatments/sessions/{session.pk}/cosign/")
        expect(page.locator("#cosign-count")).to_have_text("1")
        _shots(page, "cosign")
        page.get_by_role("button", name="Yes, co-sign the session").click()
        page.wait_for_url("**/treatments/cosign/")
        expect(page.get_by_text("Co-signed the session of")).to_be_visible()
        expect(page.get_by_text("Nothing to co-sign")).to_be_visible()
        _shots(page, "worklist-empty")
        session.refresh_from_db()
        assert session.status == "signed" and session.cosigned_by == world.users["physician"]
