"""Each charted site records muscle, side or limb, units, number of sites, dilution and guidance."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition
from bontrack.treatments.actions import charting
from bontrack.treatments.models import Injection

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _arm_session(world, nurse):
    today = timezone.localdate()
    patient = PatientFactory(
        clinic=world.clinic, date_of_birth=today.replace(year=today.year - 60) - timedelta(days=9)
    )
    Condition.objects.create(
        patient=patient, indication="upper_limb_spasticity", icd10_code="I69.351"
    )
    return charting.create_session(
        actor=nurse, patient=patient, indications=["upper_limb_spasticity"]
    )


def _last_audit() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_a_nurse_adds_an_arm_site_with_its_sites_dilution_and_guidance(world, nurse):
    session = _arm_session(world, nurse)
    r = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/sites/add/",
        {
            "muscle": "biceps_brachii",
            "side": "right",
            "units": "50",
            "sites": "2",
            "dilution": "5",
            "guidance": "ultrasound",
        },
        **HX,
    )
    assert r.status_code == 200
    site = Injection.objects.get(session=session)
    assert (site.muscle, site.side, site.units, site.sites) == (
        "biceps_brachii",
        "right",
        Decimal(50),
        2,
    )
    assert site.dilution == Decimal(5) and site.guidance == "ultrasound"
    event = AuditEvent.objects.filter(action="create", object_type__icontains="injection").last()
    assert event is not None and event.changes["guidance"] == [None, "ultrasound"]
    # The map draws it on the right arm, said in words.
    page = r.content.decode()
    assert "Biceps brachii, right arm, site 1: 50 units in 2 sites, done" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [("dilution", "0"), ("dilution", "500"), ("guidance", "xray"), ("sites", "0")],
)
def test_a_bad_site_field_is_a_form_error_and_nothing_is_written(world, nurse, field, value):
    session = _arm_session(world, nurse)
    body = {"muscle": "biceps_brachii", "side": "left", "units": "20", field: value}
    last = _last_audit()
    r = world.client("nurse").post(f"/treatments/sessions/{session.pk}/sites/add/", body, **HX)
    assert r.status_code == 422
    assert not Injection.objects.filter(session=session).exists()
    assert not AuditEvent.objects.filter(pk__gt=last).exclude(action="view").exists()


def test_editing_a_site_records_guidance_and_dilution_with_an_audit_row(world, nurse):
    session = _arm_session(world, nurse)
    site = charting.add_injection(
        actor=nurse, session=session, muscle="flexor_carpi_ulnaris", side="left", units=Decimal(20)
    )
    r = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/sites/{site.pk}/save/",
        {"units": "25", "status": "done", "sites": "2", "dilution": "2.5", "guidance": "emg"},
        **HX,
    )
    assert r.status_code == 200
    site.refresh_from_db()
    assert (site.units, site.sites, site.dilution, site.guidance) == (
        Decimal(25),
        2,
        Decimal("2.5"),
        "emg",
    )
    event = AuditEvent.objects.filter(action="update", object_type__icontains="injection").last()
    assert event is not None
    assert event.changes["guidance"] == ["", "emg"] and event.changes["sites"] == [1, 2]
    # The editor shows the guidance choices in words.
    editor = world.client("nurse").get(f"/treatments/sessions/{session.pk}/sites/{site.pk}/", **HX)
    html = editor.content.decode()
    assert "Needle EMG" in html and "Electrical stimulation" in html and "Ultrasound" in html
    assert "Anatomical landmarks" in html


def test_the_service_refuses_a_bad_dilution_and_keeps_the_site(world, nurse):
    session = _arm_session(world, nurse)
    site = charting.add_injection(
        actor=nurse, session=session, muscle="brachialis", side="right", units=Decimal(30)
    )
    with pytest.raises(ValidationError) as exc:
        charting.update_injection(actor=nurse, injection=site, dilution=Decimal(-1))
    assert "dilution" in exc.value.message_dict
    with pytest.raises(ValidationError):
        charting.update_injection(actor=nurse, injection=site, guidance="xray")
    site.refresh_from_db()
    assert site.dilution is None and site.guidance == ""
    # None clears a recorded dilution; leaving it out keeps it.
    charting.update_injection(actor=nurse, injection=site, dilution=Decimal(5))
    charting.update_injection(actor=nurse, injection=site, units=Decimal(35))
    site.refresh_from_db()
    assert site.dilution == Decimal(5)
    charting.update_injection(actor=nurse, injection=site, dilution=None)
    site.refresh_from_db()
    assert site.dilution is None


def test_the_api_edits_and_shows_the_site_fields(world, nurse):
    session = _arm_session(world, nurse)
    client = world.client("nurse")
    r = client.post(
        f"/api/v1/treatments/sessions/{session.pk}/injections",
        {"muscle": "pronator_teres", "side": "left", "units": "15", "guidance": "estim"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    row = next(i for i in r.json()["injections"] if i["muscle"] == "pronator_teres")
    assert row["guidance"] == "estim" and row["dilution"] is None
    r = client.patch(
        f"/api/v1/treatments/sessions/{session.pk}/injections/{row['id']}",
        {"dilution": "5", "sites": 2},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    row = next(i for i in r.json()["injections"] if i["id"] == row["id"])
    assert Decimal(row["dilution"]) == 5 and row["sites"] == 2 and row["guidance"] == "estim"
    r = client.patch(
        f"/api/v1/treatments/sessions/{session.pk}/injections/{row['id']}",
        {"guidance": "xray"},
        content_type="application/json",
    )
    assert r.status_code == 422


def test_a_site_saved_without_units_is_a_form_error(world, nurse):
    session = _arm_session(world, nurse)
    site = charting.add_injection(
        actor=nurse, session=session, muscle="brachialis", side="left", units=Decimal(30)
    )
    r = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/sites/{site.pk}/save/",
        {"units": "", "status": "done"},
        **HX,
    )
    assert r.status_code == 422
    assert "This field is required." in r.content.decode()
    site.refresh_from_db()
    assert site.units == Decimal(30)


def test_an_amendment_keeps_each_sites_dilution_and_guidance(world, nurse):
    from bontrack.treatments.actions import amendments, signing
    from bontrack.treatments.actions import findings as findings_actions

    session = _arm_session(world, nurse)
    charting.add_injection(
        actor=nurse,
        session=session,
        muscle="biceps_brachii",
        side="left",
        units=Decimal(60),
        dilution=Decimal(5),
        guidance="ultrasound",
    )
    from bontrack.treatments.actions import vials as vials_actions

    from .conftest import stock

    vials_actions.open_vial(
        actor=nurse,
        session=session,
        vial=stock(session.clinic, vials=1, lot_number="AM1")[0],
        diluent_ml=Decimal("4"),
        reconstituted_at=session.performed_at - timedelta(minutes=30),
    )
    charting.update_session(
        actor=nurse, session=session, consent_obtained=True, medication_guide_offered=True
    )
    result = findings_actions.current_findings(session)
    for rule_id in sorted({f["rule_id"] for f in result["findings"] if f["severity"] == "warn"}):
        findings_actions.decide_finding(actor=nurse, session=session, rule_id=rule_id)
    signing.sign_session(actor=nurse, session=session)
    amendment = amendments.amend_session(actor=nurse, session=session, reason="Wrong arm")
    copied = amendment.injections.get()
    assert copied.dilution == Decimal(5) and copied.guidance == "ultrasound"
