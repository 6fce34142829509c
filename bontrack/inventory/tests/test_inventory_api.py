"""The inventory API and the lot trace/recall API: who may do what, and that a denial writes
nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.inventory.models import Lot, RecallContact, StockSettings, Vial
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

RECEIVE = permission_matrix(Perm.INVENTORY_MANAGE, ok=201, api=True)
# The stock is a scoped list: other clinics' and practices' staff read their own (empty) stock.
READ = permission_matrix(
    Perm.INVENTORY_VIEW, api=True, other_clinic_staff=200, other_practice_staff=200
)
# The trace of a practice lot answers other clinics' staff with their own (empty) exposure.
TRACE = permission_matrix(Perm.INVENTORY_VIEW, api=True, other_clinic_staff=200)
RECALL = permission_matrix(Perm.LOT_RECALL, api=True)
ALERT_LEVEL = permission_matrix(Perm.INVENTORY_CONFIGURE, api=True)


def _send(client, url, body, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def _writes():
    return (
        Lot.objects.count(),
        Vial.objects.count(),
        RecallContact.objects.count(),
        StockSettings.objects.count(),
        Lot.objects.filter(recalled_at__isnull=False).count(),
        AuditEvent.objects.exclude(action__in=["view", "access"]).count(),
    )


def _receipt(world, **kw):
    body = {
        "clinic_id": world.clinic.pk,
        "ndc": "0023-1145-01",
        "lot_number": "API100",
        "expiry": (timezone.localdate() + timedelta(days=300)).isoformat(),
        "size_units": 100,
        "vials": 3,
    }
    body.update(kw)
    return body


@pytest.mark.parametrize("persona,expected", RECEIVE.items())
def test_who_may_receive_through_the_api(world, persona, expected):
    before = _writes()
    r = _send(world.client(persona), "/api/v1/inventory/receipts", _receipt(world))
    assert r.status_code == expected, r.content
    if expected == 201:
        assert r.json()["ndc"] == "00023-1145-01"
    else:
        assert _writes() == before


def test_bad_input_is_a_422_with_field_messages_and_nothing_written(world):
    before = _writes()
    r = _send(world.client("nurse"), "/api/v1/inventory/receipts", _receipt(world, ndc="12-34"))
    assert r.status_code == 422 and "ndc" in r.json()["errors"]
    r = _send(
        world.client("nurse"),
        "/api/v1/inventory/receipts",
        _receipt(world, source="specialty_pharmacy", patient_id=world.patient.pk),
    )
    assert r.status_code == 422 and "cold_chain_ok" in r.json()["errors"]
    assert _writes() == before


@pytest.mark.parametrize("persona,expected", READ.items())
def test_who_may_read_the_stock(world, persona, expected):
    _send(world.client("nurse"), "/api/v1/inventory/receipts", _receipt(world))
    r = world.client(persona).get("/api/v1/inventory/stock")
    assert r.status_code == expected
    if persona in ("other_clinic_staff", "other_practice_staff"):
        assert r.json()["rows"] == []
    elif expected == 200:
        assert r.json()["rows"][0]["in_stock"] == 3


@pytest.mark.parametrize("persona,expected", ALERT_LEVEL.items())
def test_who_may_set_the_alert_level(world, persona, expected):
    before = _writes()
    r = _send(
        world.client(persona),
        f"/api/v1/inventory/clinics/{world.clinic.pk}/alert-level",
        {"low_stock_vials": 7},
        method="put",
    )
    assert r.status_code == expected
    if expected != 200:
        assert _writes() == before


def test_counts_through_the_api(world):
    lot_id = _send(world.client("nurse"), "/api/v1/inventory/receipts", _receipt(world)).json()[
        "id"
    ]
    body = {"clinic_id": world.clinic.pk, "lot_id": lot_id, "counted": 2}
    r = _send(world.client("nurse"), "/api/v1/inventory/counts", body)
    assert r.status_code == 422 and "note" in r.json()["errors"]
    r = _send(world.client("nurse"), "/api/v1/inventory/counts", {**body, "note": "Broken vial"})
    assert r.status_code == 201 and r.json()["discrepancy"] == -1
    assert world.client("billing").get("/api/v1/inventory/counts").json()[0]["counted"] == 2


def _exposed_lot(world):
    from bontrack.treatments.tests.conftest import signed

    session = signed(world.users["nurse"], world.patient)
    return Lot.objects.get(vials__use__session=session)


@pytest.mark.parametrize("persona,expected", TRACE.items())
def test_who_may_read_a_lot_trace(world, persona, expected):
    lot = _exposed_lot(world)
    r = world.client(persona).get(f"/api/v1/treatments/lots/{lot.pk}/trace")
    assert r.status_code == expected
    if expected == 200:
        patients = r.json()["patients"]
        assert [p["id"] for p in patients] == (
            [] if persona == "other_clinic_staff" else [world.patient.pk]
        )


@pytest.mark.parametrize("persona,expected", RECALL.items())
def test_who_may_recall_a_lot_and_log_contacts(world, persona, expected):
    lot = _exposed_lot(world)
    before = _writes()
    client = world.client(persona)
    r = _send(
        client,
        f"/api/v1/treatments/lots/{lot.pk}/recall",
        {"reason": "FDA notice", "confirm": True},
    )
    assert r.status_code == expected
    if expected != 200:
        assert _writes() == before
        return
    r = _send(
        client,
        f"/api/v1/treatments/lots/{lot.pk}/contacts",
        {"patient_id": world.patient.pk, "method": "letter_sent"},
    )
    assert r.status_code == 201
    # A patient not exposed to the lot is a 404.
    r = _send(
        client,
        f"/api/v1/treatments/lots/{lot.pk}/contacts",
        {"patient_id": world.other_patient.pk, "method": "called"},
    )
    assert r.status_code == 404


def test_a_recall_without_confirmation_is_refused(world):
    lot = _exposed_lot(world)
    r = _send(
        world.client("clinic_admin"),
        f"/api/v1/treatments/lots/{lot.pk}/recall",
        {"reason": "FDA notice", "confirm": False},
    )
    assert r.status_code == 422 and "confirm" in r.json()["errors"]
    assert Lot.objects.get(pk=lot.pk).recalled_at is None
