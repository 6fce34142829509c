"""Lot trace and recall: every patient, session, muscle and dose a lot went into (sessions drawing
from two vials of two lots included), each patient's adverse effects since; the recall blocks the
lot's remaining vials, needs confirmation, logs contacts and exports CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.inventory.models import Lot, RecallContact, Vial
from bontrack.treatments import lot_trace
from bontrack.treatments.actions import follow_up, signing
from bontrack.treatments.actions import vials as vials_actions

from .conftest import acknowledge_all, chart, stock

pytestmark = pytest.mark.django_db


def _two_vial_session(nurse, patient, lot_number: str):
    """A session that drew a second vial, from lot ``lot_number``."""
    session = chart(nurse, patient)
    extra = stock(patient.clinic, size=100, vials=1, lot_number=lot_number)[0]
    vials_actions.open_vial(
        actor=nurse,
        session=session,
        vial=extra,
        diluent_ml=Decimal("2"),
        reconstituted_at=session.performed_at - timedelta(minutes=20),
    )
    acknowledge_all(nurse, session)
    return signing.sign_session(actor=nurse, session=session), extra


def test_the_trace_lists_patients_sessions_muscles_doses_and_effects_since(world, nurse):
    session, extra = _two_vial_session(nurse, world.patient, "SHARED")
    effect = follow_up.record_adverse_effect(
        actor=nurse, session=session, kind="ptosis", detail="Left eyelid"
    )
    lot = Lot.objects.get(lot_number="SHARED")
    scope = nurse.scope(Perm.INVENTORY_VIEW)
    result = lot_trace.trace(lot, scope)
    assert [p.id for p in result.patients] == [world.patient.pk]
    traced = result.patients[0].sessions[0]
    assert traced.id == session.pk and len(traced.vials) == 2
    assert traced.units_from_lot == VialUse_units(extra.pk)
    assert traced.other_lots == [f"L{session.pk:05d}"]
    done = session.injections.filter(status="done")
    assert sum(s["units"] for s in traced.sites) == sum(i.units for i in done)
    assert sum(s["sites"] for s in traced.sites) == sum(i.sites for i in done)
    assert [e["kind"] for e in result.patients[0].effects] == [effect.kind]
    # The session's first lot traces to the same session, naming SHARED as the other lot.
    first = lot_trace.trace(Lot.objects.get(lot_number=f"L{session.pk:05d}"), scope)
    assert first.patients[0].sessions[0].other_lots == ["SHARED"]


def test_the_trace_page_words_the_preferred_contact(world, nurse):
    world.patient.preferred_contact = "sms"
    world.patient.save(update_fields=["preferred_contact"])
    session, _extra = _two_vial_session(nurse, world.patient, "WORDS")
    lot = Lot.objects.get(lot_number="WORDS")
    html = world.client("nurse").get(f"/treatments/lots/{lot.pk}/trace/").content.decode()
    assert "prefers text message" in html
    assert "prefers Sms" not in html


def VialUse_units(vial_id: int) -> Decimal:
    from bontrack.treatments.models import VialUse

    return VialUse.objects.get(pk=vial_id).units_used


def _shared_lot_sessions(nurse, patients, n_each: int) -> Lot:
    lot_vials = stock(patients[0].clinic, size=200, vials=len(patients) * n_each, lot_number="BIG")
    it = iter(lot_vials)
    for patient in patients:
        for k in range(n_each):
            from bontrack.treatments.actions import charting

            performed = timezone.now() - timedelta(days=100 * (k + 1))
            s = charting.create_session(actor=nurse, patient=patient, performed_at=performed)
            vials_actions.open_vial(
                actor=nurse,
                session=s,
                vial=next(it),
                diluent_ml=Decimal("4"),
                reconstituted_at=performed - timedelta(minutes=30),
            )
    return Lot.objects.get(lot_number="BIG")


def test_the_trace_takes_the_same_queries_for_one_or_many_sessions(world, nurse):
    from bontrack.factories import PatientFactory

    scope = nurse.scope(Perm.INVENTORY_VIEW)
    small = _shared_lot_sessions(nurse, [world.patient], 1)
    with CaptureQueriesContext(connection) as one:
        lot_trace.trace(small, scope)
    Lot.objects.filter(pk=small.pk).update(lot_number="BIG-1")
    from bontrack.patients.models import Condition

    many = [PatientFactory(clinic=world.clinic) for _ in range(6)]
    for p in many:
        Condition.objects.create(patient=p, indication="chronic_migraine", icd10_code="G43.709")
    big = _shared_lot_sessions(nurse, many, 1)
    with CaptureQueriesContext(connection) as lots:
        result = lot_trace.trace(big, scope)
    assert len(result.patients) == 6 and result.session_count == 6
    assert len(lots) == len(one) <= 6


def _recall(world, persona="clinic_admin", **data):
    lot = Lot.objects.get(lot_number=data.pop("lot_number", "SHARED"))
    body = {"reason": "Manufacturer notice 2026-11", "confirm": "on", **data}
    return lot, world.client(persona).post(f"/treatments/lots/{lot.pk}/recall/", body)


def test_a_recall_needs_confirmation_and_blocks_the_remaining_vials(world, nurse):
    _two_vial_session(nurse, world.patient, "SHARED")
    spare = stock(world.clinic, size=100, vials=2, lot_number="SHARED")
    lot, response = _recall(world, confirm="")
    assert response.status_code == 422
    assert Lot.objects.get(pk=lot.pk).recalled_at is None
    lot, response = _recall(world)
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.recalled_at is not None
    assert {v.status for v in Vial.objects.filter(pk__in=[v.pk for v in spare])} == {"recalled"}
    assert Vial.objects.filter(lot=lot, status="used").count() == 1
    assert AuditEvent.objects.filter(object_type="inventory.lot", action="update").exists()
    # A blocked vial cannot be opened.
    from bontrack.treatments.actions import charting

    draft = charting.create_session(actor=nurse, patient=world.other_patient)
    with pytest.raises(Exception):  # noqa: B017 - not in stock any more (Conflict)
        vials_actions.open_vial(
            actor=nurse,
            session=draft,
            vial=spare[0],
            diluent_ml=Decimal("2"),
            reconstituted_at=timezone.now() - timedelta(minutes=5),
        )


@pytest.mark.parametrize("persona", ["nurse", "physician", "billing"])
def test_only_the_clinic_administrator_recalls_a_lot(world, nurse, persona):
    _two_vial_session(nurse, world.patient, "SHARED")
    before = AuditEvent.objects.exclude(outcome="denied").count()
    lot, response = _recall(world, persona)
    assert response.status_code == 403
    assert Lot.objects.get(pk=lot.pk).recalled_at is None
    assert AuditEvent.objects.exclude(outcome="denied").count() == before


def test_another_practice_sees_no_lot(world, nurse):
    _two_vial_session(nurse, world.patient, "SHARED")
    lot = Lot.objects.get(lot_number="SHARED")
    assert (
        world.client("other_practice_staff").get(f"/treatments/lots/{lot.pk}/trace/").status_code
        == 404
    )


def test_contact_log_and_csv_export(world, nurse):
    session, _ = _two_vial_session(nurse, world.patient, "SHARED")
    lot, _ = _recall(world)
    admin = world.client("clinic_admin")
    url = f"/treatments/lots/{lot.pk}/"
    page = admin.get(url + "trace/")
    assert page.status_code == 200 and "Not contacted yet" in page.content.decode()
    response = admin.post(
        url + "contacts/",
        {"patient_id": world.patient.pk, "method": "left_message", "note": "Voicemail"},
    )
    assert response.status_code == 302
    contact = RecallContact.objects.get()
    assert (contact.patient_id, contact.method, contact.contacted_by) == (
        world.patient.pk,
        "left_message",
        world.users["clinic_admin"],
    )
    # A patient never exposed to the lot is not offered.
    assert (
        admin.post(
            url + "contacts/", {"patient_id": world.other_patient.pk, "method": "called"}
        ).status_code
        == 422
    )
    assert RecallContact.objects.count() == 1
    export = admin.get(url + "trace.csv")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[1][0] == "Patient"
    body = rows[2:]
    assert body and all(r[1] == world.patient.mrn and r[4] == str(session.pk) for r in body)
    assert "Left a message" in body[0][-1]
    assert AuditEvent.objects.filter(action="export", object_type="inventory.lot").exists()
