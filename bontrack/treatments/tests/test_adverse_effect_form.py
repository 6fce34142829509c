"""The staff adverse-effect form pre-selects no effect: an empty submit is a form error, not ptosis."""

from __future__ import annotations

import pytest

from bontrack.audit.models import AuditEvent
from bontrack.treatments.forms import AdverseEffectForm
from bontrack.treatments.models import AdverseEffect

from .conftest import signed

pytestmark = pytest.mark.django_db


def test_the_form_offers_an_empty_choice_first_and_selects_nothing():
    html = str(AdverseEffectForm(auto_id="ae-%s")["kind"])
    assert html.split("<option", 2)[1].startswith(' value="" selected>')
    assert html.count("selected") == 1


@pytest.mark.parametrize("data", [{}, {"kind": ""}, {"kind": "", "detail": "Felt odd"}])
def test_an_empty_submit_is_a_form_error_and_records_nothing(world, nurse, data):
    session = signed(nurse, world.patient)
    before = AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count()
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/adverse-effects/", data
    )
    assert response.status_code == 422
    assert "Choose the effect the patient reports." in response.content.decode()
    assert not AdverseEffect.objects.exists()
    assert AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count() == before
