"""Times are stored in UTC and shown in the staff member's clinic zone."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from bontrack.accounts.middleware import SessionPolicyMiddleware

pytestmark = pytest.mark.django_db


def zone_seen_by(user) -> str:
    seen: list[str] = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = RequestFactory().get("/patients/")
    request.user = user
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    SessionPolicyMiddleware(view)(request)
    return seen[0]


def test_a_nurse_of_a_london_clinic_sees_london_time(world, settings):
    world.clinic.time_zone = "Europe/London"
    world.clinic.save()
    assert zone_seen_by(world.users["nurse"]) == "Europe/London"
    assert (
        timezone.get_current_timezone_name() == settings.TIME_ZONE
    )  # deactivated after the request


def test_practice_wide_staff_keep_the_practice_default(world, settings):
    world.clinic.time_zone = "Europe/London"
    world.clinic.save()
    assert zone_seen_by(world.users["billing"]) == settings.TIME_ZONE


def test_staff_of_clinics_in_two_zones_keep_the_practice_default(world, settings):
    from bontrack.accounts.models import Membership

    world.other_clinic.time_zone = "America/Los_Angeles"
    world.other_clinic.save()
    nurse = world.users["nurse"]
    Membership.objects.create(
        user=nurse, practice=world.practice, clinic=world.other_clinic, role="nurse"
    )
    nurse._membership_cache = None
    assert zone_seen_by(nurse) == settings.TIME_ZONE
