"""Clinic templates per indication and where a new plan or session starts (issue 10 item 3).

A clinic administrator or a physician saves the clinic's templates (audited); a nurse may not.
A new session or plan of an indication starts from the patient's last given session of that
indication, else the clinic's template, else the protocol's labelled template.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.patients.models import Condition, WeightMeasurement
from bontrack.treatments.actions import charting, plans, signing
from bontrack.treatments.actions import templates as template_actions
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.models import ClinicTemplate, TreatmentPlan
from conftest import permission_matrix

from .conftest import acknowledge_all, stock

pytestmark = pytest.mark.django_db

CD = "cervical_dystonia"
CD_LINES = [
    {"muscle": "sternocleidomastoid", "side": "left", "sites": 2, "units": "40"},
    {"muscle": "splenius_capitis", "side": "right", "sites": 3, "units": "60"},
]


def _cd_patient(world):
    Condition.objects.create(patient=world.patient, indication=CD, icd10_code="G24.3")
    return world.patient


def _template(world, actor=None, name="Our CD start", lines=None):
    return template_actions.save_template(
        actor=actor or world.users["physician"],
        clinic=world.clinic,
        indication=CD,
        name=name,
        lines=lines or CD_LINES,
        note="Rotation to the right",
    )


def test_a_physician_saves_a_template_and_it_is_audited(world):
    t = _template(world)
    assert [ln["units"] for ln in t.lines] == ["40.00", "60.00"]
    event = AuditEvent.objects.get(object_type="treatments.clinictemplate", action="create")
    assert "Our CD start" in event.summary and "100.00 U in 5 sites" in event.summary
    changed = template_actions.save_template(
        actor=world.users["clinic_admin"],
        clinic=world.clinic,
        indication=CD,
        name="Our CD start",
        lines=[{**CD_LINES[0], "units": "50"}],
        template=t,
    )
    assert changed.lines == [{**CD_LINES[0], "units": "50.00"}]
    assert AuditEvent.objects.filter(object_id=str(t.pk), action="update").exists()
    template_actions.retire_template(actor=world.users["physician"], template=t)
    assert not ClinicTemplate.objects.get(pk=t.pk).active


def test_a_nurse_may_not_manage_templates_and_nothing_is_written(world):
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        _template(world, actor=world.users["nurse"])
    assert (ClinicTemplate.objects.count(), AuditEvent.objects.count()) == (0, before)


@pytest.mark.parametrize(
    "lines,field",
    [
        ([{"muscle": "frontalis", "side": "left", "sites": 1, "units": "5"}], "lines.0.muscle"),
        ([{**CD_LINES[0], "units": "0"}], "lines.0.units"),
        ([{**CD_LINES[0], "sites": 0}], "lines.0.sites"),
        ([CD_LINES[0], CD_LINES[0]], "lines.1.muscle"),
        ([], "lines"),
    ],
)
def test_bad_template_rows_are_refused_with_the_field(world, lines, field):
    with pytest.raises(ValidationError) as exc:
        template_actions.save_template(
            actor=world.users["physician"],
            clinic=world.clinic,
            indication=CD,
            name="X",
            lines=lines,
        )
    assert field in exc.value.message_dict
    assert not ClinicTemplate.objects.exists()


def _rows(session):
    return sorted(
        (i.muscle, i.side, i.sites, i.units) for i in session.injections.all() if i.indication == CD
    )


def test_a_session_starts_from_the_protocol_then_the_clinic_template_then_the_last_session(world):
    patient = _cd_patient(world)
    nurse, physician = world.users["nurse"], world.users["physician"]
    start = template_actions.starting_point(patient, CD)
    assert start.kind == "protocol"
    _template(world)
    start = template_actions.starting_point(patient, CD)
    assert start.kind == "clinic_template" and "Our CD start" in start.label
    session = charting.create_session(
        actor=nurse,
        patient=patient,
        indications=[CD],
        performed_at=timezone.now() - timedelta(days=100),
    )
    assert _rows(session) == [
        ("splenius_capitis", "right", 3, Decimal("60.00")),
        ("sternocleidomastoid", "left", 2, Decimal("40.00")),
    ]
    vial = stock(world.clinic, vials=1, lot_number="T0001")[0]
    vials_actions.open_vial(
        actor=nurse,
        session=session,
        vial=vial,
        diluent_ml=Decimal("2"),
        reconstituted_at=session.performed_at - timedelta(minutes=30),
    )
    charting.update_session(
        actor=nurse, session=session, consent_obtained=True, medication_guide_offered=True
    )
    site = session.injections.get(muscle="sternocleidomastoid")
    charting.update_injection(actor=physician, injection=site, units=Decimal("30"))
    acknowledge_all(physician, session)
    signing.sign_session(actor=physician, session=session)
    start = template_actions.starting_point(patient, CD)
    assert start.kind == "last_session"
    nxt = charting.create_session(actor=nurse, patient=patient, indications=[CD])
    assert ("sternocleidomastoid", "left", 2, Decimal("30.00")) in _rows(nxt)
    offers = charting.start_offers(patient)
    cd_offer = next(o for o in offers if o["code"] == CD)
    kinds = [t["kind"] for t in cd_offer["templates"]]
    assert kinds[:2] == ["last", "clinic"]


def test_a_named_clinic_template_of_another_clinic_is_refused(world):
    patient = _cd_patient(world)
    other = ClinicTemplate.objects.create(
        clinic=world.other_clinic, indication=CD, name="Theirs", lines=CD_LINES
    )
    with pytest.raises(ValidationError):
        charting.create_session(
            actor=world.users["nurse"],
            patient=patient,
            indications=[CD],
            templates={CD: f"clinic-{other.pk}"},
        )


def test_a_plan_of_any_indication_starts_from_the_clinic_template(world):
    patient = _cd_patient(world)
    _template(world)
    plan = plans.create_plan(actor=world.users["physician"], patient=patient, indication=CD)
    assert plan.indication == CD and plan.is_ordered
    assert sorted((ln.muscle, ln.units) for ln in plan.lines.all()) == [
        ("splenius_capitis", Decimal("60.00")),
        ("sternocleidomastoid", Decimal("40.00")),
    ]
    assert (
        "starting from the clinic template"
        in AuditEvent.objects.get(object_type="treatments.treatmentplan").summary
    )
    with pytest.raises(ValidationError):
        plans.create_plan(
            actor=world.users["physician"],
            patient=patient,
            indication=CD,
            additions=[{"muscle": "temporalis", "side": "left"}],
        )


def test_the_plan_page_shows_units_per_kg_for_a_child(world):
    patient = world.patient
    today = timezone.localdate()
    patient.date_of_birth = today.replace(year=today.year - 9)
    patient.save()
    Condition.objects.create(
        patient=patient, indication="lower_limb_spasticity", icd10_code="G80.1"
    )
    WeightMeasurement.objects.create(patient=patient, measured_on=today, weight_kg=Decimal(20))
    ClinicTemplate.objects.create(
        clinic=world.clinic,
        indication="lower_limb_spasticity",
        name="Adult calf",
        lines=[{"muscle": "soleus", "side": "left", "sites": 2, "units": "75"}],
    )
    # Clinic templates are in units for adults: a child starts from the labelled template.
    start = template_actions.starting_point(patient, "lower_limb_spasticity", pediatric=True)
    assert start.kind == "protocol"
    offers = charting.start_offers(patient)
    assert all(t["kind"] != "clinic" for o in offers for t in o["templates"])
    plan = TreatmentPlan.objects.create(
        patient=patient, clinic=world.clinic, indication="lower_limb_spasticity"
    )
    plan.lines.create(muscle="soleus", side="left", sites=2, units=Decimal(40))
    client = world.client("nurse")
    page = client.get(
        f"/treatments/patients/{patient.pk}/plans/start/?indication=lower_limb_spasticity"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "starts from the active plan" in html and "2 U/kg" in html
    response = client.post(
        f"/treatments/patients/{patient.pk}/plans/start/",
        {"indication": "lower_limb_spasticity", "note": ""},
    )
    assert response.status_code == 302
    new = TreatmentPlan.objects.get(
        patient=patient, indication="lower_limb_spasticity", active=True
    )
    assert new.based_on == plan and not new.is_ordered  # a nurse's plan waits for a physician


TEMPLATES = permission_matrix(
    Perm.TEMPLATE_MANAGE,
    # The page lists the templates of one's own clinics: staff elsewhere see their own (none).
    other_clinic_staff=200,
    other_practice_staff=200,
)


@pytest.mark.parametrize("persona,expected", TEMPLATES.items())
def test_the_templates_page(world, persona, expected):
    _template(world)
    response = world.client(persona).get("/treatments/templates/")
    assert response.status_code == expected
    if expected == 200:
        html = response.content.decode()
        assert ("Our CD start" in html) == (persona in ("physician", "clinic_admin"))


EDIT = permission_matrix(Perm.TEMPLATE_MANAGE, ok=302)


@pytest.mark.parametrize("persona,expected", EDIT.items())
def test_editing_a_template_and_a_denial_changes_nothing(world, persona, expected):
    t = _template(world)
    before = AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count()
    data = {
        "name": "Renamed",
        "note": "",
        "muscle_0": f"{CD}|sternocleidomastoid",
        "side_0": "left",
        "sites_0": "2",
        "units_0": "35",
    }
    response = world.client(persona).post(f"/treatments/templates/{t.pk}/", data)
    assert response.status_code == expected
    renamed = ClinicTemplate.objects.get(pk=t.pk).name == "Renamed"
    assert renamed == (expected == 302 and persona in ("physician", "clinic_admin"))
    if not renamed:
        assert AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count() == before


def test_the_templates_form_shows_service_errors_on_the_row(world):
    response = world.client("physician").post(
        "/treatments/templates/",
        {
            "clinic": str(world.clinic.pk),
            "indication": CD,
            "name": "Bad",
            "muscle_0": "chronic_migraine|frontalis",
            "side_0": "left",
            "sites_0": "1",
            "units_0": "5",
        },
    )
    assert response.status_code == 422
    assert "Choose a muscle used for" in response.content.decode()
    assert not ClinicTemplate.objects.exists()


def test_the_templates_page_costs_the_same_with_more_templates(world):
    client = world.client("physician")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/treatments/templates/").status_code == 200
        return len(ctx.captured_queries)

    _template(world, name="One")
    small = count()
    for i in range(12):
        _template(world, name=f"More {i}")
    assert count() == small
