"""Every indication gets its own session from the chart; a session may hold several indications."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from pypdf import PdfReader

from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, WeightMeasurement
from bontrack.treatments import facts
from bontrack.treatments.actions import charting
from bontrack.treatments.models import TreatmentSession

from .conftest import acknowledge_all, chart

pytestmark = pytest.mark.django_db

# indication, ICD-10-CM code, age in years, template the chart starts from, sites it charts
CASES = [
    ("chronic_migraine", "G43.709", 40, "preempt", 31),
    ("cervical_dystonia", "G24.3", 55, "clinician_built", 0),
    ("blepharospasm", "G24.5", 62, "bleph_initial", 6),
    ("upper_limb_spasticity", "I69.351", 67, "clinician_built", 0),
    ("lower_limb_spasticity", "G80.1", 7, "clinician_built", 0),
]


def _patient(world, code: str, years: int, *, indication: str):
    today = timezone.localdate()
    patient = PatientFactory(
        clinic=world.clinic,
        date_of_birth=today.replace(year=today.year - years) - timedelta(days=30),
    )
    Condition.objects.create(patient=patient, indication=indication, icd10_code=code)
    if years < 18:
        WeightMeasurement.objects.create(
            patient=patient, measured_on=today, weight_kg=Decimal("22")
        )
    return patient


def _panel(world, patient, persona="physician") -> str:
    r = world.client(persona).get(f"/treatments/patients/{patient.pk}/panel/")
    assert r.status_code == 200
    return r.content.decode()


@pytest.mark.parametrize(("indication", "code", "years", "template", "sites"), CASES)
def test_a_patient_of_each_indication_gets_a_session_of_that_indication_from_the_chart(
    world, indication, code, years, template, sites
):
    patient = _patient(world, code, years, indication=indication)
    panel = _panel(world, patient)
    label = facts.indication_label(indication)
    assert f"Start {label.lower()} session" in panel
    assert ("PREEMPT" in panel) == (indication == "chronic_migraine")
    client = world.client("physician")
    before = AuditEvent.objects.filter(action="create", object_type__icontains="session").count()
    r = client.post(
        f"/treatments/patients/{patient.pk}/sessions/new/",
        {"indications": indication, f"template_{indication}": template},
    )
    assert r.status_code == 302
    session = TreatmentSession.objects.get(patient=patient)
    assert session.indication == indication and session.indications == [indication]
    rows = list(session.injections.all())
    assert len(rows) == sites and all(i.indication == indication for i in rows)
    assert (
        AuditEvent.objects.filter(action="create", object_type__icontains="session").count()
        == before + 1
    )
    page = client.get(r["Location"]).content.decode()
    assert label in page
    if indication != "chronic_migraine":
        assert "PREEMPT" not in page and "Chronic migraine" not in page


def test_a_preempt_session_is_refused_to_a_patient_without_chronic_migraine(world):
    patient = _patient(world, "G24.5", 60, indication="blepharospasm")
    client = world.client("physician")
    for body in (
        {"indications": "chronic_migraine", "template_chronic_migraine": "preempt"},
        {"indications": "blepharospasm", "template_blepharospasm": "preempt"},
    ):
        r = client.post(f"/treatments/patients/{patient.pk}/sessions/new/", body)
        assert r.status_code == 302 and r["Location"] == f"/patients/{patient.pk}/"
    assert not TreatmentSession.objects.filter(patient=patient).exists()
    # Without indications the session is the patient's own: blepharospasm, never PREEMPT.
    client.post(f"/treatments/patients/{patient.pk}/sessions/new/")
    session = TreatmentSession.objects.get(patient=patient)
    assert session.indications == ["blepharospasm"]
    assert {i.muscle for i in session.injections.all()} <= facts.protocol_muscles("blepharospasm")


def test_starting_a_session_needs_the_charting_permission(world):
    patient = _patient(world, "G24.3", 50, indication="cervical_dystonia")
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    r = world.client("front_desk").post(
        f"/treatments/patients/{patient.pk}/sessions/new/", {"indications": "cervical_dystonia"}
    )
    assert r.status_code == 403
    assert not TreatmentSession.objects.filter(patient=patient).exists()
    assert not AuditEvent.objects.filter(pk__gt=last, action="create").exists()


def test_a_combined_migraine_and_dystonia_session_totals_each_indication(world, nurse):
    patient = _patient(world, "G43.709", 45, indication="chronic_migraine")
    Condition.objects.create(patient=patient, indication="cervical_dystonia", icd10_code="G24.3")
    panel = _panel(world, patient)
    assert "Start combined session" in panel
    client = world.client("physician")
    r = client.post(
        f"/treatments/patients/{patient.pk}/sessions/new/",
        {
            "indications": ["chronic_migraine", "cervical_dystonia"],
            "template_chronic_migraine": "preempt",
            "template_cervical_dystonia": "clinician_built",
        },
    )
    session = TreatmentSession.objects.get(patient=patient)
    assert session.indications == ["chronic_migraine", "cervical_dystonia"]
    r = client.post(
        f"/treatments/sessions/{session.pk}/sites/add/",
        {"muscle": "cervical_dystonia|splenius_capitis", "side": "left", "units": "50"},
    )
    assert r.status_code == 200, r.content.decode()[:2000]
    added = session.injections.get(indication="cervical_dystonia")
    assert (added.muscle, added.units) == ("splenius_capitis", Decimal("50"))
    page = client.get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "Chronic migraine, Cervical dystonia" in page
    assert "155 U" in page and "50 U" in page and "205 U" in page
    doc = facts.dose_check_document(session, list(session.injections.all()), [])
    assert {i["indication"] for i in doc["session"]["injections"]} == {  # type: ignore[index]
        "chronic_migraine",
        "cervical_dystonia",
    }
    result = facts.run_dose_check(session, list(session.injections.all()), [])
    assert result["totals"]["session_units"] == 205
    assert result["totals"]["by_indication"] == {"cervical_dystonia": 50, "chronic_migraine": 155}
    # A muscle of neither protocol, or an indication the session does not hold, is refused.
    for body in (
        {"muscle": "cervical_dystonia|orbicularis_oculi_pretarsal_upper_medial", "side": "left"},
        {"muscle": "blepharospasm|orbicularis_oculi_pretarsal_upper_medial", "side": "left"},
    ):
        r = client.post(f"/treatments/sessions/{session.pk}/sites/add/", {**body, "units": "2"})
        assert r.status_code == 422
    assert session.injections.count() == 32


def test_the_note_and_pdf_name_the_sessions_indication(world, nurse):
    patient = _patient(world, "G24.5", 60, indication="blepharospasm")
    session = chart(nurse, patient)
    acknowledge_all(nurse, session)
    physician = world.users["physician"]
    from bontrack.treatments.actions import signing

    signing.sign_session(actor=physician, session=session)
    client = world.client("physician")
    html = client.get(f"/treatments/sessions/{session.pk}/note/").content.decode()
    assert "chemodenervation, blepharospasm" in html
    assert "PREEMPT" not in html and "migraine" not in html.lower()
    pdf = client.get(f"/treatments/sessions/{session.pk}/note.pdf").content
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "blepharospasm" in text and "PREEMPT" not in text and "migraine" not in text.lower()


def test_the_api_starts_a_session_of_several_indications(world):
    patient = _patient(world, "G43.709", 45, indication="chronic_migraine")
    Condition.objects.create(patient=patient, indication="cervical_dystonia", icd10_code="G24.3")
    client = world.client("nurse")
    url = f"/api/v1/treatments/patients/{patient.pk}/sessions"
    bad = client.post(
        url,
        data=json.dumps({"indications": ["blepharospasm"]}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "indications" in bad.json()["errors"]
    r = client.post(
        url,
        data=json.dumps(
            {
                "indications": ["cervical_dystonia", "chronic_migraine"],
                "templates": {"chronic_migraine": "preempt"},
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["indications"] == ["cervical_dystonia", "chronic_migraine"]
    assert body["indication"] == "cervical_dystonia"
    assert {i["indication"] for i in body["injections"]} == {"chronic_migraine"}


def test_the_treated_indications_come_from_the_conditions_codes(world):
    patient = _patient(world, "G81.11", 60, indication="upper_limb_spasticity")
    assert charting.treated_indications(patient) == [
        "upper_limb_spasticity",
        "lower_limb_spasticity",
    ]


def test_a_patient_with_no_recorded_condition_gets_no_session_and_nothing_is_written(world):
    from bontrack.audit.models import AuditEvent
    from bontrack.patients.models import Condition
    from bontrack.treatments.actions import charting
    from bontrack.treatments.models import TreatmentSession

    # given a patient with no treated condition on file
    Condition.objects.filter(patient=world.other_patient).delete()
    events = AuditEvent.objects.count()
    # when a session is started without naming an indication
    with pytest.raises(ValidationError) as refused:
        charting.create_session(actor=world.users["nurse"], patient=world.other_patient)
    # then it is refused in plain words, and no session (no PREEMPT default) is created
    assert "Record the condition" in refused.value.message_dict["indications"][0]
    assert not TreatmentSession.objects.filter(patient=world.other_patient).exists()
    assert AuditEvent.objects.count() == events
