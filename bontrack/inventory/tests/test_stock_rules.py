"""Receiving clinic stock and specialty-pharmacy shipments; which vial a session may open; the
clinic's low-stock level, the alerts and shelf counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.core.errors import Conflict
from bontrack.inventory import selectors, services
from bontrack.inventory.models import Lot, StockCount, StockSettings, Vial
from bontrack.treatments.actions import charting
from bontrack.treatments.actions import vials as vials_actions

pytestmark = pytest.mark.django_db


def _receive(world, user=None, **kw):
    data = {
        "clinic": world.clinic,
        "ndc": "0023-3921-02",
        "lot_number": "S100",
        "expiry": timezone.localdate() + timedelta(days=200),
        "size_units": 200,
        "vials": 2,
    }
    data.update(kw)
    return services.receive_lot(actor=user or world.users["nurse"], **data)


def _draft(world, patient):
    return charting.create_session(
        actor=world.users["nurse"], patient=patient, performed_at=timezone.now()
    )


def _open(world, session, vial):
    return vials_actions.open_vial(
        actor=world.users["nurse"],
        session=session,
        vial=vial,
        diluent_ml=Decimal("4"),
        reconstituted_at=timezone.now() - timedelta(minutes=10),
    )


def test_the_ndc_is_stored_in_11_digit_form(world):
    assert _receive(world).ndc == "00023-3921-02"


def test_a_malformed_ndc_is_refused_and_nothing_is_written(world):
    with pytest.raises(ValidationError) as exc:
        _receive(world, ndc="23-3921")
    assert "ndc" in exc.value.message_dict
    assert not Lot.objects.exists() and not AuditEvent.objects.exists()


def test_a_specialty_pharmacy_shipment_needs_its_patient_delivery_and_cold_chain(world):
    with pytest.raises(ValidationError) as exc:
        _receive(world, source="specialty_pharmacy", cold_chain_ok=False)
    assert {"patient", "delivered_on", "cold_chain_ok"} <= set(exc.value.message_dict)
    assert not Vial.objects.exists()


def test_a_specialty_pharmacy_shipment_for_a_patient_of_another_clinic_is_refused(world):
    from bontrack.factories import PatientFactory

    with pytest.raises(ValidationError) as exc:
        _receive(
            world,
            source="specialty_pharmacy",
            patient=PatientFactory(clinic=world.other_clinic),
            delivered_on=timezone.localdate(),
            cold_chain_ok=True,
        )
    assert "patient" in exc.value.message_dict


def test_a_patients_own_vial_cannot_be_used_for_another_patient(world):
    lot = _receive(
        world,
        source="specialty_pharmacy",
        patient=world.patient,
        delivered_on=timezone.localdate(),
        cold_chain_ok=True,
        vials=1,
    )
    vial = lot.vials.get()
    assert vial.patient_id == world.patient.pk and vial.source == "specialty_pharmacy"
    with pytest.raises(ValidationError) as exc:
        _open(world, _draft(world, world.other_patient), vial)
    assert "another patient" in exc.value.message_dict["vial_id"][0]
    assert Vial.objects.get(pk=vial.pk).status == "in_stock"
    _open(world, _draft(world, world.patient), vial)
    assert Vial.objects.get(pk=vial.pk).status == "reconstituted"


def test_an_expired_vial_cannot_be_used(world):
    lot = _receive(world, expiry=timezone.localdate() + timedelta(days=5), vials=1)
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        session = _draft(world, world.patient)
        with pytest.raises(ValidationError) as exc:
            _open(world, session, lot.vials.get())
    assert "expired" in exc.value.message_dict["vial_id"][0]
    assert lot.vials.get().status == "in_stock"


def test_a_vial_reconstituted_more_than_its_use_window_before_cannot_be_used(world):
    vial = _receive(world, vials=1).vials.get()
    session = _draft(world, world.patient)
    with pytest.raises(ValidationError) as exc:
        vials_actions.open_vial(
            actor=world.users["nurse"],
            session=session,
            vial=vial,
            diluent_ml=Decimal("4"),
            reconstituted_at=session.performed_at - timedelta(hours=25),
        )
    assert "24 hours" in exc.value.message_dict["reconstituted_at"][0]
    assert Vial.objects.get(pk=vial.pk).status == "in_stock"


def test_a_vial_already_taken_is_a_conflict(world):
    vial = _receive(world, vials=1).vials.get()
    _open(world, _draft(world, world.patient), vial)
    with pytest.raises(Conflict):
        _open(world, _draft(world, world.other_patient), vial)


def test_the_session_offers_the_patients_own_vials_then_first_expiring_first(world):
    from bontrack.treatments.views.context import usable_stock

    late = _receive(world, lot_number="LATE", expiry=timezone.localdate() + timedelta(days=300))
    soon = _receive(world, lot_number="SOON", expiry=timezone.localdate() + timedelta(days=40))
    own = _receive(
        world,
        lot_number="OWN",
        source="specialty_pharmacy",
        patient=world.patient,
        delivered_on=timezone.localdate(),
        cold_chain_ok=True,
        vials=1,
    )
    theirs = _receive(
        world,
        lot_number="THEIRS",
        source="specialty_pharmacy",
        patient=world.other_patient,
        delivered_on=timezone.localdate(),
        cold_chain_ok=True,
        vials=1,
    )
    lots = [v.lot_id for v in usable_stock(_draft(world, world.patient))]
    assert lots == [own.pk, soon.pk, soon.pk, late.pk, late.pk]
    assert theirs.pk not in lots


def test_the_clinic_administrator_sets_the_low_stock_level(world):
    services.set_low_stock_threshold(
        actor=world.users["clinic_admin"], clinic=world.clinic, low_stock_vials=10
    )
    assert StockSettings.objects.get(clinic=world.clinic).low_stock_vials == 10
    assert AuditEvent.objects.filter(object_type="inventory.stocksettings").exists()
    with pytest.raises(PermissionDenied):
        services.set_low_stock_threshold(
            actor=world.users["nurse"], clinic=world.clinic, low_stock_vials=1
        )
    assert StockSettings.objects.get(clinic=world.clinic).low_stock_vials == 10


def test_alerts_name_low_stock_and_lots_expiring_within_30_days(world):
    _receive(world, lot_number="SOON", expiry=timezone.localdate() + timedelta(days=20), vials=2)
    services.set_low_stock_threshold(
        actor=world.users["clinic_admin"], clinic=world.clinic, low_stock_vials=3
    )
    scope = world.users["nurse"].scope("inventory.view")
    rows = selectors.on_hand(scope)
    alerts = selectors.alerts(scope, rows, timezone.localdate())
    texts = [(a.kind, a.clinic, a.message) for a in alerts]
    assert any(k == "expiring" and "SOON" in m and "in 20 days" in m for k, _, m in texts)
    assert any(k == "low_stock" and c == world.clinic.name and "2 usable" in m for k, c, m in texts)


def test_a_count_that_differs_needs_a_note(world):
    lot = _receive(world, vials=3)
    nurse = world.users["nurse"]
    with pytest.raises(ValidationError) as exc:
        services.record_count(actor=nurse, clinic=world.clinic, lot=lot, counted=2)
    assert "note" in exc.value.message_dict
    assert not StockCount.objects.exists()
    row = services.record_count(
        actor=nurse, clinic=world.clinic, lot=lot, counted=2, note="One vial missing from box"
    )
    assert (row.expected, row.counted, row.discrepancy) == (3, 2, -1)
    assert services.record_count(actor=nurse, clinic=world.clinic, lot=lot, counted=3).note == ""
    assert AuditEvent.objects.filter(object_type="inventory.stockcount").count() == 2
