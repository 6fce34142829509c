"""Follow-the-pain: a plan with additions from the chart panel, removing an addition from a draft."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bontrack.audit.models import AuditEvent
from bontrack.treatments import facts
from bontrack.treatments.actions import charting, dose_guard
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.actions import plans as plans_actions
from bontrack.treatments.models import Injection, PlanLine, TreatmentPlan

from .conftest import chart

pytestmark = pytest.mark.django_db

UI = {
    "physician": 302,
    "nurse": 302,
    "front_desk": 403,
    "billing": 403,
    "clinic_admin": 403,
    "patient": 403,
    "other_patient": 403,
    "other_clinic_staff": 404,
    "other_practice_staff": 404,
    "anonymous": 302,
}
READ_API = {
    **UI,
    "physician": 200,
    "nurse": 200,
    "billing": 200,
    "clinic_admin": 200,
    "patient": 401,
    "other_patient": 401,
    "anonymous": 401,
}
WRITE_API = {**READ_API, "physician": 201, "nurse": 201, "billing": 403, "clinic_admin": 403}
REMOVE_UI = {**UI, "physician": 200, "nurse": 200}
REMOVE_API = {**WRITE_API, "physician": 200, "nurse": 200}
WRITERS = ("physician", "nurse")


def _changes() -> tuple[int, ...]:
    return (
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        TreatmentPlan.objects.count(),
        Injection.objects.count(),
    )


def _ftp_muscle() -> str:
    return facts.ftp_limits()["muscles"][0]


def _with_addition(world, nurse):
    session = chart(nurse, world.patient)
    row = charting.add_injection(actor=nurse, session=session, muscle=_ftp_muscle(), side="left")
    return session, row


def test_a_plan_with_a_follow_the_pain_addition_from_the_panel(world, nurse):
    client = world.client("nurse")
    panel = client.get(f"/treatments/patients/{world.patient.pk}/panel/").content.decode()
    assert "New plan with a follow-the-pain addition" in panel
    response = client.post(
        f"/treatments/patients/{world.patient.pk}/plans/new/",
        {"muscle": _ftp_muscle(), "side": "right", "sites": 2, "note": "Pain on the right"},
    )
    assert response.status_code == 302
    plan = TreatmentPlan.objects.get(patient=world.patient, active=True)
    extra = facts.units_per_site() * 2
    template_units = sum(Decimal(str(r["units"])) for r in facts.preempt_rows())
    assert sum(ln.units for ln in plan.lines.all()) == template_units + extra
    line = plan.lines.get(muscle=_ftp_muscle(), side="right")
    assert line.follow_the_pain
    assert AuditEvent.objects.filter(object_type="treatments.treatmentplan").exists()
    session = charting.create_session(actor=nurse, patient=world.patient)
    assert session.plan == plan
    assert session.injections.filter(follow_the_pain=True).count() >= 1


def test_a_plan_addition_outside_the_follow_the_pain_muscles_is_refused(world, nurse):
    before = _changes()
    response = world.client("nurse").post(
        f"/treatments/patients/{world.patient.pk}/plans/new/",
        {"muscle": "procerus", "side": "left", "sites": 1},
    )
    assert response.status_code == 422
    assert _changes() == before


def test_follow_the_pain_limits_come_from_the_dose_check(world, physician):
    """Going past the follow-the-pain maximum is a rule finding (the app has no limit of its own)."""
    limits = facts.ftp_limits()
    session = chart(physician, world.patient)
    muscle = limits["muscles"][0]
    over = Decimal(limits["per_muscle"][muscle]["units"]) + facts.units_per_site()
    try:
        charting.add_injection(
            actor=physician, session=session, muscle=muscle, side="left", units=over
        )
    except dose_guard.Blocked as exc:  # refused unless overridden: the finding says why
        findings = exc.result["findings"]
    else:
        findings = findings_actions.current_findings(session)["findings"]
    assert {f["rule_id"] for f in findings} & set(limits["rule_ids"])


def test_removing_an_addition_from_the_session_screen(world, nurse):
    session, row = _with_addition(world, nurse)
    client = world.client("nurse")
    editor = client.get(f"/treatments/sessions/{session.pk}/sites/{row.pk}/").content.decode()
    assert "Remove this follow-the-pain site" in editor
    response = client.post(f"/treatments/sessions/{session.pk}/sites/{row.pk}/remove/")
    assert response.status_code == 200
    assert not Injection.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(
        action="delete", summary__startswith="Removed addition"
    ).exists()


def test_a_template_site_cannot_be_removed(world, nurse):
    session = chart(nurse, world.patient)
    site = session.injections.get(muscle="procerus")
    before = _changes()
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/sites/{site.pk}/remove/"
    )
    assert response.status_code == 422
    api = world.client("nurse").delete(
        f"/api/v1/treatments/sessions/{session.pk}/injections/{site.pk}"
    )
    assert api.status_code == 422
    assert _changes() == before


def test_the_api_removes_an_addition(world, nurse):
    session, row = _with_addition(world, nurse)
    response = world.client("nurse").delete(
        f"/api/v1/treatments/sessions/{session.pk}/injections/{row.pk}"
    )
    assert response.status_code == 200
    assert len(response.json()["injections"]) == 31


@pytest.mark.parametrize("persona,expected", UI.items())
def test_who_may_create_a_plan_on_the_screen(world, persona, expected):
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/patients/{world.patient.pk}/plans/new/",
        {"muscle": _ftp_muscle(), "side": "left", "sites": 1},
    )
    assert response.status_code == expected
    assert TreatmentPlan.objects.exists() == (persona in WRITERS)
    if persona not in WRITERS:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", REMOVE_UI.items())
def test_who_may_remove_an_addition_on_the_screen(world, persona, expected):
    session, row = _with_addition(world, world.users["nurse"])
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/sites/{row.pk}/remove/"
    )
    assert response.status_code == expected
    assert Injection.objects.filter(pk=row.pk).exists() == (persona not in WRITERS)
    if persona not in WRITERS:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", REMOVE_API.items())
def test_who_may_remove_an_addition_through_the_api(world, persona, expected):
    session, row = _with_addition(world, world.users["nurse"])
    before = _changes()
    response = world.client(persona).delete(
        f"/api/v1/treatments/sessions/{session.pk}/injections/{row.pk}"
    )
    assert response.status_code == expected
    assert Injection.objects.filter(pk=row.pk).exists() == (persona not in WRITERS)
    if persona not in WRITERS:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", READ_API.items())
def test_who_may_read_the_plan_through_the_api(world, persona, expected):
    plans_actions.create_plan(actor=world.users["nurse"], patient=world.patient)
    before = _changes()
    response = world.client(persona).get(f"/api/v1/treatments/patients/{world.patient.pk}/plan")
    assert response.status_code == expected
    if expected == 200:
        assert len(response.json()["lines"]) == PlanLine.objects.count()
        assert AuditEvent.objects.filter(summary="Viewed treatment plan via API").exists()
    else:
        assert _changes() == before
        assert not AuditEvent.objects.filter(action="view").exists()


@pytest.mark.parametrize("persona,expected", WRITE_API.items())
def test_who_may_create_a_plan_through_the_api(world, persona, expected):
    before = _changes()
    response = world.client(persona).post(
        f"/api/v1/treatments/patients/{world.patient.pk}/plans",
        data=json.dumps({"additions": [{"muscle": _ftp_muscle(), "side": "left"}]}),
        content_type="application/json",
    )
    assert response.status_code == expected
    assert TreatmentPlan.objects.exists() == (persona in WRITERS)
    if persona not in WRITERS:
        assert _changes() == before
