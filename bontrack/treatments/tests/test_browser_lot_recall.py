"""Real browser: the clinic administrator opens the stock, follows a lot to its trace, recalls it
(the confirmation box is required), logs a contact and downloads the CSV. Screenshots of the stock
page, the receive form and the lot trace at 1280, 820 and 390 px go to /work/shots/stock/ when
that folder exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bontrack.inventory.models import Lot, RecallContact, Vial

from .conftest import signed, stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots/stock")
WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}


def _shots(page, name: str) -> None:
    if not SHOTS.is_dir():
        return
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_administrator_traces_and_recalls_a_lot(world, live_server):
    from bontrack.browser import chromium_page

    session = signed(world.users["nurse"], world.patient)
    lot = Lot.objects.get(vials__use__session=session)
    stock(world.clinic, size=200, vials=2, lot_number=lot.lot_number)  # still on the shelf
    cookie = world.client("clinic_admin").cookies["sessionid"].value
    with chromium_page() as page:
        page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
        page.goto(f"{live_server.url}/inventory/")
        expect(page.get_by_role("heading", name="Receive a delivery")).to_be_visible()
        _shots(page, "stock")
        page.locator("#h-receive").scroll_into_view_if_needed()
        if SHOTS.is_dir():
            for label, width in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": 900})
                page.locator("section", has=page.locator("#h-receive")).screenshot(
                    path=str(SHOTS / f"receive-form-{label}.png")
                )
            page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("link", name="Where it went").first.click()
        page.wait_for_url(f"**/treatments/lots/{lot.pk}/trace/")
        expect(page.get_by_text("Cohen, Rosa")).to_be_visible()
        # Without the confirmation box nothing happens.
        page.get_by_label("Recall notice").fill("Manufacturer notice 2026-11: particulates")
        page.get_by_role("button", name=f"Recall lot {lot.lot_number}").click()
        expect(page.locator(".errorlist")).to_be_visible()
        assert Lot.objects.get(pk=lot.pk).recalled_at is None
        page.get_by_label("I confirm").check()
        page.get_by_role("button", name=f"Recall lot {lot.lot_number}").click()
        expect(page.get_by_text("2 vial(s) blocked")).to_be_visible()
        assert Vial.objects.filter(lot=lot, status="recalled").count() == 2
        expect(page.get_by_text("Not contacted yet")).to_be_visible()
        page.locator("#id_method").select_option("called")
        page.locator("#id_note").fill("Spoke to Rosa; no new symptoms.")
        page.get_by_role("button", name="Log contact").click()
        expect(page.get_by_text("Spoke to Rosa; no new symptoms.")).to_be_visible()
        assert RecallContact.objects.get().method == "called"
        _shots(page, "lot-trace")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        text = Path(download.value.path()).read_text()
        assert world.patient.mrn in text and "Called, spoke to the patient" in text
