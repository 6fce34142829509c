"""Under the Content-Security-Policy the interactive pages of every role keep working, and the
browser reports no violation (console or `securitypolicyviolation` event). Screenshots go to
$BONTRACK_SHOTS (default /tmp/shots-web/)."""

from __future__ import annotations

import os
from datetime import time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bontrack.browser import chromium_page
from bontrack.patients.models import Condition
from bontrack.scheduling.defaults import ensure_clinic_defaults
from bontrack.scheduling.models import Room, WorkingHours
from bontrack.treatments.tests.conftest import chart, stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("BONTRACK_SHOTS", "/tmp/shots-web"))
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var t = e.target && e.target.outerHTML ? " on " + e.target.outerHTML.slice(0, 160) : "";
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber + (e.sample ? " [" + e.sample + "]" : "") + t);
});
"""


class Watcher:
    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console.append(f"page error: {exc}"))

    def _on_console(self, message) -> None:
        text = message.text
        if text.startswith("Failed to load resource") and "favicon.ico" in (
            message.location.get("url") or ""
        ):
            return  # the browser's own favicon probe
        if message.type == "error" or "Content Security Policy" in text or "Refused" in text:
            self.console.append(f"{text} ({message.location.get('url')})")

    def visit(self, url: str, shot: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        self.page.wait_for_load_state("networkidle")
        self.check(shot)

    def check(self, shot: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
        violations = self.page.evaluate("window.__csp || []")
        assert violations == [], (shot, violations)
        assert self.console == [], (shot, self.console)


def _cookie(world, persona: str) -> str:
    return world.client(persona).cookies["sessionid"].value


def _sign_in(page, live_server, cookie: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])


def _clinic_hours(world) -> None:
    clinic = world.clinic
    clinic.time_zone = "America/New_York"
    clinic.save()
    ensure_clinic_defaults(clinic)
    Room.objects.create(clinic=clinic, name="Room 1")
    for persona in ("physician", "nurse"):
        for weekday in range(7):
            WorkingHours.objects.create(
                clinic=clinic,
                clinician=world.users[persona],
                weekday=weekday,
                start=time(8),
                end=time(18),
            )


def test_staff_pages_work_under_the_policy_without_violations(world, live_server):
    _clinic_hours(world)
    stock(world.clinic, vials=3)
    Condition.objects.create(
        patient=world.patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    session = chart(world.users["nurse"], world.patient)
    nurse, desk = _cookie(world, "nurse"), _cookie(world, "front_desk")
    base, pk = live_server.url, world.patient.pk
    with chromium_page() as page:
        watch = Watcher(page)
        _sign_in(page, live_server, nurse)
        watch.visit(f"{base}/patients/{pk}/", "staff-chart")
        # The session charting page: pick a site on the head map (HTMX loads its editor).
        watch.visit(f"{base}/treatments/sessions/{session.pk}/", "session-headmap")
        page.locator('a.site[data-site="trapezius-right-3"]').click()
        page.locator("#site-editor").get_by_label("Units", exact=True).wait_for()
        watch.check("session-headmap-site-editor")
        watch.visit(f"{base}/diaries/patients/{pk}/", "staff-diary")
        watch.visit(f"{base}/diaries/patients/{pk}/day/2026-01-05/", "staff-diary-transcribe")
        page.get_by_label("Another date").fill("2026-01-06")
        page.get_by_role("button", name="Open").click()
        page.wait_for_url("**/day/2026-01-06/")
        watch.check("staff-diary-transcribe-moved")
        watch.visit(f"{base}/schedule/", "calendar")
        watch.visit(f"{base}/api/v1/docs", "api-docs")
        page.get_by_text("/api/v1/patients/").first.wait_for()
        watch.check("api-docs")
        _sign_in(page, live_server, desk)
        watch.visit(f"{base}/schedule/matches/", "front-desk-matches")
        watch.visit(f"{base}/schedule/waitlist/", "front-desk-waitlist")


def test_public_booking_and_portal_work_under_the_policy_without_violations(world, live_server):
    _clinic_hours(world)
    Condition.objects.create(
        patient=world.patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    patient_cookie = _cookie(world, "patient")
    base = live_server.url
    with chromium_page(viewport={"width": 390, "height": 844}) as page:
        watch = Watcher(page)
        watch.visit(f"{base}/book/{world.practice.slug}/{world.clinic.slug}/", "booking-clinic")
        page.get_by_role("link", name="Free video consultation").first.click()
        page.wait_for_load_state("networkidle")
        watch.check("booking-slots")
        page.locator("a[href*='/free-video-consult/2']").first.click()
        page.wait_for_load_state("networkidle")
        watch.check("booking-form")
        page.get_by_label("First name").fill("Nadia")
        page.get_by_label("Last name").fill("Haddad")
        page.get_by_label("Date of birth").fill("1985-04-02")
        page.locator("#id_email").fill("nadia@example.org")
        page.get_by_label("I agree").check()
        page.get_by_role("button", name="Confirm booking").click()
        page.wait_for_url("**/book/manage/**")
        watch.check("booking-manage")
        _sign_in(page, live_server, patient_cookie)
        watch.visit(f"{base}/portal/", "portal-home")
        watch.visit(f"{base}/portal/diary/", "portal-diary")
        yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
        watch.visit(f"{base}/portal/diary/day/{yesterday}/", "portal-diary-day")
        page.get_by_role("link", name="I had a headache").click()
        assert page.evaluate("document.activeElement.id") == "hours"
        watch.check("portal-diary-day-headache")
