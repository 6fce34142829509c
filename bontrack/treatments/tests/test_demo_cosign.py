"""The demo has a session awaiting co-signature in each clinic, with its deviation in plain words,
on that clinic's physician's worklist; the demo's physician plans are orders."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from bontrack.accounts.models import User
from bontrack.core.models import Clinic
from bontrack.treatments.models import TreatmentPlan, TreatmentSession

pytestmark = pytest.mark.django_db


def test_each_demo_clinic_has_a_session_awaiting_its_physicians_co_signature(capsys):
    call_command("demo", no_serve=True, patients=30)
    capsys.readouterr()
    clinics = list(Clinic.objects.filter(practice__slug="demo"))
    assert len(clinics) == 2
    for clinic in clinics:
        awaiting = TreatmentSession.objects.filter(clinic=clinic, status="awaiting")
        assert awaiting.count() >= 1, clinic.name
        session = awaiting.first()
        assert {"kind": "units", "message": "Left corrugator: 10 U charted, 5 U ordered."} in (
            session.cosign_reasons
        )
        assert session.vial_uses.exists() and session.signed_by.memberships.filter(role="nurse")
        physician = User.objects.filter(
            memberships__role="physician", memberships__clinic=clinic
        ).first()
        scope = physician.scope("session.cosign")
        assert (
            TreatmentSession.objects.in_scope(scope)
            .awaiting_cosign()
            .filter(pk=session.pk)
            .exists()
        )
    active = TreatmentPlan.objects.filter(patient__practice__slug="demo", active=True)
    assert active.exists() and not active.filter(ordered_at__isnull=True).exists()
