"""Staff booking from anywhere: the slot finder (`/schedule/new/`).

The calendar (a free time), the chart's appointments panel, the recall list and the waitlist
link here with what they know (patient, type, clinician, dates); the page finds the earliest
fitting slots and books one, or a series of treatment cycles, through
`actions.staff_booking.book_series`.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope, User
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.authorizations.selectors import coverage
from bontrack.core.parsing import (
    BadQuery,
    ParseError,
    parse_datetime,
    parse_int,
    parse_time,
    query_date,
    query_int,
)
from bontrack.patients.models import Condition, Patient
from bontrack.patients.services import Conflict
from bontrack.scheduling import facts, slot_finder
from bontrack.scheduling.actions import reads, staff_booking
from bontrack.scheduling.availability import eligible_clinician_ids, zone
from bontrack.scheduling.models import AppointmentType, Kind, Room
from bontrack.scheduling.views import _clinics, _pick_clinic, render_local

SEARCH_RESULTS = 10


def _qint(request: StaffRequest, name: str) -> int | None:
    try:
        return query_int(request, name)
    except BadQuery:
        return None


def _qdate(request: StaffRequest, name: str) -> date | None:
    try:
        return query_date(request, name)
    except BadQuery:
        return None


def _qtime(request: StaffRequest, name: str) -> time | None:
    try:
        return parse_time(request.GET.get(name, "")) if request.GET.get(name) else None
    except ParseError:
        return None


def _params(request: StaffRequest, **changes: Any) -> str:
    """The page's query string with some parameters changed (None drops one)."""
    keep: dict[str, str] = {k: str(v) for k, v in request.GET.items() if k != "q"}
    for k, v in changes.items():
        if v is None:
            keep.pop(k, None)
        else:
            keep[k] = str(v)
    return urlencode(keep)


@staff_view(Perm.SCHEDULE_BOOK)
def new_appointment(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _pick_clinic(request, scope)
    if not request.user.has_clinic_perm(Perm.SCHEDULE_BOOK, clinic.pk):
        raise PermissionDenied("Your role does not allow booking in that clinic.")
    data = request.POST if request.method == "POST" else request.GET
    types = list(AppointmentType.objects.filter(clinic=clinic, active=True).order_by("name"))
    type_id = _qint(request, "type")
    if request.method == "POST":
        try:
            type_id = parse_int(data.get("type", ""), min_value=1)
        except ParseError:
            type_id = None
    appointment_type = next((t for t in types if t.pk == type_id), types[0] if types else None)
    patient_id = _qint(request, "patient")
    if request.method == "POST":
        try:
            patient_id = parse_int(data.get("patient", ""), min_value=1)
        except ParseError:
            patient_id = None
    patient = (
        Patient.objects.in_scope(scope)
        .filter(pk=patient_id, practice_id=clinic.practice_id)
        .first()
        if patient_id
        else None
    )
    indications = (
        sorted(
            set(
                Condition.objects.filter(patient=patient, active=True).values_list(
                    "indication", flat=True
                )
            )
        )
        if patient
        else []
    )
    indication = data.get("indication", "")
    if indication not in indications:
        indication = indications[0] if indications else ""
    can_override = request.user.has_clinic_perm(Perm.INTERVAL_OVERRIDE, clinic.pk)
    early = can_override and data.get("early") == "1"
    error, status = "", 200

    if request.method == "POST":
        error, outcome = _book(
            request,
            clinic=clinic,
            patient=patient,
            appointment_type=appointment_type,
            indication=indication,
        )
        if not error:
            return redirect(outcome)
        status = int(outcome)

    q = request.GET.get("q", "").strip()[:100]
    found: list[Patient] = []
    if patient is None and q:
        found = list(
            Patient.objects.in_scope(scope)
            .filter(practice_id=clinic.practice_id)
            .search(q)
            .order_by("last_name", "first_name", "id")[:SEARCH_RESULTS]
        )
        reads.record_read(
            actor=request.user,
            what=f"Patient search for booking ({len(found)} found)",
            object_type="patients.search",
            clinic_id=clinic.pk,
            practice_id=clinic.practice_id,
        )
    clinician_ids = eligible_clinician_ids(clinic, appointment_type) if appointment_type else []
    clinicians = sorted(
        User.objects.filter(pk__in=clinician_ids), key=lambda u: (u.last_name, u.first_name)
    )
    rooms = list(Room.objects.filter(clinic=clinic, active=True).order_by("name"))
    clinician_id = _qint(request, "clinician")
    room_id = _qint(request, "room")
    if room_id not in {r.pk for r in rooms}:
        room_id = None
    time_of_day = request.GET.get("time", "")
    if time_of_day not in slot_finder.TIMES_OF_DAY:
        time_of_day = ""
    finding = None
    if appointment_type is not None:
        finding = slot_finder.find(
            clinic=clinic,
            appointment_type=appointment_type,
            patient=patient,
            indication=indication,
            start=_qdate(request, "from"),
            end=_qdate(request, "to"),
            clinician_id=clinician_id,
            room_id=room_id,
            time_of_day=time_of_day,
            after=_qtime(request, "after"),
            early=early,
        )
    if patient is not None:
        reads.record_read(actor=request.user, what="Slot finder", obj=patient)
    is_treatment = appointment_type is not None and appointment_type.kind == Kind.TREATMENT
    existing = (
        staff_booking.future_treatment(patient, indication)
        if is_treatment and patient is not None and indication
        else None
    )
    auth_warnings: list[str] = []
    if is_treatment and patient is not None and indication and finding is not None:
        # The first free slot's day, else the first day searched.
        day = finding.slots[0].local.date() if finding.slots else finding.start
        auth_warnings = coverage(
            {(patient.pk, indication, day)}, timezone.now().astimezone(zone(clinic)).date()
        )[(patient.pk, indication, day)].warnings
    context = {
        "auth_warnings": auth_warnings,
        "clinic": clinic,
        "clinics": _clinics(scope),
        "types": types,
        "appointment_type": appointment_type,
        "patient": patient,
        "q": q,
        "found": found,
        "indications": [(code, facts.indication_label(code)) for code in indications],
        "indication": indication,
        "indication_label": facts.indication_label(indication) if indication else "",
        "clinicians": [(u.pk, slot_finder.clinician_name(u)) for u in clinicians],
        "clinician_id": clinician_id,
        "rooms": rooms,
        "room_id": room_id,
        "times_of_day": [(k, v[0]) for k, v in slot_finder.TIMES_OF_DAY.items()],
        "time_of_day": time_of_day,
        "finding": finding,
        "is_treatment": is_treatment,
        "existing": existing,
        "existing_local": existing.starts_at.astimezone(zone(existing.clinic))
        if existing
        else None,
        "can_override": can_override,
        "early": early,
        "cycles": staff_booking.SERIES_CYCLES,
        "error": error,
        "base_query": _params(request, patient=None),
        "later_query": _params(
            request, **{"from": finding.end.isoformat(), "to": None, "after": None}
        )
        if finding
        else "",
    }
    return render_local(request, clinic, "scheduling/new_appointment.html", context, status=status)


def _book(
    request: StaffRequest,
    *,
    clinic: Any,
    patient: Patient | None,
    appointment_type: AppointmentType | None,
    indication: str,
) -> tuple[str, str]:
    """Book the chosen slot: ("", redirect url) or (error text, "409"/"422")."""
    if patient is None or appointment_type is None:
        return "Choose a patient and an appointment type first.", "422"
    try:
        raw_start, raw_clinician, raw_room = request.POST.get("slot", "").split("|")
        starts_at = parse_datetime(raw_start)
        if starts_at.tzinfo is None:
            raise ValueError
        clinician = User.objects.get(pk=parse_int(raw_clinician, min_value=1))
        room = (
            Room.objects.get(pk=parse_int(raw_room, min_value=1), clinic=clinic)
            if raw_room
            else None
        )
        cycles = parse_int(request.POST.get("cycles", "1") or "1", min_value=1)
    except (ValueError, User.DoesNotExist, Room.DoesNotExist):
        return "Choose one of the proposed times.", "422"
    try:
        booked = staff_booking.book_series(
            actor=request.user,
            clinic=clinic,
            patient=patient,
            appointment_type=appointment_type,
            starts_at=starts_at,
            cycles=cycles,
            clinician=clinician,
            room=room,
            reason=request.POST.get("reason", "")[:500],
            indication=indication,
            override_reason=request.POST.get("override_reason", "")[:300],
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except Conflict as exc:
        return str(exc), "409"
    except ValidationError as exc:
        return " ".join(exc.messages), "422"
    except PermissionDenied as exc:
        return str(exc) or "Your role does not allow this booking.", "422"
    tz = zone(clinic)
    first = booked[0].starts_at.astimezone(tz)
    when = ", ".join(f"{a.starts_at.astimezone(tz):%a %d %b %Y %H:%M}" for a in booked)
    messages.success(
        request,
        f"Booked {appointment_type.name.lower()} for {patient.first_name} {patient.last_name}: {when}.",
    )
    return "", reverse("scheduling:calendar") + f"?clinic={clinic.pk}&date={first.date()}"
