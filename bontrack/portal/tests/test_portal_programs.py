"""The portal shows each indication's plan and next due date, the scales it asks the patient to
fill and its education page; the education pages are public and quote the rules' numbers
(issue 10 item 10)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.factories import signed_session
from bontrack.patients.models import Condition
from bontrack.scheduling import education
from bontrack.scheduling.models import ProgramPage
from bontrack.treatments.actions import clinic_protocols
from bontrack.treatments.facts import retreatment_interval_days

pytestmark = pytest.mark.django_db


def test_a_treated_migraine_patient_sees_plan_next_due_scales_and_education(world):
    session = signed_session(world.users["physician"], world.patient)
    html = world.client("patient").get("/portal/").content.decode()
    assert "Chronic migraine" in html
    due = timezone.localtime(session.performed_at).date() + timedelta(
        days=retreatment_interval_days("chronic_migraine")
    )
    assert due.strftime("%B") in html and f"{due.day}, {due.year}" in html
    assert "MIDAS" in html and "HIT-6" in html
    assert "/programs/learn/chronic-migraine/" in html


def test_a_cervical_dystonia_patient_sees_its_scales_and_page(world):
    Condition.objects.create(
        patient=world.patient, indication="cervical_dystonia", icd10_code="G24.3"
    )
    html = world.client("patient").get("/portal/").content.decode()
    assert "Cervical dystonia" in html and "Not treated yet" in html
    assert "TWSTRS" in html and "Tsui" in html
    assert "/programs/learn/cervical-dystonia/" in html
    assert "/programs/learn/chronic-migraine/" not in html


def test_an_off_label_facial_pain_plan_says_so_and_asks_for_the_pain_score(world):
    protocol = clinic_protocols.save_clinic_protocol(
        actor=world.users["physician"],
        clinic=world.clinic,
        lines=[{"muscle": "temporalis", "side": "left", "sites": 2, "units": Decimal(10)}],
        name="Temple pain",
        condition="Facial pain, left temple",
    )
    clinic_protocols.order_plan(
        actor=world.users["physician"], patient=world.patient, protocol=protocol
    )
    html = world.client("patient").get("/portal/").content.decode()
    assert "Off-label" in html and "Facial pain, left temple" in html
    assert "10 units in 2 injection sites (Temporalis)" in html
    assert "Pain score from 0 (no pain) to 10" in html
    assert "/programs/learn/facial-pain/" in html


def test_children_see_the_childrens_spasticity_page(world):
    world.patient.date_of_birth = timezone.localdate() - timedelta(days=9 * 365)
    world.patient.save()
    Condition.objects.create(
        patient=world.patient, indication="lower_limb_spasticity", icd10_code="G80.1"
    )
    html = world.client("patient").get("/portal/").content.decode()
    assert "/programs/learn/spasticity-children/" in html
    assert "/programs/learn/spasticity-adults/" not in html


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/portal/").status_code == 200
    return len(ctx.captured_queries)


def test_the_portal_home_query_count_does_not_grow_with_sessions(world):
    client = world.client("patient")
    signed_session(world.users["physician"], world.patient, timezone.now() - timedelta(days=400))
    small = _home_queries(client)
    for n in range(3):
        signed_session(
            world.users["physician"], world.patient, timezone.now() - timedelta(days=300 - 90 * n)
        )
    assert _home_queries(client) == small


@pytest.mark.parametrize("slug", list(education.TOPICS))
def test_every_education_page_is_public_and_complete(client, slug):
    response = client.get(f"/programs/learn/{slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    for heading in (
        "What BOTOX does for this condition",
        "What a session is like",
        "When results show",
        "How often it is repeated",
        "Side effects to report",
        "When to call for help at once",
    ):
        assert heading in html, heading
    assert "{" not in html.split("<main", 1)[-1].replace("{%", "")  # every figure filled in


def test_the_education_figures_come_from_the_rules(client):
    cm = client.get("/programs/learn/chronic-migraine/").content.decode()
    assert "155 units are given as 31 small injections" in cm
    assert "every 12 weeks" in cm
    bleph = client.get("/programs/learn/blepharospasm/").content.decode()
    assert "3 sites around each eye" in bleph and "about every 90 days" in bleph
    pain = client.get("/programs/learn/facial-pain/").content.decode()
    assert "Off-label treatment" in pain


def test_an_unknown_education_page_is_a_404(client):
    assert client.get("/programs/learn/hiccups/").status_code == 404


def test_the_public_program_page_links_to_its_education_pages(world, client):
    ProgramPage.objects.create(
        clinic=world.clinic,
        indication="upper_limb_spasticity",
        title="Spasticity",
        summary="Help with stiff muscles.",
        body="Plain words.",
    )
    url = f"/programs/{world.practice.slug}/{world.clinic.slug}/upper_limb_spasticity/"
    html = client.get(url).content.decode()
    assert "/programs/learn/spasticity-adults/" in html
    assert "/programs/learn/spasticity-children/" in html
