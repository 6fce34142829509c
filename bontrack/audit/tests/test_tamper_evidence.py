"""The audit trail is append-only on both databases and `audit verify` names any tampered row.

An attacker with database access disables the guards (as the table owner may) and forges, deletes or
back-dates rows with raw SQL; verify must name the row where each chain breaks.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from bontrack.audit import audit
from bontrack.audit.chain import GENESIS, event_values, row_hash
from bontrack.audit.models import AuditChainHead, AuditEvent
from bontrack.audit.verify import verify_all

pytestmark = pytest.mark.django_db

PG = "connection.vendor == 'postgresql'"


@pytest.fixture
def trail(world):
    """Five events in practice A, two in practice B, one with no practice."""
    with transaction.atomic():
        for i in range(5):
            audit.record(
                actor=world.users["nurse"], action="update", obj=world.patient, summary=f"a{i}"
            )
        for i in range(2):
            audit.record(
                actor=world.users["other_practice_staff"],
                action="view",
                practice_id=world.other_practice.pk,
                summary=f"b{i}",
            )
        audit.record(actor=None, action="seed", summary="system")
    return list(AuditEvent.objects.filter(practice=world.practice).order_by("seq"))


def _sql(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _disable_guards() -> None:
    """What a table owner can do; the test's transaction rolls it back."""
    if connection.vendor == "postgresql":
        _sql("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
    else:
        _sql("DROP TRIGGER audit_event_no_update")
        _sql("DROP TRIGGER audit_event_no_delete")


def _report(practice_id: int):
    return next(r for r in verify_all() if r.chain == practice_id)


def test_each_practice_has_its_own_chain(world, trail):
    assert [e.seq for e in trail] == [1, 2, 3, 4, 5]
    assert trail[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(trail, trail[1:], strict=False))
    assert all(row_hash(event_values(e)) == e.hash for e in trail)
    b_chain = AuditEvent.objects.filter(practice=world.other_practice).order_by("seq")
    assert [e.seq for e in b_chain] == [1, 2]
    assert AuditChainHead.objects.get(chain=world.practice.pk).hash == trail[-1].hash


def test_verify_passes_intact_chains_with_one_line_each(world, trail, capsys):
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"practice {world.practice.pk}: intact, 5 events" in out
    assert f"practice {world.other_practice.pk}: intact, 2 events" in out
    assert "no practice (system): intact, 1 events" in out


def test_verify_names_a_forged_row(world, trail, capsys):
    _disable_guards()
    _sql("UPDATE audit_auditevent SET summary = 'nothing happened' WHERE id = %s", [trail[2].pk])
    report = _report(world.practice.pk)
    assert (report.kind, report.event_id, report.seq) == ("forged", trail[2].pk, 3)
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    err = capsys.readouterr().err
    assert f"event {trail[2].pk} (position 3) does not match its hash (forged)" in err
    # The other practice's chain is not affected.
    assert _report(world.other_practice.pk).ok


def test_verify_fails_while_the_guards_are_disabled(trail, capsys):
    _disable_guards()
    with pytest.raises(CommandError, match="guards missing"):
        call_command("audit", "verify")
    assert "append-only guards missing or disabled" in capsys.readouterr().err


def test_verify_names_a_forged_row_whose_hash_was_recomputed(world, trail):
    _disable_guards()
    forged = trail[1]
    forged.summary = "nothing happened"
    _sql(
        "UPDATE audit_auditevent SET summary = %s, hash = %s WHERE id = %s",
        [forged.summary, row_hash(event_values(forged)), forged.pk],
    )
    report = _report(world.practice.pk)
    # The next row no longer follows it.
    assert (report.kind, report.event_id) == ("inserted", trail[2].pk)


def test_verify_names_the_gap_left_by_a_deleted_row(world, trail, capsys):
    _disable_guards()
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    report = _report(world.practice.pk)
    assert (report.kind, report.event_id) == ("missing", trail[2].pk)
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    assert f"position 2 is missing before event {trail[2].pk} (deleted)" in capsys.readouterr().err


def test_verify_names_a_deleted_tail(world, trail):
    _disable_guards()
    _sql("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [trail[3].pk, trail[4].pk])
    report = _report(world.practice.pk)
    assert report.kind == "missing"
    assert "positions 4-5 at the end of the chain are missing" in report.problem


def test_verify_names_a_back_dated_insert(world, trail):
    """The attacker even chains the row correctly; its date gives it away."""
    last = trail[-1]
    fake = AuditEvent(
        occurred_at=last.occurred_at - timedelta(days=30),
        actor_label="nurse",
        role="nurse",
        practice_id=world.practice.pk,
        clinic_id=world.clinic.pk,
        patient_id=world.patient.pk,
        action="view",
        object_type="patients.patient",
        object_id=str(world.patient.pk),
        outcome="success",
        channel="ui",
        summary="Viewed chart",
        changes={},
        seq=last.seq + 1,
        prev_hash=last.hash,
    )
    fake.hash = row_hash(event_values(fake))
    fake.save(force_insert=True)  # a plain INSERT, as raw SQL would do
    report = _report(world.practice.pk)
    assert (report.kind, report.event_id) == ("inserted", fake.pk)
    assert "back-dated" in report.problem


def test_verify_names_a_row_inserted_in_the_middle(world, trail):
    _disable_guards()
    # Replace position 2 with a planted row that is chained to position 1 correctly.
    fake = AuditEvent(
        occurred_at=trail[1].occurred_at,
        practice_id=world.practice.pk,
        action="view",
        summary="planted",
        changes={},
        seq=trail[1].seq,
        prev_hash=trail[0].hash,
    )
    fake.hash = row_hash(event_values(fake))
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    fake.save(force_insert=True)
    report = _report(world.practice.pk)
    assert (report.kind, report.event_id) == ("inserted", trail[2].pk)


# ---- the guards -----------------------------------------------------------------------------


def _refused(sql: str, params: list | None = None) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql(sql, params)


def test_the_orm_cannot_delete_or_update_audit_rows(trail):
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.filter(pk=trail[0].pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.all()._raw_delete(connection.alias)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.filter(pk=trail[0].pk).update(summary="tampered")
    assert AuditEvent.objects.count() == count
    assert AuditEvent.objects.get(pk=trail[0].pk).summary == "a0"


def test_raw_sql_cannot_delete_update_or_empty_the_table(trail):
    count = AuditEvent.objects.count()
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [trail[0].pk])
    _refused("DELETE FROM audit_auditevent")
    _refused("UPDATE audit_auditevent SET summary = 'x'")
    if connection.vendor == "postgresql":
        _refused("TRUNCATE audit_auditevent")
        _refused("TRUNCATE audit_auditevent, audit_auditchainhead RESTART IDENTITY CASCADE")
    assert AuditEvent.objects.count() == count


def test_a_permit_does_not_open_a_production_database(trail, tmp_path):
    """The flush permit works only on a test database: on a file database with the audit table and
    its guards as installed here (what every SQLite deployment is), DELETE stays refused even with
    the permit table present."""
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL: .ci/run tries the permit on a database not named test_*")
    copy = tmp_path / "copy.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_auditevent' AND sql IS NOT NULL"
            " ORDER BY type = 'trigger'"
        )
        schema = [row[0] for row in cursor.fetchall()]
    assert sum("TRIGGER" in sql for sql in schema) == 2
    db = sqlite3.connect(copy)
    try:
        for sql in schema:
            db.execute(sql)
        db.execute(
            "INSERT INTO audit_auditevent (occurred_at, actor_label, role, action, object_type,"
            " object_id, outcome, channel, request_id, summary, changes, seq, prev_hash, hash)"
            " VALUES ('2026-01-01', '', '', 'seed', '', '', 'success', 'system', '', '', '{}',"
            " 1, '', '')"
        )
        db.commit()
        db.execute("CREATE TEMP TABLE audit_flush_permit (x integer)")
        with pytest.raises(sqlite3.IntegrityError, match="DELETE refused"):
            db.execute("DELETE FROM audit_auditevent")
        with pytest.raises(sqlite3.IntegrityError, match="UPDATE refused"):
            db.execute("UPDATE audit_auditevent SET summary = 'x'")
        assert db.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] == 1
    finally:
        db.close()


class _Rollback(Exception):
    pass


def test_on_the_test_database_the_permit_table_admits_a_delete(trail):
    count = AuditEvent.objects.count()
    with pytest.raises(_Rollback), transaction.atomic():
        _sql("CREATE TEMP TABLE audit_flush_permit (x integer)")
        _sql("DELETE FROM audit_auditevent")
        assert not AuditEvent.objects.exists()
        raise _Rollback
    assert AuditEvent.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_the_test_suites_flush_empties_the_table_of_the_test_database(world):
    """Transactional tests end with a flush (DELETE on SQLite, TRUNCATE on PostgreSQL)."""
    audit.record(actor=None, action="view", summary="before flush")
    _refused("DELETE FROM audit_auditevent")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    # The permit is gone afterwards: the guard holds again.
    audit.record(actor=None, action="view", summary="after flush")
    _refused("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 1
