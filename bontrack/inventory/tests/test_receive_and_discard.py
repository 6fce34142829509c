"""Receiving lots into stock and discarding vials."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.inventory import services
from bontrack.inventory.models import Lot, Vial
from conftest import permission_matrix

pytestmark = pytest.mark.django_db


def _receive(world, user, **kw):
    data = {
        "clinic": world.clinic,
        "ndc": "0023-3921-02",
        "lot_number": "C5555",
        "expiry": timezone.localdate() + timedelta(days=200),
        "size_units": 200,
        "vials": 4,
    }
    data.update(kw)
    return services.receive_lot(actor=user, **data)


def test_a_delivery_creates_the_lot_and_its_vials(world):
    lot = _receive(world, world.users["nurse"])
    assert Vial.objects.filter(lot=lot, status="in_stock").count() == 4
    assert AuditEvent.objects.filter(object_type="inventory.lot", action="create").exists()


def test_vial_sizes_come_from_the_rules(world):
    with pytest.raises(ValidationError) as exc:
        _receive(world, world.users["nurse"], size_units=150)
    assert "size_units" in exc.value.message_dict
    assert not Lot.objects.exists()


def test_billing_cannot_receive_stock(world):
    with pytest.raises(PermissionDenied):
        _receive(world, world.users["billing"])
    assert not Lot.objects.exists() and not AuditEvent.objects.exists()


def test_discarding_a_vial_records_the_waste(world):
    lot = _receive(world, world.users["nurse"])
    vial = lot.vials.first()
    services.discard_vial(actor=world.users["nurse"], vial=vial, reason="Dropped")
    vial.refresh_from_db()
    assert vial.status == "discarded" and vial.units_wasted == 200
    assert AuditEvent.objects.filter(object_type="inventory.vial", action="update").exists()


# The stock page is scoped, not refused: other clinics' staff see their own (empty) stock.
@pytest.mark.parametrize(
    "persona,expected",
    permission_matrix(
        Perm.INVENTORY_VIEW, other_clinic_staff=200, other_practice_staff=200
    ).items(),
)
def test_who_sees_the_stock_page_and_only_their_clinics(world, persona, expected):
    _receive(world, world.users["nurse"])
    response = world.client(persona).get("/inventory/")
    assert response.status_code == expected
    if expected == 200:
        visible = b"C5555" in response.content
        assert visible == (persona in ("physician", "nurse", "billing", "clinic_admin"))
