"""Two sessions reach for the last vial at the same moment: one opens it, the other gets a
conflict. PostgreSQL only: two real connections (threads) with row locks; the SQLite test
database lives in memory on one connection."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from bontrack.core.errors import Conflict
from bontrack.inventory.models import Vial
from bontrack.treatments.actions import charting
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.models import VialUse

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_sessions_cannot_both_take_the_last_vial(world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (see module docstring)")
    from bontrack.factories import received_vials

    nurse = world.users["nurse"]
    vial = received_vials(nurse, world.clinic, vials=1, lot_number="LAST1")[0]
    now = timezone.now()
    sessions = [
        charting.create_session(actor=nurse, patient=p, performed_at=now)
        for p in (world.patient, world.other_patient)
    ]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take(session) -> None:
        try:
            barrier.wait(timeout=10)
            vials_actions.open_vial(
                actor=nurse,
                session=session,
                vial=Vial.objects.get(pk=vial.pk),
                diluent_ml=Decimal("4"),
                reconstituted_at=now - timedelta(minutes=5),
            )
            outcomes.append("opened")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "opened"]
    assert VialUse.objects.filter(vial=vial).count() == 1
    assert Vial.objects.get(pk=vial.pk).status == "reconstituted"
