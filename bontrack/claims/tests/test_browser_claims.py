"""Billing staff in real Chromium: open the queue, review a claim, edit a line with a reason,
export the batch and download its CSV and 837P file; the reports draw their charts under the
CSP. Screenshots of the queue, a claim and the reports at three widths go to $BONTRACK_SHOTS/claims
when that is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import transaction

from bontrack.browser import chromium_page
from bontrack.claims import x12
from bontrack.claims.actions.generate import create_claim as _create
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.models import Claim, ClaimEdit

from .conftest import cover, diagnose, profile, session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"1280": (1280, 900), "820": (820, 1180), "390": (390, 844)}
CD = "cervical_dystonia"


def create_claim(s, actor):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        return _create(s, actor)


def _data(world) -> tuple[Claim, Claim]:
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, CD, "G24.3")
    diagnose(world.other_patient, "blepharospasm", "G24.5")
    ready = create_claim(
        session(
            world.patient,
            [(CD, "sternocleidomastoid", "bilateral", 60), (CD, "splenius_capitis", "left", 60)],
            [200],
        ),
        None,
    )
    attention = create_claim(
        session(
            world.other_patient,
            [("blepharospasm", "orbicularis_oculi_pretarsal_upper_medial", "bilateral", 5)],
            [100],
        ),
        None,
    )
    return ready, attention


def _shot(page, name: str, size: str) -> None:
    shots = os.environ.get("BONTRACK_SHOTS")
    if shots:
        out = Path(shots) / "claims"
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / f"{name}-{size}.png"), full_page=True)


def test_billing_reviews_edits_and_exports(world, live_server, tmp_path):
    ready, attention = _data(world)
    cookie = world.client("billing").cookies["sessionid"].value
    with chromium_page(viewport={"width": 1280, "height": 900}) as page:
        violations: list[str] = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
        page.goto(f"{live_server.url}/claims/?state=attention")
        assert "No insurance on file for this patient" in page.locator(".claim-table").inner_text()
        page.goto(f"{live_server.url}/claims/")
        page.get_by_role("link", name="Cohen, Rosa").click()
        page.wait_for_url(f"**/claims/{ready.pk}/")
        lines = page.locator(".claim-lines").inner_text()
        assert "64616" in lines and "both sides" in lines and "00023-3921-02" in lines
        page.get_by_role("link", name="Edit line 2 (J0585)").click()
        page.get_by_label("Charge ($)").fill("720.00")
        page.get_by_label("Reason for the change").fill("Contracted rate for this payer")
        page.get_by_role("button", name="Save the change").click()
        page.wait_for_url(f"**/claims/{ready.pk}/")
        assert "Line 2 changed; the reason is kept." in page.content()
        history = page.locator("#h-history + .table-wrap").inner_text()
        assert "Contracted rate for this payer" in history and "720" in history
        edit = ClaimEdit.objects.get(claim=ready)
        assert (edit.field, edit.after) == ("charge", "720")
        page.get_by_role("link", name="← Back to the queue").click()
        page.get_by_role("link", name="Export ready claims").click()
        page.get_by_role("button", name="Export the batch").click()
        page.wait_for_url("**/claims/batches/*/")
        assert "Exported batch" in page.content()
        with page.expect_download() as dl:
            page.get_by_role("link", name="Download the 837P file").click()
        x12_path = tmp_path / "batch.x12"
        dl.value.save_as(x12_path)
        text = x12_path.read_text()
        assert x12.validate(text) == []
        assert "SV1*HC:J0585*720*UN*120***1~" in text
        with page.expect_download() as dl:
            page.get_by_role("link", name="Download CSV").click()
        csv_path = tmp_path / "batch.csv"
        dl.value.save_as(csv_path)
        assert ready.number in csv_path.read_text() and "720.0" in csv_path.read_text()
        ready.refresh_from_db()
        assert ready.status == ClaimStatus.EXPORTED
        assert violations == []


def test_screenshots_of_the_queue_a_claim_and_the_reports(world, live_server):
    ready, attention = _data(world)
    cookie = world.client("billing").cookies["sessionid"].value
    for size, (width, height) in SIZES.items():
        with chromium_page(viewport={"width": width, "height": height}) as page:
            violations: list[str] = []
            page.on(
                "console",
                lambda m, seen=violations: (
                    seen.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            page.context.add_cookies(
                [{"name": "sessionid", "value": cookie, "url": live_server.url}]
            )
            page.goto(f"{live_server.url}/claims/")
            assert page.locator(".claim-tab.current").inner_text().startswith("Ready to export")
            _shot(page, "queue", size)
            page.goto(f"{live_server.url}/claims/?state=attention")
            _shot(page, "queue-attention", size)
            page.goto(f"{live_server.url}/claims/{ready.pk}/")
            _shot(page, "claim", size)
            page.goto(f"{live_server.url}/claims/{attention.pk}/")
            _shot(page, "claim-attention", size)
            page.goto(f"{live_server.url}/claims/reports/")
            page.wait_for_function(
                "document.querySelectorAll('.chart-embed svg, .chart-embed canvas').length >= 3"
            )
            _shot(page, "reports", size)
            assert violations == []  # the charts run under the CSP (vega without eval)
