"""Clinic administrators set up working hours, leave and extra clinics, rooms, booking settings
and the public program pages; nobody else can, and a refused or invalid change writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.scheduling.availability import find_slots
from bontrack.scheduling.models import (
    AvailabilityException,
    ProgramPage,
    Room,
    SchedulingSettings,
    WorkingHours,
)
from bontrack.scheduling.tests.conftest import NOW
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

PAGE = permission_matrix(Perm.SCHEDULE_CONFIGURE)
WRITE = permission_matrix(Perm.SCHEDULE_CONFIGURE, ok=302)


def _writes():
    return AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count()


def _hours_post(sched, **over):
    data = {
        "clinic": sched.clinic.pk,
        "clinician": sched.world.users["physician"].pk,
        "weekday": 5,
        "start": "09:00",
        "end": "12:00",
    }
    data.update(over)
    return data


@pytest.mark.parametrize("persona,expected", PAGE.items())
def test_only_clinic_admins_open_the_set_up_page(sched, persona, expected):
    response = sched.world.client(persona).get(f"/schedule/setup/?clinic={sched.clinic.pk}")
    assert response.status_code == expected
    if expected == 200:
        assert b"Weekly working hours" in response.content


@pytest.mark.parametrize("persona,expected", WRITE.items())
def test_only_clinic_admins_add_working_hours(sched, persona, expected):
    before, writes = WorkingHours.objects.count(), _writes()
    response = sched.world.client(persona).post("/schedule/setup/hours/", _hours_post(sched))
    assert response.status_code == expected
    if persona == "clinic_admin":
        row = WorkingHours.objects.get(weekday=5)
        assert (row.start, row.end) == (time(9), time(12))
        event = AuditEvent.objects.get(object_type="scheduling.workinghours", action="create")
        assert event.clinic_id == sched.clinic.pk and event.changes["weekday"] == [None, 5]
    else:
        assert WorkingHours.objects.count() == before and _writes() == writes


@pytest.mark.parametrize("persona,expected", WRITE.items())
def test_only_clinic_admins_add_leave(sched, persona, expected):
    writes = _writes()
    response = sched.world.client(persona).post(
        "/schedule/setup/exceptions/",
        {
            "clinic": sched.clinic.pk,
            "clinician": sched.world.users["physician"].pk,
            "kind": "leave",
            "starts_at": "2026-06-02T09:00",
            "ends_at": "2026-06-02T17:00",
        },
    )
    assert response.status_code == expected
    assert AvailabilityException.objects.exists() is (persona == "clinic_admin")
    if persona != "clinic_admin":
        assert _writes() == writes


@pytest.mark.parametrize("persona,expected", WRITE.items())
def test_only_clinic_admins_add_rooms(sched, persona, expected):
    writes = _writes()
    response = sched.world.client(persona).post(
        "/schedule/setup/rooms/", {"clinic": sched.clinic.pk, "name": "Room 2"}
    )
    assert response.status_code == expected
    assert Room.objects.filter(name="Room 2").exists() is (persona == "clinic_admin")
    if persona != "clinic_admin":
        assert _writes() == writes


@pytest.mark.parametrize("persona,expected", WRITE.items())
def test_only_clinic_admins_edit_program_pages(sched, persona, expected):
    page = ProgramPage.objects.filter(clinic=sched.clinic).first()
    writes, title = _writes(), page.title
    response = sched.world.client(persona).post(
        f"/schedule/setup/programs/{page.pk}/",
        {"title": "Our migraine program", "summary": "Short.", "body": "Text.", "published": "on"},
    )
    assert response.status_code == expected
    page.refresh_from_db()
    if persona == "clinic_admin":
        assert page.title == "Our migraine program"
        assert AuditEvent.objects.filter(object_type="scheduling.programpage").exists()
    else:
        assert page.title == title and _writes() == writes


def test_overlapping_working_hours_are_refused_and_nothing_is_written(sched):
    # Given the physician works Mondays 09:00–17:00 (fixture)
    client = sched.world.client("clinic_admin")
    before, writes = WorkingHours.objects.count(), _writes()
    # When adding 16:00–18:00 on Monday
    response = client.post(
        "/schedule/setup/hours/", _hours_post(sched, weekday=0, start="16:00", end="18:00")
    )
    # Then 422 names the overlap, nothing is written
    assert response.status_code == 422 and b"Overlaps 09:00" in response.content
    assert WorkingHours.objects.count() == before and _writes() == writes
    # And an adjacent block (17:00–19:00) is fine
    ok = client.post(
        "/schedule/setup/hours/", _hours_post(sched, weekday=0, start="17:00", end="19:00")
    )
    assert ok.status_code == 302


def test_a_block_at_another_clinic_at_the_same_time_also_overlaps(sched):
    other = sched.world.other_clinic
    from bontrack.accounts.models import Membership

    Membership.objects.create(
        user=sched.world.users["physician"], practice=other.practice, clinic=other, role="physician"
    )
    response = sched.world.client("clinic_admin").post(
        "/schedule/setup/hours/",
        _hours_post(sched, clinic=other.pk, weekday=1, start="10:00", end="11:00"),
    )
    assert response.status_code == 422 and b"Clinic A1" in response.content


@pytest.mark.parametrize(
    "over,message",
    [
        ({"start": "12:00", "end": "09:00"}, b"The end must be after the start"),
        ({"valid_from": "2026-07-01", "valid_until": "2026-06-01"}, b"must not be before"),
        ({"weekday": 9}, b"Select a valid choice"),
    ],
)
def test_invalid_working_hours_are_422_with_a_field_message(sched, over, message):
    before = WorkingHours.objects.count()
    response = sched.world.client("clinic_admin").post(
        "/schedule/setup/hours/", _hours_post(sched, **over)
    )
    assert response.status_code == 422 and message in response.content
    assert WorkingHours.objects.count() == before


def test_hours_for_someone_outside_the_clinic_are_refused(sched):
    response = sched.world.client("clinic_admin").post(
        "/schedule/setup/hours/",
        _hours_post(sched, clinician=sched.world.users["other_practice_staff"].pk),
    )
    assert response.status_code == 422
    assert not WorkingHours.objects.filter(
        clinician=sched.world.users["other_practice_staff"]
    ).exists()


@time_machine.travel(NOW, tick=False)
def test_leave_entered_in_local_time_removes_that_days_slots_until_removed(sched):
    client = sched.world.client("clinic_admin")
    physician = sched.world.users["physician"]
    tuesday = date(2026, 6, 2)

    def slots():
        return find_slots(
            clinic=sched.clinic,
            appointment_type=sched.type("consult"),
            start=tuesday,
            end=tuesday,
            now=NOW,
            clinician_ids=[physician.pk],
        )

    assert slots()
    response = client.post(
        "/schedule/setup/exceptions/",
        {
            "clinic": sched.clinic.pk,
            "clinician": physician.pk,
            "kind": "leave",
            "starts_at": "2026-06-02T00:00",
            "ends_at": "2026-06-03T00:00",
            "note": "Conference",
        },
    )
    assert response.status_code == 302
    leave = AvailabilityException.objects.get()
    assert leave.starts_at == datetime(2026, 6, 2, 4, tzinfo=UTC)  # New York midnight (EDT)
    assert slots() == []
    assert b"Conference" in client.get(f"/schedule/setup/?clinic={sched.clinic.pk}").content
    assert client.post(f"/schedule/setup/exceptions/{leave.pk}/remove/").status_code == 302
    assert not AvailabilityException.objects.exists() and slots()
    assert AuditEvent.objects.filter(
        object_type="scheduling.availabilityexception", action="delete"
    ).exists()


def test_leave_ending_before_it_starts_is_422(sched):
    response = sched.world.client("clinic_admin").post(
        "/schedule/setup/exceptions/",
        {
            "clinic": sched.clinic.pk,
            "clinician": sched.world.users["physician"].pk,
            "kind": "leave",
            "starts_at": "2026-06-02T12:00",
            "ends_at": "2026-06-02T09:00",
        },
    )
    assert response.status_code == 422 and not AvailabilityException.objects.exists()


def test_a_duplicate_room_name_is_refused_and_a_room_can_be_taken_out_of_use(sched):
    client = sched.world.client("clinic_admin")
    response = client.post("/schedule/setup/rooms/", {"clinic": sched.clinic.pk, "name": "room 1"})
    assert response.status_code == 422 and Room.objects.count() == 1
    assert client.post(f"/schedule/setup/rooms/{sched.room.pk}/toggle/").status_code == 302
    sched.room.refresh_from_db()
    assert not sched.room.active
    event = AuditEvent.objects.get(object_type="scheduling.room", action="update")
    assert event.changes["active"] == [True, False]


def test_booking_settings_are_saved_with_reminder_offsets(sched):
    client = sched.world.client("clinic_admin")
    data = {
        "clinic": sched.clinic.pk,
        "slot_step_minutes": 10,
        "reminder_offsets": "120, 2880",
        "recall_lead_days": 14,
        "overdue_grace_days": 5,
        "diary_days_required": 7,
        "child_weight_max_age_days": 30,
        "consent_valid_days": 365,
        "waitlist_offer_minutes": 120,
    }
    assert client.post("/schedule/setup/settings/", data).status_code == 302
    saved = SchedulingSettings.objects.get(clinic=sched.clinic)
    assert saved.slot_step_minutes == 10 and saved.reminder_offsets_minutes == [2880, 120]
    assert AuditEvent.objects.filter(summary="Scheduling settings").exists()
    bad = client.post(
        "/schedule/setup/settings/", {**data, "reminder_offsets": "soon", "slot_step_minutes": 1}
    )
    assert bad.status_code == 422 and b"Whole numbers of minutes" in bad.content
    saved.refresh_from_db()
    assert saved.slot_step_minutes == 10


def test_a_removed_block_is_audited_and_other_clinic_rows_are_404(sched):
    client = sched.world.client("clinic_admin")
    row = WorkingHours.objects.filter(clinic=sched.clinic).first()
    assert client.post(f"/schedule/setup/hours/{row.pk}/remove/").status_code == 302
    assert not WorkingHours.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(
        object_type="scheduling.workinghours", action="delete"
    ).exists()
    from bontrack.scheduling.defaults import ensure_clinic_defaults

    foreign_clinic = sched.world.other_practice_clinic
    ensure_clinic_defaults(foreign_clinic)
    foreign = ProgramPage.objects.filter(clinic=foreign_clinic).first()
    assert client.get(f"/schedule/setup/programs/{foreign.pk}/").status_code == 404


CONTACT = {
    "phone": "(555) 010-4477",
    "contact_email": "desk@clinic.example",
    "address": "1 Main St",
}


@pytest.mark.parametrize("persona,expected", WRITE.items())
def test_only_clinic_admins_edit_the_clinic_contact_details(sched, persona, expected):
    from bontrack.core.models import Clinic

    writes = _writes()
    response = sched.world.client(persona).post(
        "/schedule/setup/contact/", {"clinic": sched.clinic.pk, **CONTACT}
    )
    assert response.status_code == expected
    clinic = Clinic.objects.get(pk=sched.clinic.pk)
    if persona == "clinic_admin":
        assert (clinic.phone, clinic.contact_email, clinic.address) == tuple(CONTACT.values())
        event = AuditEvent.objects.get(object_type="core.clinic", action="update")
        assert event.clinic_id == sched.clinic.pk
        assert event.changes["contact_email"][1] == "desk@clinic.example"
        assert event.changes["phone"][1] == "(555) 010-4477"
    else:
        assert clinic.contact_email != "desk@clinic.example" and _writes() == writes


def test_the_contact_details_show_on_the_set_up_page_with_a_success_message(sched):
    client = sched.world.client("clinic_admin")
    response = client.post(
        "/schedule/setup/contact/", {"clinic": sched.clinic.pk, **CONTACT}, follow=True
    )
    html = response.content.decode()
    assert "Contact details saved." in html
    assert 'value="desk@clinic.example"' in html and 'value="(555) 010-4477"' in html


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("contact_email", "not-an-email", "Enter a valid email address."),
        ("phone", "call us", "Enter a phone number of 7 to 15 digits"),
        ("phone", "123", "Enter a phone number of 7 to 15 digits"),
        ("phone", "+1 555 010 4477 0000 0000", "Enter a phone number of 7 to 15 digits"),
        ("address", "1 Main St\u202e", ""),
    ],
)
def test_invalid_contact_details_are_a_422_and_nothing_is_written(sched, field, value, message):
    from bontrack.core.models import Clinic

    before = Clinic.objects.values("phone", "contact_email", "address").get(pk=sched.clinic.pk)
    writes = _writes()
    response = sched.world.client("clinic_admin").post(
        "/schedule/setup/contact/", {"clinic": sched.clinic.pk, **CONTACT, field: value}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    after = Clinic.objects.values("phone", "contact_email", "address").get(pk=sched.clinic.pk)
    assert after == before and _writes() == writes


def test_an_empty_contact_email_and_a_phone_with_extension_are_accepted(sched):
    from bontrack.core.models import Clinic

    response = sched.world.client("clinic_admin").post(
        "/schedule/setup/contact/",
        {
            "clinic": sched.clinic.pk,
            **CONTACT,
            "contact_email": "",
            "phone": "+1 555-010-4477 ext 12",
        },
    )
    assert response.status_code == 302
    clinic = Clinic.objects.get(pk=sched.clinic.pk)
    assert clinic.contact_email == "" and clinic.phone == "+1 555-010-4477 ext 12"


def test_an_admin_of_another_clinic_cannot_edit_this_clinic_s_contact(sched):
    from bontrack.accounts.roles import Role
    from bontrack.core.models import Clinic
    from bontrack.factories import login, staff

    other_admin = staff(Role.CLINIC_ADMIN, sched.world.other_clinic, username="a2admin")
    from django.test import Client

    client = login(Client(), other_admin)
    client.post("/schedule/setup/contact/", {"clinic": sched.clinic.pk, **CONTACT})
    # The admin's own clinic is the only one they may configure: the post lands there.
    assert Clinic.objects.get(pk=sched.clinic.pk).contact_email != "desk@clinic.example"


def test_rooms_are_added_renamed_and_toggled_through_one_audited_path(sched, world=None):
    from bontrack.scheduling.actions import clinic_setup

    admin = sched.world.users["clinic_admin"]
    room = clinic_setup.save_room(actor=admin, clinic=sched.clinic, name="  Room 7 ")
    assert room.name == "Room 7" and room.active
    clinic_setup.save_room(actor=admin, clinic=sched.clinic, room=room, name="Room 8")
    events = AuditEvent.objects.filter(object_type="scheduling.room", object_id=str(room.pk))
    assert [e.action for e in events.order_by("seq")] == ["create", "update"]
    assert events.get(action="update").changes == {"name": ["Room 7", "Room 8"]}
    from bontrack.patients.services import Conflict

    with pytest.raises(Conflict):
        clinic_setup.save_room(actor=admin, clinic=sched.clinic, room=room, name="room 1")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        clinic_setup.save_room(actor=admin, clinic=sched.world.other_clinic, room=room, name="X")
