"""Real browser (issue 10 Quality): pediatric per-kg dosing on a tablet, and a combined migraine
and cervical dystonia session over 400 U in 12 weeks blocked until a physician overrides.

Screenshots of the pediatric session at 1280, 820 and 390 px go to /work/shots/dosing/ when that
folder exists."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bontrack.browser import chromium_page
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, WeightMeasurement
from bontrack.treatments.models import FindingDecision, Injection, TreatmentSession
from clinic_rules.data import rule

from .conftest import stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots/dosing")
WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}
TABLET = {"width": 820, "height": 1180}


def _sign_in(page: Any, live_server: Any, cookie: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])


def _shots(page: Any, name: str, back_to: dict[str, int]) -> None:
    if not SHOTS.is_dir():
        return
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 1000})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(back_to)


def _acknowledge_all(page: Any) -> None:
    acks = page.get_by_role("button", name="Acknowledge")
    for _ in range(30):
        n = acks.count()
        if n == 0:
            return
        form = page.locator("form", has=acks.first).first
        form.get_by_role("checkbox").check()
        form.get_by_role("button", name="Acknowledge").click()
        expect(acks).to_have_count(n - 1)


def _details(page: Any) -> None:
    page.get_by_label("Consent obtained").check()
    page.get_by_label("Medication Guide offered").check()
    with page.expect_response(lambda r: "/details/" in r.url):
        page.get_by_role("button", name="Save details").click()


def _sign(page: Any) -> None:
    page.get_by_role("button", name="Sign session").click()
    page.get_by_role("button", name="Yes, sign the session").click()
    page.wait_for_url("**/treatments/sessions/*/")


def test_a_nurse_charts_a_20_kg_childs_leg_on_a_tablet(world, live_server):
    today = timezone.localdate()
    child: Any = PatientFactory(
        clinic=world.clinic,
        first_name="Mia",
        date_of_birth=today.replace(year=today.year - 7) - timedelta(days=60),
    )
    Condition.objects.create(patient=child, indication="lower_limb_spasticity", icd10_code="G80.1")
    # The last weight is 200 days old: the screen asks for a new one before charting.
    WeightMeasurement.objects.create(
        patient=child, measured_on=today - timedelta(days=200), weight_kg=Decimal("18")
    )
    stock(world.clinic, vials=2)
    leg = rule("BTX-PEDS-LLS-8UKG-300")
    limit = int(leg.num("units_per_kg")) * 20  # 160 U for 20 kg (S19)
    cookie = world.client("nurse").cookies["sessionid"].value
    with chromium_page(TABLET) as page:
        _sign_in(page, live_server, cookie)
        page.goto(f"{live_server.url}/patients/{child.pk}/")
        page.get_by_role(
            "button", name="Start lower limb spasticity session: Empty plan", exact=False
        ).first.click()
        page.wait_for_url("**/treatments/sessions/*/")
        session = TreatmentSession.objects.get(patient=child)
        expect(page.get_by_text("Weigh the child and record it before charting")).to_be_visible()
        page.locator("#weight-card").get_by_label("Weight (kg)").fill("20")
        page.get_by_role("button", name="Record weight").click()
        expect(page.get_by_text("The weight was recorded")).to_be_visible()
        expect(page.get_by_text("20 kg, measured")).to_be_visible()
        page.get_by_role("button", name="Record vial").click()
        page.get_by_text("U / 0.1 mL").wait_for()
        add = page.locator("form", has=page.get_by_role("button", name="Add site"))
        add.get_by_label("Muscle").select_option("soleus")
        add.get_by_label("Side").select_option("left")
        add.get_by_label("Units", exact=True).fill(str(limit + 20))
        add.get_by_role("button", name="Add site").click()
        expect(page.get_by_text("Not saved.")).to_be_visible()
        expect(page.get_by_text("exceed the limit for one leg").first).to_be_visible()
        expect(page.get_by_text("8 U/kg for 20 kg").first).to_be_visible()
        assert not Injection.objects.filter(session=session).exists()
        # The nurse corrects the dose to the per-kg limit: saved, with U/kg beside the units.
        add = page.locator("form", has=page.get_by_role("button", name="Add site"))
        add.get_by_label("Muscle").select_option("soleus")
        add.get_by_label("Side").select_option("left")
        add.get_by_label("Units", exact=True).fill(str(limit - 10))
        add.get_by_role("button", name="Add site").click()
        expect(page.locator("#session-total")).to_have_text(f"{limit - 10} U")
        expect(page.locator("#session-per-kg")).to_have_text("7.50")
        expect(page.locator("#dose-totals").get_by_text("Left leg")).to_be_visible()
        _details(page)
        _acknowledge_all(page)
        _shots(page, "pediatric-session", TABLET)
        _sign(page)
        expect(page.locator("#session-status")).not_to_have_text("Draft")
    session.refresh_from_db()
    assert session.status in ("signed", "awaiting")
    assert [(i.muscle, i.units) for i in session.injections.all()] == [
        ("soleus", Decimal(limit - 10))
    ]


def test_a_combined_session_over_400_u_waits_for_a_physicians_override(world, live_server):
    today = timezone.localdate()
    patient: Any = PatientFactory(
        clinic=world.clinic, date_of_birth=today.replace(year=today.year - 50)
    )
    Condition.objects.create(patient=patient, indication="chronic_migraine", icd10_code="G43.709")
    Condition.objects.create(patient=patient, indication="cervical_dystonia", icd10_code="G24.3")
    # 200 U of cervical dystonia 60 days ago: inside the 12-week window.
    earlier = timezone.now() - timedelta(days=60)
    prior = TreatmentSession.objects.create(
        patient=patient,
        clinic=world.clinic,
        performed_at=earlier,
        indication="cervical_dystonia",
        indications=["cervical_dystonia"],
    )
    Injection.objects.create(
        session=prior,
        indication="cervical_dystonia",
        muscle="splenius_capitis",
        side="left",
        sites=4,
        units=200,
    )
    TreatmentSession.objects.filter(pk=prior.pk).update(
        status="signed", signed_at=earlier, signed_by=world.users["physician"], rule_set="x"
    )
    stock(world.clinic, vials=2)
    cookies = {p: world.client(p).cookies["sessionid"].value for p in ("nurse", "physician")}
    with chromium_page() as page:
        _sign_in(page, live_server, cookies["nurse"])
        page.goto(f"{live_server.url}/patients/{patient.pk}/")
        page.get_by_text("One session for several indications").click()
        page.locator("#tpl-chronic_migraine").select_option("preempt")
        page.locator("#tpl-cervical_dystonia").select_option("clinician_built")
        page.get_by_role("button", name="Start combined session").click()
        page.wait_for_url("**/treatments/sessions/*/")
        session = TreatmentSession.objects.get(patient=patient, status="draft")
        page.get_by_role("button", name="Record vial").click()
        page.get_by_text("U / 0.1 mL").wait_for()
        # 155 U of PREEMPT + 200 U on file + 60 U of dystonia = 415 U in 84 days.
        add = page.locator("form", has=page.get_by_role("button", name="Add site"))
        add.get_by_label("Muscle").select_option("cervical_dystonia|splenius_capitis")
        add.get_by_label("Side").select_option("right")
        add.get_by_label("Units", exact=True).fill("60")
        add.get_by_role("button", name="Add site").click()
        expect(page.get_by_text("Not saved.")).to_be_visible()
        expect(
            page.get_by_text("A physician must override it with a written reason.")
        ).to_be_visible()
        expect(page.get_by_text("the limit is 400 U").first).to_be_visible()
        assert not session.injections.filter(indication="cervical_dystonia").exists()

        _sign_in(page, live_server, cookies["physician"])
        page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
        add = page.locator("form", has=page.get_by_role("button", name="Add site"))
        add.get_by_label("Muscle").select_option("cervical_dystonia|splenius_capitis")
        add.get_by_label("Side").select_option("right")
        add.get_by_label("Units", exact=True).fill("60")
        add.get_by_role("button", name="Add site").click()
        expect(page.get_by_text("As a physician you can override it")).to_be_visible()
        add = page.locator("form", has=page.get_by_role("button", name="Add site"))
        add.get_by_label("Muscle").select_option("cervical_dystonia|splenius_capitis")
        add.get_by_label("Side").select_option("right")
        add.get_by_label("Units", exact=True).fill("60")
        add.get_by_label("Physician override reason").fill(
            "Severe rotational torticollis; migraine and neck doses agreed with the patient."
        )
        add.get_by_role("button", name="Add site").click()
        expect(page.get_by_text("Overridden by").first).to_be_visible()
        expect(page.locator("#session-total")).to_have_text("215 U")
        page.get_by_text("Pick a vial").click()  # 215 U need a second 200 U vial
        page.get_by_role("button", name="Record vial").click()
        expect(page.get_by_text("U / 0.1 mL")).to_have_count(2)
        _details(page)
        _acknowledge_all(page)
        _sign(page)
        expect(page.locator("#session-status")).to_have_text("Signed")
    decision = FindingDecision.objects.get(session=session, kind="override")
    assert decision.rule_id == "BTX-CUM-ADULT-400" and "torticollis" in decision.reason
    session.refresh_from_db()
    assert session.status == "signed"
