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
    audit.record(actor=world.users["nurse"], action="view", obj=world.patient, summary="first")
    with CaptureQueriesContext(connection) as ctx:
        event = audit.record(
            actor=world.users["nurse"], action="view", obj=world.patient, summary="Viewed chart"
        )
    sql = [q["sql"] for q in ctx.captured_queries]
    assert any("set_config('synchronous_commit', 'off', true)" in q for q in sql)
    # One statement in autocommit: lock the head, chain, insert, move the head (no BEGIN/COMMIT)
    assert len(sql) == 1, sql
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


@pg_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "summary, changes",
    [
        ("plain", {}),
        ('quotes " and \\ backslash, ünïcødé, emoji \U0001f600', {"a": [1, 2.5], "b": [None, "é"]}),
        ("\x01seq", {}),  # exactly a placeholder: the general path takes it
        ("x", {"\x01prev_hash": ["\x01occurred_at", "\x01seq"]}),
    ],
)
def test_the_one_statement_append_hashes_like_python(world, summary, changes):
    """The database computes seq, prev_hash, time and SHA-256 over the same canonical JSON as
    chain.row_hash: the stored row verifies, whatever the text holds."""
    from django.db import transaction

    from bontrack.audit.verify import verify_all

    nurse = world.users["nurse"]
    first = audit.record(actor=nurse, action="view", obj=world.patient, summary="first")
    with transaction.atomic():  # a change's row, in the change's transaction
        event = audit.record(
            actor=nurse, action="update", obj=world.patient, summary=summary, changes=changes
        )
    read = audit.record(actor=nurse, action="view", obj=world.patient, summary=summary)
    assert read.prev_hash == event.hash
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.seq == first.seq + 1 and stored.prev_hash == first.hash
    assert stored.hash == event.hash == chain.row_hash(chain.event_values(stored))
    assert stored.occurred_at == event.occurred_at >= first.occurred_at
    assert all(r.ok for r in verify_all())
