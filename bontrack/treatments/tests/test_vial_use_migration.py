"""Migrations treatments 0004 / inventory 0003: a vial drawn into a session keeps its link, dilution,
opener and units given (now a treatments.VialUse row); a stocked vial gets no use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bontrack.inventory.models import Vial
from bontrack.treatments.models import VialUse

BEFORE = [("treatments", "0003_session_indications"), ("inventory", "0002_initial")]
AFTER = [("inventory", "0003_vial_use_moved_to_treatments")]


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_a_sessions_vial_keeps_its_link(world):
    executor = _executor()
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        session_model = apps.get_model("treatments", "TreatmentSession")
        lot_model = apps.get_model("inventory", "Lot")
        vial_model = apps.get_model("inventory", "Vial")
        doctor = world.users["physician"]
        session = session_model.objects.create(
            patient_id=world.patient.pk,
            clinic_id=world.patient.clinic_id,
            indication="chronic_migraine",
            indications=["chronic_migraine"],
            performed_at=datetime(2026, 1, 5, 15, tzinfo=UTC),
        )
        lot = lot_model.objects.create(
            practice_id=world.clinic.practice_id,
            ndc="0023-3921-02",
            lot_number="MIG1",
            expiry=date(2027, 1, 1),
            size_units=200,
        )
        used = vial_model.objects.create(
            lot=lot,
            clinic_id=world.clinic.pk,
            status="used",
            patient_id=world.patient.pk,
            session_id=session.pk,
            reconstituted_at=datetime(2026, 1, 5, 14, 30, tzinfo=UTC),
            diluent_ml=Decimal("4"),
            units_used=Decimal("155"),
            units_wasted=Decimal("45"),
            opened_by_id=doctor.pk,
        )
        stocked = vial_model.objects.create(lot=lot, clinic_id=world.clinic.pk)
        session_model.objects.filter(pk=session.pk).update(
            status="signed",
            signed_at=datetime(2026, 1, 5, 16, tzinfo=UTC),
            signed_by_id=doctor.pk,
            rule_set="botox-us",
        )
    finally:
        executor = _executor()
        executor.migrate(AFTER)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    use = VialUse.objects.select_related("vial").get(vial_id=used.pk)
    assert (use.session_id, use.reconstituted_at, use.diluent_ml, use.opened_by_id) == (
        session.pk,
        datetime(2026, 1, 5, 14, 30, tzinfo=UTC),
        Decimal("4"),
        doctor.pk,
    )
    assert (use.units_used, use.units_wasted) == (Decimal("155"), Decimal("45"))
    assert (use.vial.status, use.vial.patient_id, use.vial.units_wasted) == (
        "used",
        world.patient.pk,
        Decimal("0"),
    )
    assert not VialUse.objects.filter(vial_id=stocked.pk).exists()
    assert Vial.objects.get(pk=stocked.pk).status == "in_stock"


@pytest.mark.django_db(transaction=True)
def test_going_back_puts_the_link_on_the_vial_again(world):
    from .conftest import signed

    use = VialUse.objects.get(session=signed(world.users["nurse"], world.patient))
    executor = _executor()
    try:
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        vial = apps.get_model("inventory", "Vial").objects.get(pk=use.pk)
        assert (vial.session_id, vial.diluent_ml, vial.units_used, vial.units_wasted) == (
            use.session_id,
            use.diluent_ml,
            use.units_used,
            use.units_wasted,
        )
    finally:
        executor = _executor()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert VialUse.objects.get(pk=use.pk).units_used == use.units_used
