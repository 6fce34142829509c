"""The practice-wide slot search and the recall page cost a fixed number of queries.

The benchmark (bench/bench_scheduling.py) measures time on 650,000 appointments; these tests
pin the shape that makes it fast: one set of queries for all clinics, and a recall page whose
queries do not grow with the number of patients, with keyset pages that cover every row once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from bontrack.accounts.roles import Perm
from bontrack.factories import PatientFactory, signed_session
from bontrack.scheduling import facts, recall
from bontrack.scheduling.actions import booking
from bontrack.scheduling.availability import find_slots, find_slots_many
from bontrack.scheduling.defaults import ensure_clinic_defaults
from bontrack.scheduling.models import AppointmentType, Room, WorkingHours
from bontrack.scheduling.tests.conftest import NOW
from bontrack.treatments.choices import GIVEN_STATUSES
from bontrack.treatments.models import TreatmentSession
from conftest import permission_matrix

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 6, 1)


def _signed(patient, when, signer):
    """A signed chronic migraine session, charted and signed through the services."""
    return signed_session(signer, patient, when)


def _second_clinic(sched):
    """Clinic A2 (other_clinic_staff works there) with its defaults, a room and hours."""
    clinic = sched.world.other_clinic
    clinic.time_zone = "Europe/London"
    clinic.save()
    ensure_clinic_defaults(clinic)
    Room.objects.create(clinic=clinic, name="Room A2")
    for weekday in range(5):
        WorkingHours.objects.create(
            clinic=clinic,
            clinician=sched.world.users["other_clinic_staff"],
            weekday=weekday,
            start=time(8),
            end=time(12),
        )
    return clinic, AppointmentType.objects.get(clinic=clinic, code="treatment")


@time_machine.travel(NOW, tick=False)
def test_the_practice_wide_search_gives_each_clinic_the_same_slots_as_its_own_search(sched):
    # Given two clinics in different zones, one with a booked appointment
    other, other_type = _second_clinic(sched)
    booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type("treatment"),
        starts_at=datetime(2026, 6, 2, 14, tzinfo=UTC),
        indication="chronic_migraine",
    )
    items = [(sched.clinic, sched.type("treatment")), (other, other_type)]
    # When searching both at once
    both = find_slots_many(items, start=MONDAY, end=MONDAY + timedelta(days=6), now=NOW)
    # Then each clinic's slots equal those of its own search, and both have some
    for clinic, atype in items:
        alone = find_slots(
            clinic=clinic,
            appointment_type=atype,
            start=MONDAY,
            end=MONDAY + timedelta(days=6),
            now=NOW,
        )
        assert both[clinic.pk] == alone and alone
    assert datetime(2026, 6, 2, 14, tzinfo=UTC) not in {s.starts_at for s in both[sched.clinic.pk]}


@time_machine.travel(NOW, tick=False)
def test_the_practice_wide_search_costs_the_same_for_one_clinic_or_many(sched):
    # Given one clinic searched alone, then two clinics with more appointments
    items = [(sched.clinic, sched.type("treatment"))]
    with CaptureQueriesContext(connection) as one:
        find_slots_many(items, start=MONDAY, end=MONDAY + timedelta(days=6), now=NOW)
    other, other_type = _second_clinic(sched)
    for i in range(4):
        booking.book_appointment(
            actor=sched.world.users["front_desk"],
            clinic=sched.clinic,
            patient=PatientFactory(clinic=sched.clinic),
            appointment_type=sched.type("treatment"),
            starts_at=datetime(2026, 6, 2, 14, tzinfo=UTC) + timedelta(hours=i),
            indication="chronic_migraine",
        )
    items.append((other, other_type))
    for clinic, _ in items:
        clinic.__dict__.pop("_scheduling_settings", None)
    # When both are searched at once
    with CaptureQueriesContext(connection) as many:
        found = find_slots_many(items, start=MONDAY, end=MONDAY + timedelta(days=6), now=NOW)
    # Then the number of queries is the same
    assert found[other.pk] and found[sched.clinic.pk]
    assert len(many.captured_queries) == len(one.captured_queries)


def _recall_world(sched, n):
    signer = sched.world.users["physician"]
    for i in range(n):
        _signed(
            PatientFactory(clinic=sched.clinic, last_name=f"Recall{i:03d}"),
            datetime(2026, 1, 5, 15, tzinfo=UTC) + timedelta(days=i),
            signer,
        )


@time_machine.travel(NOW, tick=False)
def test_the_recall_page_costs_the_same_for_three_or_sixty_patients(sched):
    client = sched.world.client("front_desk")
    url = f"/schedule/recall/?clinic={sched.clinic.pk}"
    _recall_world(sched, 3)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _recall_world(sched, 57)
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert response.status_code == 200 and b"Next page" in response.content
    assert len(big.captured_queries) == len(small.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_recall_pages_cover_every_row_once_with_counts_for_each_status(sched):
    # Given 60 patients whose last sessions are spread over two months
    _recall_world(sched, 60)
    everything = recall.recall_rows(clinic=sched.clinic)
    # When reading the list 25 rows at a time, for all statuses and for one status
    for status in ("", "overdue"):
        seen, cursor = [], None
        while True:
            page = recall.recall_page(
                clinic=sched.clinic, status=status, cursor=cursor, size=25, today=None
            )
            seen.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                break
        # Then the pages add up to the whole (filtered) list in order, with names
        expected = [r for r in everything if not status or r.status == status]
        assert seen == expected and all(r.name.startswith("Recall") for r in seen)
    assert sum(page.counts.values()) == 60
    assert page.counts["overdue"] == len([r for r in everything if r.status == "overdue"]) > 0


@pytest.mark.parametrize(
    "today", [date(2026, 6, 1), date(2028, 2, 29), date(2027, 3, 1), date(2026, 12, 31)]
)
def test_the_adult_cut_off_date_agrees_with_the_age_rule(today):
    cutoff = facts.adult_born_on_or_before(today)
    for offset in range(-3, 4):
        dob = cutoff + timedelta(days=offset)
        assert facts.is_pediatric_on(dob, today) is (dob > cutoff)


# Searching is scoped: other clinics' staff search their own clinics; practice B has no such type (422).
PRACTICE_SEARCH = permission_matrix(
    Perm.SCHEDULE_VIEW, api=True, other_clinic_staff=200, other_practice_staff=422
)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", PRACTICE_SEARCH.items())
def test_the_practice_wide_search_api_only_covers_clinics_in_scope(sched, persona, expected):
    other, _ = _second_clinic(sched)
    response = sched.world.client(persona).get(
        "/api/v1/scheduling/availability/practice?code=treatment&start=2026-06-01&days=7"
    )
    assert response.status_code == expected, response.content
    if expected == 200:
        clinics = {s["clinic_id"] for s in response.json()}
        in_scope = {
            "other_clinic_staff": {other.pk},
            "physician": {sched.clinic.pk},
            "nurse": {sched.clinic.pk},
            "front_desk": {sched.clinic.pk},
        }.get(persona, {sched.clinic.pk, other.pk})
        assert clinics == in_scope
        starts = [s["starts_at"] for s in response.json()]
        assert starts == sorted(starts)


def test_the_last_session_day_is_the_clinics_local_day_on_every_database(sched):
    # Given a session at 23:30 in New York, which is already the next day in UTC
    patient = PatientFactory(clinic=sched.clinic, date_of_birth=date(1980, 2, 29))
    _signed(patient, datetime(2026, 3, 10, 3, 30, tzinfo=UTC), sched.world.users["physician"])
    _signed(patient, datetime(2025, 12, 1, 15, tzinfo=UTC), sched.world.users["physician"])
    tz = ZoneInfo(sched.clinic.time_zone)
    # Then the fast path (integers computed by PostgreSQL) and the ORM path agree
    fast = facts.last_signed_day_ordinals(clinic_id=sched.clinic.pk, tz=tz)
    slow = facts.last_signed_days(clinic_id=sched.clinic.pk, tz=tz)
    assert fast == [
        (
            patient.pk,
            "chronic_migraine",
            date(1980, 2, 29).toordinal(),
            date(2026, 3, 9).toordinal(),
        )
    ]
    assert slow == [(patient.pk, "chronic_migraine", date(1980, 2, 29), date(2026, 3, 9))]


@time_machine.travel(NOW, tick=False)
def test_jumping_past_busy_time_finds_exactly_the_slots_a_step_by_step_search_finds(
    sched, monkeypatch
):
    # Given a day with bookings of different lengths and buffers for both clinicians
    from bontrack.scheduling import availability

    starts = [(14, 0, "consult"), (15, 15, "treatment"), (17, 45, "consult"), (19, 15, "treatment")]
    for hour, minute, code in starts:
        booking.book_appointment(
            actor=sched.world.users["front_desk"],
            clinic=sched.clinic,
            patient=PatientFactory(clinic=sched.clinic),
            appointment_type=sched.type(code),
            starts_at=datetime(2026, 6, 2, hour, minute, tzinfo=UTC),
            clinician=sched.world.users["physician" if code == "consult" else "nurse"],
            indication="chronic_migraine" if code == "treatment" else "",
        )
    day = date(2026, 6, 2)
    for code in ("consult", "treatment", "free-video-consult"):
        fast = find_slots(
            clinic=sched.clinic, appointment_type=sched.type(code), start=day, end=day, now=NOW
        )
        # When every candidate is tested one step at a time instead
        with monkeypatch.context() as m:
            m.setattr(
                availability.Busy,
                "blocked_until",
                lambda self, s, e: None if self.free(s, e) else s + 1,
            )
            slow = find_slots(
                clinic=sched.clinic, appointment_type=sched.type(code), start=day, end=day, now=NOW
            )
        # Then both give the same slots
        assert fast == slow and fast


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plan")
def test_the_recall_query_reads_only_the_clinics_patients_through_an_index(sched):
    """Issue 13 item 4: the last signed session per (patient, indication) of ONE clinic's active
    patients comes from the partial index `session_signed_last` (no scan of the practice's
    sessions), so the list's cost follows the clinic's own history."""
    qs = (
        TreatmentSession.objects.filter(
            status__in=GIVEN_STATUSES, patient__clinic_id=sched.clinic.pk, patient__status="active"
        )
        .values_list("patient_id", "indication", "patient__date_of_birth")
        .annotate(last=Max("performed_at"))
        .order_by()
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    # Either index keeps the cost to the clinic's own patients: the partial recall index, or (the
    # planner's choice on a tiny table) the patient index, looped over the clinic's patients.
    # Never a scan of the practice's sessions by status alone.
    assert "session_signed_last" in plan or "(patient_id = patients_patient.id)" in plan, plan
    assert "Seq Scan on treatments_treatmentsession" not in plan, plan
