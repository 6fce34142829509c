from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from bontrack.audit import audit
from bontrack.audit.models import AuditEvent, AuditImmutableError
from bontrack.factories import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(world):
    with transaction.atomic():
        return audit.record(
            actor=world.users["nurse"], action="create", obj=world.patient, summary="x"
        )


def test_the_model_refuses_an_update(event):
    event.summary = "tampered"
    with pytest.raises(AuditImmutableError):
        event.save()


def test_the_model_and_queryset_refuse_deletes(event):
    with pytest.raises(AuditImmutableError):
        event.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.update(summary="tampered")


def test_the_database_refuses_a_raw_update(event):
    with (
        pytest.raises((DatabaseError, IntegrityError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET summary = 'tampered' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).summary == "x"


def test_the_database_refuses_a_raw_delete(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_change_cannot_be_audited_outside_its_transaction(world):
    with pytest.raises(RuntimeError):
        audit.record(actor=world.users["nurse"], action="update", obj=world.patient)


def test_an_event_records_who_where_and_which_request(world, client):
    login(client, world.users["nurse"])
    response = client.get(
        f"/patients/{world.patient.pk}/",
        headers={"X-Request-ID": "req-123"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response["X-Request-ID"] == "req-123"
    event = AuditEvent.objects.get(action="view")
    assert (event.actor_label, event.role, event.clinic_id, event.patient_id) == (
        "nurse",
        "nurse",
        world.clinic.pk,
        world.patient.pk,
    )
    assert (event.request_id, event.source_ip, event.channel) == ("req-123", "10.1.2.3", "ui")
