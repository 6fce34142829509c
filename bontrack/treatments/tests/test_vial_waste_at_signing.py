"""At signing, the units given and wasted of each vial (clinic_rules' vial_use) are stored with a
waste reason, and the vial leaves stock as used, in the signature's transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bontrack.inventory.models import Vial
from bontrack.treatments.models import VialUse

from .conftest import signed

pytestmark = pytest.mark.django_db


def test_signing_settles_the_vial_with_its_waste_and_reason(world, nurse):
    session = signed(nurse, world.patient)
    use = VialUse.objects.get(session=session)
    given = sum(i.units for i in session.injections.filter(status="done"))
    assert use.units_used == given
    assert use.units_wasted == Decimal(200) - given > 0
    assert use.waste_reason == "single_dose_remainder"
    assert Vial.objects.get(pk=use.vial_id).status == "used"


def test_the_session_screen_shows_the_use_window_and_the_waste(world, nurse):
    session = signed(nurse, world.patient)
    html = world.client("nurse").get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "usable until" in html
    assert "Rest of a single-dose vial after the dose" in html


def test_the_waste_reason_and_note_can_be_recorded_on_a_given_session(world, nurse):
    from bontrack.audit.models import AuditEvent

    session = signed(nurse, world.patient)
    use = VialUse.objects.get(session=session)
    url = f"/treatments/sessions/{session.pk}/vials/{use.vial_id}/waste/"
    r = world.client("nurse").post(url, {"waste_reason": "other", "waste_note": ""})
    assert r.status_code == 302
    assert VialUse.objects.get(pk=use.pk).waste_reason == "single_dose_remainder"
    r = world.client("nurse").post(
        url, {"waste_reason": "contaminated", "waste_note": "Needle touched the tray"}
    )
    assert r.status_code == 302
    use.refresh_from_db()
    assert (use.waste_reason, use.waste_note) == ("contaminated", "Needle touched the tray")
    assert AuditEvent.objects.filter(
        object_type="treatments.vialuse", action="update", patient_id=world.patient.pk
    ).exists()


@pytest.mark.parametrize("persona,expected", [("billing", 403), ("other_clinic_staff", 404)])
def test_only_clinicians_of_the_clinic_record_a_waste_reason(world, nurse, persona, expected):
    session = signed(nurse, world.patient)
    use = VialUse.objects.get(session=session)
    r = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/vials/{use.vial_id}/waste/",
        {"waste_reason": "contaminated", "waste_note": "x"},
    )
    assert r.status_code == expected
    assert VialUse.objects.get(pk=use.pk).waste_reason == "single_dose_remainder"
