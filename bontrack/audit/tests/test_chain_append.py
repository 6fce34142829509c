"""Appending to the chain: a fixed number of queries, bulk rows chained too, no fork under concurrency."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from bontrack.audit import audit
from bontrack.audit.models import AuditChainHead, AuditEvent
from bontrack.audit.verify import verify_all

pytestmark = pytest.mark.django_db


def _record_queries(world) -> list[str]:
    """The statements record() runs inside the caller's transaction (the actor's memberships are
    already loaded for the request, as in a view)."""
    nurse = world.users["nurse"]
    nurse.cached_memberships()
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        audit.record(actor=nurse, action="update", obj=world.patient)
    return [q["sql"].split()[0] for q in ctx.captured_queries]


def test_record_costs_a_fixed_number_of_queries_for_the_first_and_the_hundredth_row(world):
    first = _record_queries(world)
    second = _record_queries(world)
    for _ in range(97):
        _record_queries(world)
    hundredth = _record_queries(world)
    # SQLite: lock (create) the chain head, insert the row, move the head. PostgreSQL: ONE
    # statement (lock the head the practice got when it was created, chain, insert, move).
    if connection.vendor == "postgresql":
        assert first == second == hundredth == ["WITH"]
    else:
        assert first == second == hundredth == ["INSERT", "INSERT", "UPDATE"]
    assert AuditChainHead.objects.get(chain=world.practice.pk).seq == 100


def test_a_read_outside_a_transaction_is_appended_atomically(world):
    audit.record(actor=world.users["nurse"], action="view", obj=world.patient)
    audit.record(actor=world.users["nurse"], action="view", obj=world.patient)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert all(r.ok for r in verify_all())


def test_bulk_rows_are_chained_and_plain_bulk_create_is_refused(world):
    rows = [
        AuditEvent(practice_id=world.practice.pk, action="import", summary=f"row {i}")
        for i in range(5)
    ]
    with transaction.atomic():
        audit.record(actor=None, action="create", practice_id=world.practice.pk)
        audit.append_many(rows)
    assert [e.seq for e in AuditEvent.objects.order_by("seq")] == [1, 2, 3, 4, 5, 6]
    assert all(r.ok for r in verify_all())
    with pytest.raises(Exception, match="append_many"):
        AuditEvent.objects.bulk_create([AuditEvent(action="import")])


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_practice_do_not_fork_the_chain(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite write transactions are serialised by IMMEDIATE; needs PostgreSQL")
    writers, each = 8, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(each):
                with transaction.atomic():
                    audit.record(
                        actor=None, action="update", practice_id=world.practice.pk, summary=str(i)
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    seqs = list(
        AuditEvent.objects.filter(practice=world.practice)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, writers * each + 1))
    assert all(r.ok for r in verify_all())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's one-statement append")
def test_a_chain_without_a_head_gets_one_on_its_first_row(world):
    AuditChainHead.objects.filter(chain=world.practice.pk).delete()
    assert _record_queries(world) == ["WITH", "INSERT", "WITH"]  # tried, created the head, wrote
    assert _record_queries(world) == ["WITH"]
    assert AuditChainHead.objects.get(chain=world.practice.pk).seq == 2
    assert all(r.ok for r in verify_all())
