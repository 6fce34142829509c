"""Issue 13 item 4: a read's audit row is written in one transaction with fewer round trips (the
event and its chain head in one statement on PostgreSQL) and, on PostgreSQL, without waiting for
the WAL flush; changes keep synchronous commits. The chain still verifies."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.audit import audit, chain
from bontrack.audit.models import AuditChainHead, AuditEvent

pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL behaviour")


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return str(cursor.fetchone()[0])


@pg_only
@pytest.mark.django_db(transaction=True)
def test_a_read_row_outside_a_transaction_commits_without_waiting_for_the_flush(world):
    world.users["nurse"].cached_memberships()  # loaded by the request, as in a view
    with CaptureQueriesContext(connection) as ctx:
        event = audit.record(
            actor=world.users["nurse"], action="view", obj=world.patient, summary="Viewed chart"
        )
    sql = [q["sql"] for q in ctx.captured_queries]
    assert any("set_config('synchronous_commit', 'off', true)" in q for q in sql)
    # BEGIN, the head lock, one INSERT+UPDATE statement, COMMIT
    assert len(sql) == 4, sql
    assert _setting("synchronous_commit") == "on"  # SET LOCAL: this transaction only
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
    head = AuditChainHead.objects.get(chain=chain.chain_key(world.practice.pk))
    assert (head.seq, head.hash) == (event.seq, event.hash)


@pg_only
@pytest.mark.django_db(transaction=True)
def test_a_change_row_keeps_synchronous_commit(world):
    from django.db import transaction

    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        audit.record(actor=world.users["nurse"], action="update", obj=world.patient, summary="x")
    assert not any("synchronous_commit" in q["sql"] for q in ctx.captured_queries)


@pg_only
@pytest.mark.django_db(transaction=True)
def test_the_setting_keeps_read_rows_synchronous(world, settings):
    settings.AUDIT_READS_SYNCHRONOUS_COMMIT = True
    with CaptureQueriesContext(connection) as ctx:
        audit.record(actor=world.users["nurse"], action="view", obj=world.patient, summary="x")
    assert not any("synchronous_commit" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_read_rows_written_one_by_one_keep_a_valid_chain(world):
    from django.core.management import call_command

    for i in range(5):
        audit.record(
            actor=world.users["nurse"], action="view", obj=world.patient, summary=f"read {i}"
        )
    rows = list(AuditEvent.objects.filter(practice_id=world.practice.pk).order_by("seq"))
    assert [e.prev_hash for e in rows[1:]] == [e.hash for e in rows[:-1]]
    call_command("audit", "verify")
