"""Issue 14 item 7 in Chromium: the session screen shows each finding as a plain sentence; the rule
ID, source and description wait behind a "Why?" disclosure that opens with a click or the
keyboard, on a desktop, a tablet (820 px) and a phone (390 px).

Screenshots (findings closed and open) go to ``$BONTRACK_SHOTS`` when set, else a temporary
directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bontrack.browser import chromium_page
from bontrack.patients.services import add_flag
from bontrack.treatments.actions import charting
from bontrack.treatments.actions.findings import current_findings

from .conftest import chart

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": (1280, 900), "tablet": (820, 1180), "phone": (390, 844)}


def test_findings_read_as_sentences_and_open_their_why_on_every_screen(
    world, live_server, tmp_path
):
    physician = world.users["physician"]
    session = chart(physician, world.patient)
    procerus = session.injections.get(muscle="procerus")
    charting.update_injection(actor=physician, injection=procerus, status="skipped")
    add_flag(
        actor=physician,
        patient=world.patient,
        flag="botulinum_hypersensitivity",
        noted_on=timezone.localdate(),
    )
    rules = {f["rule_id"] for f in current_findings(session)["findings"]}
    assert {"BTX-CONTRA-HYPERSENSITIVITY", "BTX-CM-PREEMPT-SITES"} <= rules
    cookie = world.client("physician").cookies["sessionid"].value
    out = Path(os.environ.get("BONTRACK_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for name, (width, height) in VIEWPORTS.items():
        with chromium_page({"width": width, "height": height}) as page:
            page.context.add_cookies(
                [{"name": "sessionid", "value": cookie, "url": live_server.url}]
            )
            page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
            block = page.locator('#findings .finding[data-rule="BTX-CONTRA-HYPERSENSITIVITY"]')
            expect(block).to_contain_text("hypersensitivity to botulinum toxin")
            expect(block.locator(".badge")).to_have_text("Stop")
            expect(block.get_by_text("Rule BTX-CONTRA-HYPERSENSITIVITY")).to_be_hidden()
            warning = page.locator('#findings .finding[data-rule="BTX-CM-PREEMPT-SITES"]').first
            expect(warning).to_contain_text("Procerus (midline): 0 of the 1 PREEMPT sites charted.")
            page.locator("#findings").scroll_into_view_if_needed()
            page.screenshot(path=str(out / f"session-findings-closed-{name}.png"), full_page=True)
            page.locator("#findings").screenshot(path=str(out / f"findings-card-closed-{name}.png"))

            block.get_by_text("Why?").click()
            expect(block.get_by_text("Rule BTX-CONTRA-HYPERSENSITIVITY")).to_be_visible()
            expect(block.locator("details.why")).to_contain_text("known hypersensitivity")
            # The keyboard opens the next one: focus its summary and press Enter.
            warning.locator("summary").focus()
            page.keyboard.press("Enter")
            expect(warning.get_by_text("Rule BTX-CM-PREEMPT-SITES")).to_be_visible()
            block.scroll_into_view_if_needed()
            page.screenshot(path=str(out / f"session-findings-open-{name}.png"), full_page=True)
            page.locator("#findings").screenshot(path=str(out / f"findings-card-open-{name}.png"))
            fits = "(e => e.scrollWidth <= e.clientWidth)(document.querySelector('#findings'))"
            assert page.evaluate(fits), name  # the findings card never scrolls sideways
