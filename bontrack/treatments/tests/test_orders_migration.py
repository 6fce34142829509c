"""Migration 0006: active plans created by a physician become orders; the session guards come back
(on SQLite the table was rebuilt) with the co-signature transitions; going back turns sessions
awaiting co-signature into signed ones and restores the old guards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from bontrack.treatments.models import Injection, TreatmentPlan, TreatmentSession

BEFORE = [("treatments", "0005_signed_vial_use_guards")]
AFTER = [("treatments", "0006_orders_and_cosignature")]


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


def _latest() -> None:
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_physician_plans_become_orders_and_the_guards_come_back(world):
    executor = _executor()
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        plan_model = apps.get_model("treatments", "TreatmentPlan")
        session_model = apps.get_model("treatments", "TreatmentSession")
        injection_model = apps.get_model("treatments", "Injection")

        def plan(patient, user, active=True):
            return plan_model.objects.create(
                patient_id=patient.pk,
                clinic_id=patient.clinic_id,
                created_by_id=user.pk,
                active=active,
            ).pk

        by_physician = plan(world.patient, world.users["physician"])
        by_nurse = plan(world.other_patient, world.users["nurse"])
        inactive = plan(world.patient, world.users["physician"], active=False)
        s = session_model.objects.create(
            patient_id=world.patient.pk,
            clinic_id=world.patient.clinic_id,
            performed_at=datetime(2026, 1, 5, 15, tzinfo=UTC),
        )
        injection_model.objects.create(session=s, muscle="procerus", side="midline", units=5)
        session_model.objects.filter(pk=s.pk).update(
            status="signed",
            signed_at=datetime(2026, 1, 5, 16, tzinfo=UTC),
            signed_by_id=world.users["nurse"].pk,
            rule_set="botox-us",
        )
    finally:
        executor = _executor()
        executor.migrate(AFTER)
    try:
        # At 0006, later columns do not exist yet: read only the fields this migration set.
        plans = TreatmentPlan.objects.only("ordered_by", "ordered_at", "created_at")
        ordered = plans.get(pk=by_physician)
        assert ordered.ordered_by_id == world.users["physician"].pk
        assert ordered.ordered_at == ordered.created_at
        assert not plans.get(pk=by_nurse).is_ordered
        assert not plans.get(pk=inactive).is_ordered
        for update in (
            lambda: TreatmentSession.objects.filter(pk=s.pk).update(note="changed"),
            lambda: TreatmentSession.objects.filter(pk=s.pk).update(cosign_reasons=["x"]),
            lambda: Injection.objects.filter(session_id=s.pk).update(units=6),
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                update()
    finally:
        _latest()


@pytest.mark.django_db(transaction=True)
def test_going_back_turns_awaiting_sessions_into_signed_ones(world):
    from bontrack.treatments.actions import signing

    from .conftest import acknowledge_all, chart

    session = chart(world.users["nurse"], world.patient)
    acknowledge_all(world.users["nurse"], session)
    signing.sign_session(actor=world.users["nurse"], session=session)
    assert TreatmentSession.objects.get(pk=session.pk).status == "awaiting"
    executor = _executor()
    try:
        executor.migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT status FROM treatments_treatmentsession WHERE id = %s", [session.pk]
            )
            assert cursor.fetchone()[0] == "signed"
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(
                    "UPDATE treatments_treatmentsession SET note = 'x' WHERE id = %s", [session.pk]
                )
    finally:
        _latest()
