from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _migraine_patients(request):
    """The world's patients are treated for chronic migraine, so a session can be started."""
    if "world" not in request.fixturenames:
        return
    from bontrack.patients.models import Condition

    world = request.getfixturevalue("world")
    for patient in (world.patient, world.other_patient):
        Condition.objects.get_or_create(
            patient=patient, indication="chronic_migraine", icd10_code="G43.709"
        )
