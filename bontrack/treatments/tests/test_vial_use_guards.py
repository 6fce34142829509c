"""The database guards a signed session's vial uses: no vial drawn into it, and no change to which
vial, which session, or the dilution; only the units given and wasted are settled again when an
amendment of it is signed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from bontrack.treatments.models import VialUse

from .conftest import signed, stock

pytestmark = pytest.mark.django_db


def test_the_database_refuses_changes_to_a_signed_sessions_vial_use(world, nurse):
    session = signed(nurse, world.patient)
    use = VialUse.objects.get(session=session)
    for change in (
        {"diluent_ml": Decimal("8")},
        {"reconstituted_at": use.reconstituted_at - timedelta(hours=1)},
        {"session_id": signed(nurse, world.other_patient).pk},
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            VialUse.objects.filter(pk=use.pk).update(**change)
    extra = stock(world.clinic, size=100, vials=1, lot_number="GRD100")[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        VialUse.objects.create(
            vial=extra,
            session=session,
            reconstituted_at=use.reconstituted_at,
            diluent_ml=Decimal("2"),
        )
    assert VialUse.objects.get(pk=use.pk).diluent_ml == use.diluent_ml
    assert not VialUse.objects.filter(vial=extra).exists()


def test_the_units_of_a_signed_sessions_vial_can_be_settled_again(world, nurse):
    # An amendment's signature re-settles the vials recorded on the session it amends.
    use = VialUse.objects.get(session=signed(nurse, world.patient))
    VialUse.objects.filter(pk=use.pk).update(units_used=Decimal(100), units_wasted=Decimal(100))
    assert VialUse.objects.get(pk=use.pk).units_used == Decimal(100)
