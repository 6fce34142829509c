"""The demo shows every authorization case billing and the front desk must see."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bontrack.authorizations import selectors
from bontrack.authorizations.models import Authorization
from bontrack.ops.seed import seed_demo
from bontrack.scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_approval_running_out_one_expiring_and_one_missing():
    today = timezone.localdate()
    seed_demo(today=today, patients=24, seed=2026)
    rows = [
        selectors.state_of(a, today, a.plan_units)
        for a in selectors.listing(Authorization.objects.all(), show="attention", today=today)
    ]
    assert any(s.running_out and s.units_left < s.plan_units for s in rows)
    assert any(s.expiring for s in rows)
    booked = Appointment.objects.filter(
        appointment_type__kind="treatment", status="booked", starts_at__gte=timezone.now()
    ).exclude(indication="")
    missing = [a for a in booked if not Authorization.objects.filter(patient=a.patient).exists()]
    assert missing
    assert Authorization.objects.filter(status="requested").exists()
    assert Authorization.objects.filter(status="denied").exists()
