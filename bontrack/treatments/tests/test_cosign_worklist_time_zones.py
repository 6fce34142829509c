"""The co-signature worklist of a physician of two clinics in different zones (New York and
Los Angeles) shows each session's times in its clinic's zone, with the zone named, on both sides
of the end of daylight saving time (Sunday 1 November 2026)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from bontrack.accounts.models import Membership
from bontrack.accounts.roles import Role
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition
from bontrack.treatments.actions import charting, plans, signing

from .conftest import acknowledge_all, chart

pytestmark = pytest.mark.django_db

BEFORE = datetime(2026, 10, 30, 16, 0, tzinfo=UTC)  # Fri 12:00 EDT / 09:00 PDT
AFTER = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # Mon 12:00 EST / 09:00 PST


def _awaiting(world, clinic, at):
    """A nurse's session off the physician's order, charted and signed at `at` at `clinic`."""
    patient = PatientFactory(clinic=clinic, last_name=f"Z{clinic.slug}{at:%d}")
    Condition.objects.get_or_create(
        patient=patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    with time_machine.travel(at, tick=False):
        plans.create_plan(actor=world.users["physician"], patient=patient)
        session = chart(world.users["nurse"], patient)
        site = session.injections.filter(muscle="corrugator", side="left").first()
        charting.update_injection(actor=world.users["nurse"], injection=site, units=Decimal(10))
        acknowledge_all(world.users["physician"], session)
        return signing.sign_session(actor=world.users["nurse"], session=session)


@pytest.fixture
def two_zones(world):
    world.clinic.time_zone = "America/New_York"
    world.clinic.save()
    world.other_clinic.time_zone = "America/Los_Angeles"
    world.other_clinic.save()
    for persona, role in (("physician", Role.PHYSICIAN), ("nurse", Role.NURSE)):
        Membership.objects.create(
            user=world.users[persona],
            practice=world.practice,
            clinic=world.other_clinic,
            role=role,
        )
    return world


def test_each_row_shows_its_clinics_local_time_with_the_zone(two_zones):
    world = two_zones
    _awaiting(world, world.clinic, BEFORE)
    _awaiting(world, world.other_clinic, BEFORE)
    _awaiting(world, world.clinic, AFTER)
    _awaiting(world, world.other_clinic, AFTER)
    with time_machine.travel(AFTER, tick=False):
        page = world.client("physician").get("/treatments/cosign/").content.decode()
    for text in (
        "2026-10-30 12:00 EDT",
        "2026-10-30 09:00 PDT",
        "2026-11-02 12:00 EST",
        "2026-11-02 09:00 PST",
    ):
        assert text in page, text
    assert "Times are each clinic's local time" in page


def test_one_zone_needs_no_abbreviation(two_zones):
    world = two_zones
    _awaiting(world, world.other_clinic, AFTER)
    with time_machine.travel(AFTER, tick=False):
        page = world.client("physician").get("/treatments/cosign/").content.decode()
    assert "2026-11-02 09:00<" in page and "PST" not in page
