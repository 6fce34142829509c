"""In Chromium: billing records an authorization on the chart, sees it running out in the list
(with its chart), opens the renewal packet; every page under the CSP without a violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.authorizations.models import Authorization
from bontrack.browser import chromium_page
from bontrack.core.tests.test_browser_csp import Watcher, _cookie, _sign_in
from bontrack.factories import signed_session
from bontrack.patients.models import Condition
from bontrack.treatments.actions import plans

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_records_an_authorization_and_finds_it_running_out(world, live_server):
    Condition.objects.create(
        patient=world.patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    physician = world.users["physician"]
    signed_session(physician, world.patient, timezone.now() - timedelta(days=30))
    plans.create_plan(actor=physician, patient=world.patient, additions=[], note="")
    base, pk = live_server.url, world.patient.pk
    today = timezone.localdate()
    with chromium_page() as page:
        watch = Watcher(page)
        _sign_in(page, live_server, _cookie(world, "billing"))
        watch.visit(f"{base}/patients/{pk}/", "auth-chart-empty")
        page.get_by_role("link", name="Record a prior authorization").click()
        page.wait_for_url("**/authorizations/new/")
        page.locator("#id_payer_name").fill("Blue Lake Health")
        page.locator("#id_status").select_option("approved")
        page.locator("#id_number").fill("PA-BROWSER")
        page.locator("#id_units_approved").fill("200")
        page.locator("#id_visits_approved").fill("2")
        page.locator("#id_valid_from").fill(f"{today - timedelta(days=60):%Y-%m-%d}")
        page.locator("#id_valid_until").fill(f"{today + timedelta(days=200):%Y-%m-%d}")
        page.get_by_role("button", name="Record authorization").click()
        page.wait_for_url(f"**/patients/{pk}/")
        page.locator("#authorization-panel").get_by_text("PA-BROWSER").wait_for()
        watch.check("auth-chart-recorded")
        assert Authorization.objects.get().units_approved == 200
        assert (
            "45 units left, the plan needs 155" in page.locator("#authorization-panel").inner_text()
        )
        watch.visit(f"{base}/authorizations/", "auth-list")
        assert "45 units left, the plan needs 155" in page.content()
        page.locator(".chart-figure").first.wait_for()
        watch.visit(
            f"{base}/authorizations/{Authorization.objects.get().pk}/packet/renewal/",
            "auth-packet-renewal",
        )
        assert "1 given session of this condition." in page.content()
