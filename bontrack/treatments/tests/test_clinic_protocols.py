"""Clinic-defined, off-label protocols (issue 10 item 11): a physician builds one from the head,
face and neck muscles, orders a plan from it, and its sessions go through the ordinary dose
machinery with the class-wide rules only (cumulative window, interval, contraindications,
product). Refusals write nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.factories import received_vials
from bontrack.patients.models import PatientFlag
from bontrack.treatments.actions import charting, clinic_protocols, signing, vials
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.actions.dose_guard import Blocked
from bontrack.treatments.models import ClinicProtocol, TreatmentPlan

pytestmark = pytest.mark.django_db

LINES = [
    {"muscle": "temporalis", "side": "left", "sites": 4, "units": Decimal("20")},
    {"muscle": "corrugator", "side": "left", "sites": 1, "units": Decimal("5")},
    {"muscle": "frontalis", "side": "left", "sites": 2, "units": Decimal("10")},
]


def _protocol(world, lines=LINES):
    return clinic_protocols.save_clinic_protocol(
        actor=world.users["physician"],
        clinic=world.clinic,
        lines=lines,
        name="Left facial pain",
        condition="Facial pain (persistent idiopathic, left side)",
        rationale="Refractory to oral treatment; the patient agreed to off-label treatment.",
    )


def _changes():
    return (
        ClinicProtocol.objects.count(),
        TreatmentPlan.objects.count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )


def test_a_physician_builds_a_protocol_from_head_face_and_neck_muscles(world):
    protocol = _protocol(world)
    assert [ln.muscle for ln in protocol.lines.all()] == ["temporalis", "corrugator", "frontalis"]
    assert protocol.outcome_instrument == "pain_nrs"
    event = AuditEvent.objects.get(object_type__icontains="clinicprotocol", action="create")
    assert "off-label" in event.summary


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"muscle": "biceps_brachii", "side": "left", "sites": 1, "units": Decimal(5)}, "muscle"),
        ({"muscle": "procerus", "side": "left", "sites": 1, "units": Decimal(5)}, "side"),
        ({"muscle": "temporalis", "side": "left", "sites": 0, "units": Decimal(5)}, "sites"),
        ({"muscle": "temporalis", "side": "left", "sites": 1, "units": Decimal(0)}, "units"),
    ],
)
def test_a_line_outside_the_vocabulary_or_without_a_dose_is_refused(world, line, field):
    before = _changes()
    with pytest.raises(ValidationError) as exc:
        _protocol(world, lines=[line])
    assert f"lines.0.{field}" in exc.value.message_dict
    assert _changes() == before


@pytest.mark.parametrize("persona", ["nurse", "front_desk", "billing", "clinic_admin"])
def test_only_the_physician_builds_a_protocol(world, persona):
    before = _changes()
    with pytest.raises(PermissionDenied):
        clinic_protocols.save_clinic_protocol(
            actor=world.users[persona],
            clinic=world.clinic,
            lines=LINES,
            name="X",
            condition="Facial pain",
        )
    assert _changes() == before


def _order(world, patient=None):
    patient = patient or world.patient
    return clinic_protocols.order_plan(
        actor=world.users["physician"], patient=patient, protocol=_protocol(world)
    )


def _session(world, when=None):
    doctor = world.users["physician"]
    when = when or timezone.now()
    session = charting.create_session(
        actor=doctor, patient=world.patient, performed_at=when, indications=["facial_pain"]
    )
    vial = received_vials(doctor, world.clinic, size_units=100, lot_number=f"FP{session.pk}")[0]
    vials.open_vial(
        actor=doctor,
        session=session,
        vial=vial,
        diluent_ml=Decimal("2"),
        reconstituted_at=when - timedelta(minutes=20),
    )
    charting.update_session(
        actor=doctor, session=session, consent_obtained=True, medication_guide_offered=True
    )
    return session


def test_a_session_starts_from_the_ordered_off_label_plan(world):
    plan = _order(world)
    assert plan.indication == "facial_pain" and plan.is_ordered
    session = _session(world)
    assert session.plan_id == plan.pk
    # One charted row per muscle and side, with the plan's sites and units.
    done = {
        (m, side): (sites, units)
        for m, side, sites, units in session.injections.values_list(
            "muscle", "side", "sites", "units"
        )
    }
    assert done == {(ln["muscle"], ln["side"]): (ln["sites"], ln["units"]) for ln in LINES}


def test_only_class_wide_rules_check_an_off_label_session(world):
    _order(world)
    session = _session(world)
    result = findings_actions.current_findings(session)
    ids = {f["rule_id"] for f in result["findings"]}
    # No labelled rule of any indication (PREEMPT, per-site caps, dilution, age) applies.
    assert not {i for i in ids if i.startswith(("BTX-CM-", "BTX-CD-", "BTX-BLEPH-", "BTX-DIL-C"))}
    assert result["totals"]["by_indication"] == {"facial_pain": 35}
    signed = signing.sign_session(actor=world.users["physician"], session=session)
    assert signed.status == "signed"


def test_a_contraindication_still_blocks_an_off_label_session(world):
    _order(world)
    PatientFlag.objects.create(
        patient=world.patient, flag="injection_site_infection", noted_on=timezone.localdate()
    )
    with pytest.raises(Blocked, match="infection"):
        _session(world)


def test_the_class_wide_interval_warns_on_an_early_second_session(world):
    _order(world)
    first = _session(world, timezone.now() - timedelta(days=60))
    signing.sign_session(actor=world.users["physician"], session=first)
    second = _session(world)
    ids = {
        (f["severity"], f["rule_id"]) for f in findings_actions.current_findings(second)["findings"]
    }
    assert ("warn", "BTX-CLASS-RETREAT-84") in ids


def test_ordering_a_plan_is_the_physicians_and_a_nurse_changes_nothing(world):
    protocol = _protocol(world)
    before = _changes()
    with pytest.raises(PermissionDenied):
        clinic_protocols.order_plan(
            actor=world.users["nurse"], patient=world.patient, protocol=protocol
        )
    assert _changes() == before


def test_a_retired_protocol_cannot_be_ordered(world):
    protocol = _protocol(world)
    clinic_protocols.retire_clinic_protocol(actor=world.users["physician"], protocol=protocol)
    before = _changes()
    with pytest.raises(Exception, match="retired"):
        clinic_protocols.order_plan(
            actor=world.users["physician"], patient=world.patient, protocol=protocol
        )
    assert _changes() == before


# ---- pages ------------------------------------------------------------------------------

from conftest import PERSONAS, permission_matrix  # noqa: E402


@pytest.mark.parametrize(
    ("persona", "expected"),
    # The list is scoped: a physician of another clinic or practice sees their own (empty) list.
    permission_matrix(
        Perm.CLINIC_PROTOCOL_MANAGE, other_clinic_staff=200, other_practice_staff=200
    ).items(),
)
def test_who_reaches_the_protocol_builder(world, persona, expected):
    assert world.client(persona).get("/treatments/clinic-protocols/").status_code == expected
    new = world.client(persona).get("/treatments/clinic-protocols/new/").status_code
    assert new == expected


@pytest.mark.parametrize(
    ("persona", "expected"), permission_matrix(Perm.CLINIC_PROTOCOL_MANAGE).items()
)
def test_who_changes_a_protocol(world, persona, expected):
    protocol = _protocol(world)
    assert (
        world.client(persona).get(f"/treatments/clinic-protocols/{protocol.pk}/").status_code
        == expected
    )


def test_the_builder_saves_a_protocol_from_the_grid(world):
    client = world.client("physician")
    response = client.post(
        "/treatments/clinic-protocols/new/",
        {
            "name": "Masseter-free facial pain",
            "condition": "Facial pain after surgery",
            "clinic": str(world.clinic.pk),
            "s_temporalis__left": "2",
            "u_temporalis__left": "10",
            "s_procerus__midline": "1",
            "u_procerus__midline": "2.5",
        },
    )
    assert response.status_code == 302
    protocol = ClinicProtocol.objects.get(name="Masseter-free facial pain")
    assert sorted(protocol.lines.values_list("muscle", "sites")) == [
        ("procerus", 1),
        ("temporalis", 2),
    ]
    page = client.get("/treatments/clinic-protocols/").content.decode()
    assert "Off-label" in page and "Temporalis left: 10 U in 2 sites" in page


def test_a_half_filled_grid_row_is_refused_and_nothing_saved(world):
    before = _changes()
    response = world.client("physician").post(
        "/treatments/clinic-protocols/new/",
        {
            "name": "Bad",
            "condition": "Facial pain",
            "clinic": str(world.clinic.pk),
            "s_temporalis__left": "2",
        },
    )
    assert response.status_code == 422
    assert "Give both the sites and the units" in response.content.decode()
    assert _changes() == before


@pytest.mark.parametrize(
    ("persona", "expected"),
    permission_matrix(Perm.SESSION_VIEW).items(),
)
def test_who_reads_the_off_label_plan(world, persona, expected):
    _order(world)
    url = f"/treatments/patients/{world.patient.pk}/off-label-plan/"
    assert world.client(persona).get(url).status_code == expected


def test_the_physician_orders_and_the_plan_note_and_session_say_off_label(world):
    protocol = _protocol(world)
    client = world.client("physician")
    url = f"/treatments/patients/{world.patient.pk}/off-label-plan/"
    assert world.client("nurse").post(url, {"protocol": str(protocol.pk)}).status_code == 403
    assert not TreatmentPlan.objects.exists()
    assert client.post(url, {"protocol": str(protocol.pk)}).status_code == 302
    page = client.get(url).content.decode()
    assert "OFF-LABEL" in page and protocol.condition in page
    session = _session(world)
    session_page = client.get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert (
        "OFF-LABEL treatment" in session_page and "must say that the treatment is" in session_page
    )
    note = client.get(f"/treatments/sessions/{session.pk}/note/").content.decode()
    assert "OFF-LABEL treatment" in note and "Left facial pain" in note
    pdf = client.get(f"/treatments/sessions/{session.pk}/note.pdf")
    assert pdf.status_code == 200


def test_the_off_label_note_pdf_text_says_off_label(world, tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    _order(world)
    session = _session(world)
    pdf = world.client("physician").get(f"/treatments/sessions/{session.pk}/note.pdf")
    path = tmp_path / "note.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "OFF-LABEL treatment" in text


assert PERSONAS


def _count(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_protocol_list_query_count_does_not_grow_with_protocols(world):
    client = world.client("physician")
    _protocol(world)
    small = _count(client, "/treatments/clinic-protocols/")
    for n in range(5):
        clinic_protocols.save_clinic_protocol(
            actor=world.users["physician"],
            clinic=world.clinic,
            lines=LINES,
            name=f"Protocol {n}",
            condition="Facial pain",
        )
    assert _count(client, "/treatments/clinic-protocols/") == small
