"""The signed-session guard and chart merges (migration 0015): a signed session changes its patient,
and nothing else, only between the two charts of a PENDING merge (duplicate -> survivor to start,
back to undo). Every other change of a signed row is still refused by the database, raw SQL
included, and the migration goes back to the guard of 0006 and forward again."""

from __future__ import annotations

import importlib

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from bontrack.factories import PatientFactory
from bontrack.patients.choices import MergeStatus
from bontrack.patients.models import PatientMerge
from bontrack.treatments.models import TreatmentSession

from .conftest import acknowledge_all, chart

_m15 = importlib.import_module("bontrack.treatments.migrations.0015_session_follows_chart_merge")
GUARD = "a signed treatment session is immutable"
BEFORE = [("treatments", "0014_outcome_scales")]
AFTER = [("treatments", "0015_session_follows_chart_merge")]


def _signed(world, patient, *, by="physician"):
    from bontrack.treatments.actions import signing

    session = chart(world.users[by], patient)
    acknowledge_all(world.users[by], session)
    return signing.sign_session(actor=world.users[by], session=session)


def _raw(sql: str, params: list) -> None:
    """One raw statement in its own savepoint (a refused one leaves the test's transaction usable)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _move(session_id: int, patient_id: int) -> None:
    _raw(
        "UPDATE treatments_treatmentsession SET patient_id = %s WHERE id = %s",
        [patient_id, session_id],
    )


def _patient_of(session_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT patient_id FROM treatments_treatmentsession WHERE id = %s", [session_id]
        )
        return cursor.fetchone()[0]


def _pending(world, survivor, duplicate) -> PatientMerge:
    return PatientMerge.objects.create(
        practice_id=survivor.practice_id,
        survivor=survivor,
        duplicate=duplicate,
        duplicate_status=duplicate.status,
        requested_by=world.users["front_desk"],
        requested_at=timezone.now(),
    )


@pytest.mark.django_db
def test_the_guard_refuses_a_signed_sessions_new_patient_without_a_pending_merge(world):
    session = _signed(world, world.patient)
    assert session.status == "signed"
    with pytest.raises(DatabaseError, match=GUARD):
        _move(session.pk, world.other_patient.pk)
    assert _patient_of(session.pk) == world.patient.pk
    # A merge that is not pending (undone, then confirmed) opens nothing either.
    merge = _pending(world, world.other_patient, world.patient)
    for status in (MergeStatus.UNDONE, MergeStatus.CONFIRMED):
        PatientMerge.objects.filter(pk=merge.pk).update(status=status)
        with pytest.raises(DatabaseError, match=GUARD):
            _move(session.pk, world.other_patient.pk)
    assert _patient_of(session.pk) == world.patient.pk


@pytest.mark.django_db
def test_the_guard_lets_a_pending_merge_move_signed_and_awaiting_sessions_and_back(world):
    keep, dup = world.patient, world.other_patient
    signed = _signed(world, dup)
    awaiting = _signed(world, dup, by="nurse")
    assert (signed.status, awaiting.status) == ("signed", "awaiting")
    third = PatientFactory(clinic=world.clinic, mrn="A1-0303")
    merge = _pending(world, keep, dup)
    for session in (signed, awaiting):
        # Only to the survivor of that merge: a third chart is refused.
        with pytest.raises(DatabaseError, match=GUARD):
            _move(session.pk, third.pk)
        _move(session.pk, keep.pk)
        assert _patient_of(session.pk) == keep.pk
        # Undo: the reverse pair, while the merge is still pending.
        _move(session.pk, dup.pk)
        assert _patient_of(session.pk) == dup.pk
    # Once the merge is undone, the sessions stay where they are.
    PatientMerge.objects.filter(pk=merge.pk).update(status=MergeStatus.UNDONE)
    with pytest.raises(DatabaseError, match=GUARD):
        _move(signed.pk, keep.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column,literal",
    [
        ("note", "'changed during the merge'"),
        ("clinic_id", None),  # another clinic of the practice (a parameter, below)
        ("totals", """'{"total": 1}'"""),
        ("signed_at", "'2020-01-01 10:00:00+00:00'"),
        ("status", "'draft'"),
        ("updated_at", "'2020-01-01 10:00:00+00:00'"),
        ("cosign_reasons", """'["x"]'"""),
    ],
)
def test_the_guard_refuses_a_clinical_change_riding_on_a_merge_move(world, column, literal):
    keep, dup = world.patient, world.other_patient
    session = _signed(world, dup)
    _pending(world, keep, dup)
    value, params = (literal, []) if literal else ("%s", [world.other_clinic.pk])
    with pytest.raises(DatabaseError, match=GUARD):
        _raw(
            f"UPDATE treatments_treatmentsession SET patient_id = %s, {column} = {value} "  # noqa: S608
            "WHERE id = %s",
            [keep.pk, *params, session.pk],
        )
    with pytest.raises(DatabaseError, match=GUARD):
        _raw(
            f"UPDATE treatments_treatmentsession SET {column} = {value} WHERE id = %s",  # noqa: S608
            [*params, session.pk],
        )
    assert _patient_of(session.pk) == dup.pk
    assert TreatmentSession.objects.get(pk=session.pk).status == "signed"


def test_the_sqlite_guard_names_every_column_but_the_patient():
    """SQLite compares the columns by name: the list is every column of the session table at
    migration 0015 but the id and the patient."""
    model = (
        MigrationLoader(None)
        .project_state(AFTER[0])
        .apps.get_model("treatments", "TreatmentSession")
    )
    columns = {f.column for f in model._meta.concrete_fields} - {"id", "patient_id"}
    assert set(_m15.OTHER_COLUMNS) == columns and len(_m15.OTHER_COLUMNS) == len(columns)


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_the_merge_guard_migration_goes_back_to_the_old_guard_and_forward_again(world):
    keep, dup = world.patient, world.other_patient
    session = _signed(world, dup)
    _pending(world, keep, dup)
    executor = _executor()
    try:
        executor.migrate(BEFORE)
        # The guard of 0006: no merge exception.
        with pytest.raises(DatabaseError, match=GUARD):
            _move(session.pk, keep.pk)
        assert _patient_of(session.pk) == dup.pk
        executor = _executor()
        executor.migrate(AFTER)
        _move(session.pk, keep.pk)
        assert _patient_of(session.pk) == keep.pk
        with pytest.raises(DatabaseError, match=GUARD):
            _raw("UPDATE treatments_treatmentsession SET note = 'x' WHERE id = %s", [session.pk])
    finally:
        executor = _executor()
        executor.migrate(executor.loader.graph.leaf_nodes())
