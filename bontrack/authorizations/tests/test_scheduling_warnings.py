"""Authorization warnings in plain sentences: check-in readiness, the recall list and booking."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from bontrack.authorizations import services
from bontrack.authorizations.selectors import coverage
from bontrack.scheduling.readiness import readiness
from bontrack.scheduling.tests.conftest import NOW, sched  # noqa: F401 - fixture
from bontrack.scheduling.tests.test_check_in_readiness import TEN, _treatment
from bontrack.scheduling.tests.test_recall_and_interval import _signed

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 2)
LONG_AGO = datetime(2026, 3, 2, 15, tzinfo=UTC)


def _auth(world, **kw):
    fields = {
        "payer_name": "Blue Lake Health",
        "indication": "chronic_migraine",
        "number": "PA-9",
        "status": "approved",
        "units_approved": 600,
        "visits_approved": 4,
        "valid_from": date(2026, 1, 1),
        "valid_until": date(2026, 12, 31),
    }
    fields.update(kw)
    return services.create_authorization(
        actor=world.users["billing"], patient=world.patient, **fields
    )


def _check(appointment):
    appointment.refresh_from_db()
    return {c.label: c for c in readiness([appointment])[appointment.pk]}["Authorization valid"]


@time_machine.travel(NOW, tick=False)
def test_check_in_says_when_the_authorization_is_missing_and_passes_with_one(sched):  # noqa: F811
    appointment = _treatment(sched)
    check = _check(appointment)
    assert check.ok is False
    assert check.detail == "No prior authorization is on file for chronic migraine."
    auth = _auth(
        sched.world,
        status="requested",
        number="",
        units_approved=None,
        visits_approved=None,
        valid_from=None,
        valid_until=None,
    )
    assert "requested but not approved yet" in _check(appointment).detail
    services.update_authorization(
        actor=sched.world.users["billing"],
        authorization=auth,
        status="approved",
        number="PA-9",
        units_approved=600,
        visits_approved=4,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    check = _check(appointment)
    assert check.ok is True and "600 units and 4 visits left" in check.detail


@time_machine.travel(NOW, tick=False)
def test_check_in_warns_when_it_expires_within_30_days_or_before_the_session(sched):  # noqa: F811
    auth = _auth(sched.world, valid_until=date(2026, 6, 20))
    appointment = _treatment(sched)
    check = _check(appointment)
    assert check.ok is False
    assert check.detail == (
        "The authorization for chronic migraine expires on Jun 20, 2026, in 19 days: "
        "ask for a renewal."
    )
    services.update_authorization(
        actor=sched.world.users["billing"], authorization=auth, valid_until=date(2026, 6, 1)
    )
    assert _check(appointment).detail == (
        "The authorization for chronic migraine ends on Jun 1, 2026, "
        "before the planned session on Jun 2, 2026."
    )


@time_machine.travel(NOW, tick=False)
def test_check_in_warns_when_fewer_units_are_left_than_the_plan_needs(sched):  # noqa: F811
    from bontrack.treatments.actions import plans

    physician = sched.world.users["physician"]
    _signed(sched.world.patient, LONG_AGO, physician)
    plans.create_plan(actor=physician, patient=sched.world.patient, additions=[], note="")
    _auth(sched.world, units_approved=300)
    check = _check(_treatment(sched))
    assert check.ok is False
    assert check.detail == (
        "145 units are left on the authorization for chronic migraine; the plan needs 155 units."
    )


@time_machine.travel(NOW, tick=False)
def test_the_recall_list_and_the_slot_finder_show_the_warning(sched):  # noqa: F811
    physician = sched.world.users["physician"]
    _signed(sched.world.patient, LONG_AGO, physician)
    client = sched.world.client("front_desk")
    page = client.get(f"/schedule/recall/?clinic={sched.clinic.pk}").content.decode()
    assert "No prior authorization is on file for chronic migraine." in page
    booking = client.get(
        f"/schedule/new/?clinic={sched.clinic.pk}&patient={sched.world.patient.pk}"
        f"&type={sched.type('treatment').pk}&indication=chronic_migraine"
    ).content.decode()
    assert "No prior authorization is on file for chronic migraine." in booking
    _auth(sched.world)
    page = client.get(f"/schedule/recall/?clinic={sched.clinic.pk}").content.decode()
    assert "No prior authorization" not in page


def test_coverage_costs_two_queries_whatever_the_number_of_rows(world, django_assert_num_queries):
    planned = {(world.patient.pk, "chronic_migraine", DAY + timedelta(days=n)) for n in range(30)}
    with django_assert_num_queries(2):
        out = coverage(planned, DAY)
    assert len(out) == 30 and not any(c.ok for c in out.values())
    assert TEN


@time_machine.travel(NOW, tick=False)
def test_booking_the_next_session_at_check_out_warns_when_it_falls_after_the_end(sched):  # noqa: F811
    from bontrack.scheduling.tests.test_next_session_and_waitlist import (
        _completed_treatment,
        _target,
    )

    appointment = _completed_treatment(sched)
    _auth(sched.world, valid_until=date(2026, 7, 31))
    page = (
        sched.world.client("front_desk")
        .get(f"/schedule/appointments/{appointment.pk}/next/")
        .content.decode()
    )
    target = _target()
    assert (
        "The authorization for chronic migraine ends on Jul 31, 2026, before the planned "
        f"session on {target:%b} {target.day}, {target.year}." in page
    )
