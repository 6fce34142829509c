"""Weight-based dosing for children on the session screen (issue 10 item 4).

The per-kg limits use the weight on the session date; a weight older than the program's 90 days
(POLICY-PEDS-WEIGHT-MAX-AGE) or none blocks charting (BTX-PEDS-WEIGHT-REQUIRED) and the screen
asks for a new measurement with a form right there (audited); the totals show U/kg beside units.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, WeightMeasurement
from bontrack.treatments import facts
from bontrack.treatments.actions import charting, dose_guard
from bontrack.treatments.models import TreatmentSession

from .test_pediatric_limits import limb_session

pytestmark = pytest.mark.django_db

LLS = "lower_limb_spasticity"
WEIGHT_RULE = "BTX-PEDS-WEIGHT-REQUIRED"


def child(world, *, kg: int | None = 20, days_old: int = 0) -> Any:
    today = timezone.localdate()
    patient: Any = PatientFactory(
        clinic=world.clinic, date_of_birth=today.replace(year=today.year - 8) - timedelta(days=40)
    )
    Condition.objects.create(patient=patient, indication=LLS, icd10_code="G80.1")
    if kg is not None:
        WeightMeasurement.objects.create(
            patient=patient, measured_on=today - timedelta(days=days_old), weight_kg=Decimal(kg)
        )
    return patient


def add(actor, session, units: str, side: str = "left", **kw):
    return charting.add_injection(
        actor=actor,
        session=session,
        indication=LLS,
        muscle="soleus",
        side=side,
        sites=2,
        units=Decimal(units),
        **kw,
    )


@pytest.mark.parametrize(
    "days_old,blocked",
    [(0, False), (facts.weight_max_age_days(), False), (facts.weight_max_age_days() + 1, True)],
)
def test_a_weight_counts_for_90_days(world, nurse, days_old, blocked):
    patient = child(world, days_old=days_old)
    session = limb_session(nurse, patient, [LLS])
    if not blocked:
        add(nurse, session, "100")
        return
    with pytest.raises(dose_guard.Blocked) as exc:
        add(nurse, session, "100")
    assert exc.value.rule_ids == [WEIGHT_RULE]
    assert "more than 90 days before the session" in exc.value.messages[0]
    assert not session.injections.exists()


def test_no_weight_blocks_charting(world, nurse):
    patient = child(world, kg=None)
    session = limb_session(nurse, patient, [LLS])
    with pytest.raises(dose_guard.Blocked) as exc:
        add(nurse, session, "50")
    assert WEIGHT_RULE in exc.value.rule_ids


def test_the_screen_asks_for_a_weight_and_records_it_right_there(world, nurse):
    patient = child(world, days_old=200)
    session = limb_session(nurse, patient, [LLS])
    client = world.client("nurse")
    page = client.get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "Weigh the child and record it before charting" in page
    assert f"/treatments/sessions/{session.pk}/weight/" in page
    # A bad value is a form error; nothing is written.
    r = client.post(
        f"/treatments/sessions/{session.pk}/weight/",
        {"weight_kg": "0", "measured_on": timezone.localdate().isoformat()},
    )
    assert r.status_code == 422
    assert WeightMeasurement.objects.filter(patient=patient).count() == 1
    r = client.post(
        f"/treatments/sessions/{session.pk}/weight/",
        {"weight_kg": "21.5", "measured_on": timezone.localdate().isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert "The weight was recorded" in html and "21.5 kg" in html
    assert AuditEvent.objects.filter(
        object_type="patients.weightmeasurement", action="create", patient_id=patient.pk
    ).exists()
    add(nurse, session, "160")  # 8 U/kg x 21.5 kg = 172 U: within the leg's limit now
    page = client.get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "Left leg" in page and "7.44" in page  # 160 U / 21.5 kg


@pytest.mark.parametrize("persona,expected", [("front_desk", 403), ("other_clinic_staff", 404)])
def test_recording_a_weight_needs_the_clinical_permission_and_scope(
    world, nurse, persona, expected
):
    patient = child(world, days_old=200)
    session = limb_session(nurse, patient, [LLS])
    before = AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count()
    r = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/weight/",
        {"weight_kg": "21", "measured_on": timezone.localdate().isoformat()},
    )
    assert r.status_code == expected
    assert WeightMeasurement.objects.filter(patient=patient).count() == 1
    assert AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count() == before


def test_the_totals_show_each_limb_and_the_session_in_units_per_kg(world, physician):
    patient = child(world, kg=25)
    session = limb_session(physician, patient, [LLS])
    add(physician, session, "150", side="left")
    add(physician, session, "100", side="right")
    page = world.client("physician").get(f"/treatments/sessions/{session.pk}/").content.decode()
    totals = page[page.index('id="dose-totals"') :]
    assert "Left leg" in totals and "Right leg" in totals
    assert "6 " in totals.replace("<", " <") or ">6<" in totals  # 150 U / 25 kg
    assert ">250 U<" in totals and ">10<" in totals  # 250 U / 25 kg at the combined limit
    assert TreatmentSession.objects.get(pk=session.pk).status == "draft"
