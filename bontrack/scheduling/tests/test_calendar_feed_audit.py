"""Calendar feed reads are audited, and a feed stops with its owner's account."""

from __future__ import annotations

import pytest
import time_machine

from bontrack.accounts import services as account_services
from bontrack.audit.models import AuditEvent
from bontrack.scheduling.actions import feeds
from bontrack.scheduling.models import CalendarFeed
from bontrack.scheduling.tests.conftest import NOW

from .test_staff_pages import _book

pytestmark = pytest.mark.django_db


@time_machine.travel(NOW, tick=False)
def test_a_feed_read_writes_one_export_event_with_the_number_of_appointments(sched):
    _book(sched)
    physician = sched.world.users["physician"]
    token = feeds.create_feed(actor=physician)
    feed = CalendarFeed.objects.get()
    response = sched.world.client("anonymous").get(
        f"/schedule/feeds/{token}.ics", REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="export")
    assert (event.object_type, event.object_id, event.actor_id, event.practice_id) == (
        "scheduling.calendarfeed",
        str(feed.pk),
        physician.pk,
        sched.world.practice.pk,
    )
    assert event.summary == "Calendar feed read: 1 appointments"
    assert event.source_ip == "10.9.8.7"


@time_machine.travel(NOW, tick=False)
def test_a_deactivated_owners_feed_answers_404_and_writes_only_a_denied_event(sched):
    _book(sched)
    physician = sched.world.users["physician"]
    token = feeds.create_feed(actor=physician)
    account_services.set_staff_active(
        actor=sched.world.users["clinic_admin"], user=physician, active=False
    )
    before = AuditEvent.objects.count()
    response = sched.world.client("anonymous").get(f"/schedule/feeds/{token}.ics")
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.content
    assert AuditEvent.objects.count() == before + 1
    last = AuditEvent.objects.order_by("-id").first()
    assert (last.action, last.outcome, last.object_type) == (
        "access",
        "denied",
        "scheduling.calendarfeed",
    )
    assert "not active" in last.summary
    assert not AuditEvent.objects.filter(action="export").exists()


@time_machine.travel(NOW, tick=False)
def test_a_feed_stops_when_its_owner_loses_every_scheduling_role(sched):
    physician = sched.world.users["physician"]
    token = feeds.create_feed(actor=physician)
    physician.memberships.all().delete()
    response = sched.world.client("anonymous").get(f"/schedule/feeds/{token}.ics")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()
    assert AuditEvent.objects.filter(
        outcome="denied", object_type="scheduling.calendarfeed"
    ).exists()
