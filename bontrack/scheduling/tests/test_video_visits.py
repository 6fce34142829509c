"""Video visits on both sides: the clinician's "Join video" (calendar and chart), opening 10 minutes
before the start; the room's address only behind the waiting room and the audited join; the
patient's device check page (the only page whose Permissions-Policy allows camera/microphone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.factories import booked_appointment
from bontrack.scheduling import links
from bontrack.scheduling.tests.conftest import NOW
from conftest import permission_matrix

pytestmark = pytest.mark.django_db
START = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)  # Tuesday 10:00 in New York


def _video(sched):
    return booked_appointment(
        sched.world.users["front_desk"],
        sched.world.patient,
        sched.type("free-video-consult"),
        START,
        clinician=sched.world.users["physician"],
    )


def test_join_is_closed_before_ten_minutes_and_then_redirects_to_the_room_audited(sched):
    with time_machine.travel(NOW, tick=False):
        appt = _video(sched)
    client = sched.world.client("physician")
    url = f"/schedule/appointments/{appt.pk}/join/"
    with time_machine.travel(START - timedelta(minutes=11), tick=False):
        closed = client.get(url)
        calendar = client.get(f"/schedule/?clinic={sched.clinic.pk}&date=2026-06-02")
        panel = client.get(f"/schedule/patients/{appt.patient_id}/panel/")
    assert closed.status_code == 409 and "Video opens at 09:50" in closed.content.decode()
    assert "Video opens at 09:50" in calendar.content.decode()
    assert "Video opens at 09:50" in panel.content.decode()
    room = links.video_room_url(appt.video_token)
    assert room not in calendar.content.decode()
    with time_machine.travel(START - timedelta(minutes=10), tick=False):
        calendar = client.get(f"/schedule/?clinic={sched.clinic.pk}&date=2026-06-02")
        joined = client.get(url)
    assert url in calendar.content.decode() and ">Join video<" in calendar.content.decode()
    assert joined.status_code == 302 and joined["Location"] == room
    assert AuditEvent.objects.filter(
        summary="Joined the video visit", patient_id=appt.patient_id
    ).exists()
    with time_machine.travel(appt.ends_at + timedelta(minutes=1), tick=False):
        later = sched.world.client("physician")  # the first session went idle meanwhile
        assert "This video visit is over." in later.get(url).content.decode()


@pytest.mark.parametrize(
    "persona,expected",
    permission_matrix(Perm.SCHEDULE_VIEW, ok=302, billing=403).items(),
)
def test_joining_over_every_persona(sched, persona, expected):
    with time_machine.travel(NOW, tick=False):
        appt = _video(sched)
    with time_machine.travel(START, tick=False):
        response = sched.world.client(persona).get(f"/schedule/appointments/{appt.pk}/join/")
    assert response.status_code == expected


def test_the_device_check_page_alone_may_use_camera_and_microphone(sched, client):
    with time_machine.travel(NOW, tick=False):
        appt = _video(sched)
        page = client.get(f"/visit/{appt.video_token}/check/")
        room = client.get(f"/visit/{appt.video_token}/")
    assert page.status_code == 200
    assert "camera=(self)" in page["Permissions-Policy"]
    assert "microphone=(self)" in page["Permissions-Policy"]
    assert "camera=()" in room["Permissions-Policy"]
    html = page.content.decode()
    assert "scheduling/device_check" in html and "<script>" not in html
    assert f"/visit/{appt.video_token}/check/" in room.content.decode()
    assert client.get("/visit/not-a-token/check/").status_code == 404
