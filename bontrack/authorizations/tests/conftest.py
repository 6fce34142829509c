from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def approved(world, patient=None, **kw):
    from bontrack.authorizations import services

    today = timezone.localdate()
    fields = {
        "payer_name": "Blue Lake Health",
        "payer_id": "BLH01",
        "indication": "chronic_migraine",
        "number": "PA-1001",
        "status": "approved",
        "units_approved": 600,
        "visits_approved": 4,
        "valid_from": today - timedelta(days=200),
        "valid_until": today + timedelta(days=120),
    }
    fields.update(kw)
    return services.create_authorization(
        actor=world.users["billing"], patient=patient or world.patient, **fields
    )


def days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)
