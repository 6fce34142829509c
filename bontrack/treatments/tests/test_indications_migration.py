"""Migration 0003: every session keeps its real indication, every injection gets its session's,
a session mislabelled chronic migraine is relabelled from its muscles, signed rows stay guarded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from bontrack.patients.models import Condition
from bontrack.treatments.models import Injection, TreatmentSession

BEFORE = [("treatments", "0002_signed_session_guards")]
AFTER = [("treatments", "0003_session_indications")]


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_old_rows_get_the_new_fields(world):
    executor = _executor()
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        session_model = apps.get_model("treatments", "TreatmentSession")
        injection_model = apps.get_model("treatments", "Injection")
        bleph_patient = world.other_patient
        Condition.objects.create(
            patient=bleph_patient, indication="blepharospasm", icd10_code="G24.5"
        )
        signer = world.users["physician"]

        def session(patient, indication, muscles):
            s = session_model.objects.create(
                patient_id=patient.pk,
                clinic_id=patient.clinic_id,
                indication=indication,
                performed_at=datetime(2026, 1, 5, 15, tzinfo=UTC),
            )
            for n, m in enumerate(muscles):
                injection_model.objects.create(
                    session=s, muscle=m, side="left", units=5, position=n
                )
            session_model.objects.filter(pk=s.pk).update(
                status="signed",
                signed_at=datetime(2026, 1, 5, 16, tzinfo=UTC),
                signed_by_id=signer.pk,
                rule_set="botox-us",
            )
            return s.pk

        cm = session(world.patient, "chronic_migraine", ["temporalis", "procerus"])
        cd = session(world.patient, "cervical_dystonia", ["splenius_capitis"])
        mislabelled = session(
            bleph_patient, "chronic_migraine", ["orbicularis_oculi_pretarsal_upper_medial"]
        )
    finally:
        executor = _executor()
        executor.migrate(AFTER)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    rows = {s.pk: s for s in TreatmentSession.objects.filter(pk__in=[cm, cd, mislabelled])}
    assert rows[cm].indications == ["chronic_migraine"]
    assert (
        rows[cd].indications == ["cervical_dystonia"] and rows[cd].indication == "cervical_dystonia"
    )
    assert rows[mislabelled].indication == "blepharospasm"
    assert rows[mislabelled].indications == ["blepharospasm"]
    assert set(Injection.objects.filter(session_id=cm).values_list("indication", flat=True)) == {
        "chronic_migraine"
    }
    assert list(Injection.objects.filter(session_id=cd).values_list("indication", flat=True)) == [
        "cervical_dystonia"
    ]
    assert list(
        Injection.objects.filter(session_id=mislabelled).values_list("indication", flat=True)
    ) == ["blepharospasm"]
    # The guards are back, with the new column among those a signed row never changes.
    for update in (
        lambda: TreatmentSession.objects.filter(pk=cm).update(indications=["blepharospasm"]),
        lambda: Injection.objects.filter(session_id=cm).update(indication="blepharospasm"),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            update()
