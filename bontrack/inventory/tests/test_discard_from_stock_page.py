"""Discarding a vial from the stock page (reason, waste, audit) and who may receive or discard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.inventory.models import Lot, Vial
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

MANAGE = permission_matrix(Perm.INVENTORY_MANAGE, ok=302)
# The receive form only offers the user's own clinics: staff of another clinic get a 422.
RECEIVE = permission_matrix(
    Perm.INVENTORY_MANAGE, ok=302, other_clinic_staff=422, other_practice_staff=422
)


def _stocked(world, vials: int = 2) -> list[Vial]:
    lot = Lot.objects.create(
        practice=world.practice,
        ndc="0023-3921-02",
        lot_number="D100",
        expiry=timezone.localdate() + timedelta(days=90),
        size_units=200,
    )
    Vial.objects.bulk_create([Vial(lot=lot, clinic=world.clinic) for _ in range(vials)])
    return list(Vial.objects.filter(lot=lot).order_by("id"))


def _changes() -> tuple[int, ...]:
    return (
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        Lot.objects.count(),
        Vial.objects.count(),
        Vial.objects.filter(status="discarded").count(),
    )


def test_the_stock_page_offers_a_discard_form_to_managers_only(world):
    vial = _stocked(world)[0]
    page = world.client("nurse").get("/inventory/").content.decode()
    assert "Discard a vial" in page and f"(vial {vial.pk})" in page
    billing = world.client("billing").get("/inventory/").content.decode()
    assert "Discard a vial" not in billing


def test_discarding_from_the_page_records_reason_waste_and_audit(world):
    vial = _stocked(world)[0]
    response = world.client("nurse").post(
        "/inventory/vials/discard/", {"vial_id": vial.pk, "reason": "Dropped on the floor"}
    )
    assert response.status_code == 302
    vial.refresh_from_db()
    assert vial.status == "discarded" and vial.discard_reason == "Dropped on the floor"
    assert vial.units_wasted == 200 and vial.discarded_at is not None
    event = AuditEvent.objects.get(object_type="inventory.vial", object_id=str(vial.pk))
    assert event.actor == world.users["nurse"] and "Dropped" in event.summary


def test_a_discard_without_a_reason_is_refused_with_the_form(world):
    vial = _stocked(world)[0]
    before = _changes()
    response = world.client("nurse").post("/inventory/vials/discard/", {"vial_id": vial.pk})
    assert response.status_code == 422
    assert "Discard a vial" in response.content.decode()
    assert _changes() == before


def test_discarding_a_vial_twice_is_a_conflict(world):
    vial = _stocked(world)[0]
    client = world.client("nurse")
    client.post(f"/inventory/vials/{vial.pk}/discard/", {"reason": "Expired"})
    before = _changes()
    response = client.post(f"/inventory/vials/{vial.pk}/discard/", {"reason": "Expired"})
    assert response.status_code == 409
    assert _changes() == before


@pytest.mark.parametrize("persona,expected", MANAGE.items())
def test_who_may_discard_a_vial(world, persona, expected):
    vial = _stocked(world)[0]
    before = _changes()
    response = world.client(persona).post(
        f"/inventory/vials/{vial.pk}/discard/", {"reason": "Expired"}
    )
    assert response.status_code == expected
    vial.refresh_from_db()
    allowed = persona in ("physician", "nurse", "clinic_admin")
    assert (vial.status == "discarded") == allowed
    if not allowed:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", RECEIVE.items())
def test_who_may_receive_a_delivery(world, persona, expected):
    before = _changes()
    response = world.client(persona).post(
        "/inventory/",
        {
            "clinic": world.clinic.pk,
            "ndc": "0023-3921-02",
            "lot_number": "R200",
            "expiry": (timezone.localdate() + timedelta(days=200)).isoformat(),
            "size_units": 200,
            "vials": 3,
        },
    )
    assert response.status_code == expected
    allowed = persona in ("physician", "nurse", "clinic_admin")
    assert Vial.objects.filter(lot__lot_number="R200").count() == (3 if allowed else 0)
    if not allowed:
        assert _changes() == before
