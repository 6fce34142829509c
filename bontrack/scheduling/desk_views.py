"""Front-desk pages: check-in with pre-treatment readiness, "book the next session" at
check-out, and the staff waitlist. Writes go through `services`."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope, User
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.authorizations.selectors import coverage
from bontrack.core.forms import StrictForm
from bontrack.core.htmx import render_page
from bontrack.core.models import OutboxMessage
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.core.parsing import BadQuery, parse_datetime, parse_int, query_date, query_int
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict
from bontrack.scheduling import facts, links, notify, video
from bontrack.scheduling.actions import reads, staff_booking
from bontrack.scheduling.actions import waitlist as waitlist_actions
from bontrack.scheduling.availability import find_slots, zone
from bontrack.scheduling.models import (
    Appointment,
    AppointmentType,
    Kind,
    Room,
    Status,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from bontrack.scheduling.readiness import readiness
from bontrack.scheduling.views import _clinics, _pick_clinic, render_local

NEXT_WINDOW_DAYS = 14  # how many days of proposals from the target date (a page of the UI)
NEXT_PROPOSALS = 8  # a short list: the earliest times from the target, same clinician first


def _appointment(scope: Scope, pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.in_scope(scope).select_related(
            "clinic", "patient", "appointment_type", "clinician", "room"
        ),
        pk=pk,
    )


def _day_list(a: Appointment) -> str:
    day = a.starts_at.astimezone(zone(a.clinic)).date()
    return reverse("scheduling:calendar") + f"?clinic={a.clinic_id}&date={day}"


@staff_view(Perm.SCHEDULE_VIEW)
def check_in(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """Every readiness criterion for one appointment, and the check-in button."""
    a = _appointment(scope, pk)
    checks = readiness([a]).get(a.pk, [])
    reads.record_read(actor=request.user, what="Check-in readiness", obj=a.patient)
    tz = zone(a.clinic)
    context = {
        "a": a,
        "local": a.starts_at.astimezone(tz),
        "is_today": a.starts_at.astimezone(tz).date() == timezone.now().astimezone(tz).date(),
        "checks": checks,
        "is_treatment": a.appointment_type.kind == Kind.TREATMENT,
        "all_ok": all(c.ok is not False for c in checks),
        "can_book": request.user.has_clinic_perm(Perm.SCHEDULE_BOOK, a.clinic_id),
        "back": _day_list(a),
    }
    return render_local(request, a.clinic, "scheduling/check_in.html", context)


def _slot_key(starts_at: datetime, clinician_id: int, room_id: int | None) -> str:
    return f"{starts_at.isoformat()}|{clinician_id}|{room_id or ''}"


@staff_view(Perm.SCHEDULE_BOOK)
def next_session(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """At check-out: free treatment slots from the target date (12-week rhythm), book one."""
    a = _appointment(scope, pk)
    if a.appointment_type.kind != Kind.TREATMENT or a.status not in (
        Status.COMPLETED,
        Status.CHECKED_IN,
    ):
        raise Http404
    if not request.user.has_clinic_perm(Perm.SCHEDULE_BOOK, a.clinic_id):
        raise Http404
    tz = zone(a.clinic)
    visit_day = a.starts_at.astimezone(tz).date()
    interval = facts.interval_for(
        a.indication,
        pediatric=facts.is_pediatric_on(a.patient.date_of_birth, visit_day),
    )
    earliest = visit_day + timedelta(days=interval.min_days)
    target = visit_day + timedelta(days=interval.target_days)
    try:
        wanted = query_date(request, "from")
    except BadQuery:
        wanted = None
    start = max(wanted, earliest) if wanted is not None else target
    error, status = "", 200
    if request.method == "POST":
        try:
            raw_start, raw_clinician, raw_room = request.POST.get("slot", "").split("|")
            starts_at = parse_datetime(raw_start)
            if starts_at.tzinfo is None:
                raise ValueError
            clinician = User.objects.get(pk=parse_int(raw_clinician, min_value=1))
            room = (
                Room.objects.get(pk=parse_int(raw_room, min_value=1), clinic=a.clinic)
                if raw_room
                else None
            )
        except (ValueError, User.DoesNotExist, Room.DoesNotExist):
            error, status = "Choose one of the proposed times.", 422
        else:
            try:
                cycles = parse_int(request.POST.get("cycles", "1") or "1", min_value=1)
                series = staff_booking.book_series(
                    actor=request.user,
                    clinic=a.clinic,
                    patient=a.patient,
                    appointment_type=a.appointment_type,
                    starts_at=starts_at,
                    cycles=cycles,
                    clinician=clinician,
                    room=room,
                    indication=a.indication,
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                )
                booked = series[0]
            except Conflict as exc:
                error, status = str(exc), 409
            except ValidationError as exc:
                error, status = "; ".join(exc.messages), 422
            else:
                day = booked.starts_at.astimezone(tz).date()
                when = ", ".join(f"{b.starts_at.astimezone(tz):%a %d %b %Y %H:%M}" for b in series)
                messages.success(
                    request,
                    f"Booked the next {'session' if len(series) == 1 else f'{len(series)} sessions'}"
                    f" for {a.patient.first_name} {a.patient.last_name}: {when}.",
                )
                return redirect(
                    reverse("scheduling:calendar") + f"?clinic={a.clinic_id}&date={day}"
                )
    slots = find_slots(
        clinic=a.clinic,
        appointment_type=a.appointment_type,
        start=start,
        end=start + timedelta(days=NEXT_WINDOW_DAYS - 1),
        now=timezone.now(),
        apply_notice=False,
    )
    # The same clinician first on each day: continuity of care.
    slots.sort(
        key=lambda s: (
            s.starts_at.astimezone(tz).date(),
            s.clinician_id != a.clinician_id,
            s.starts_at,
        )
    )
    # A short list: per day, the first morning and the first afternoon time (12:00 on).
    short: list[Any] = []
    taken: set[tuple[date, bool]] = set()
    for s in slots:
        local = s.starts_at.astimezone(tz)
        half = (local.date(), local.hour >= 12)
        if half not in taken:
            taken.add(half)
            short.append(s)
        if len(short) == NEXT_PROPOSALS:
            break
    slots = short
    names = {
        u.pk: u.get_full_name() or u.username
        for u in User.objects.filter(pk__in={s.clinician_id for s in slots})
    }
    proposals = [
        {
            "key": _slot_key(s.starts_at, s.clinician_id, s.room_id),
            "local": s.starts_at.astimezone(tz),
            "clinician": names.get(s.clinician_id, ""),
            "same": s.clinician_id == a.clinician_id,
        }
        for s in slots[:NEXT_PROPOSALS]
    ]
    upcoming = staff_booking.future_treatment(a.patient, a.indication)
    reads.record_read(actor=request.user, what="Next session proposals", obj=a.patient)
    # Prior authorization for the first proposed day (or the start of the search).
    planned = slots[0].starts_at.astimezone(tz).date() if slots else start
    auth_warnings = (
        coverage({(a.patient_id, a.indication, planned)}, timezone.now().astimezone(tz).date())[
            (a.patient_id, a.indication, planned)
        ].warnings
        if a.indication
        else []
    )
    context = {
        "auth_warnings": auth_warnings,
        "a": a,
        "interval": interval,
        "earliest": earliest,
        "target": target,
        "start": start,
        "later": start + timedelta(days=NEXT_WINDOW_DAYS),
        "sooner": max(earliest, start - timedelta(days=NEXT_WINDOW_DAYS)),
        "cycles": staff_booking.SERIES_CYCLES,
        "proposals": proposals,
        "upcoming": upcoming,
        "upcoming_local": upcoming.starts_at.astimezone(tz) if upcoming else None,
        "error": error,
        "back": _day_list(a),
    }
    return render_local(request, a.clinic, "scheduling/next_session.html", context, status=status)


OFFERS_SHOWN = 20


class WaitlistForm(StrictForm):
    # The patient is chosen from a search (name, MRN or date of birth), never typed as an MRN.
    patient = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.none(), label="Appointment type"
    )
    earliest = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    latest = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Until")

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("earliest") and data.get("latest") and data["latest"] < data["earliest"]:
            self.add_error("latest", "The last date must be on or after the first.")
        return data


@staff_view(Perm.SCHEDULE_VIEW)
def waitlist(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _pick_clinic(request, scope)
    can_book = request.user.has_clinic_perm(Perm.SCHEDULE_BOOK, clinic.pk)
    form = WaitlistForm(request.POST or None)
    form.fields["appointment_type"].queryset = AppointmentType.objects.filter(
        clinic=clinic, active=True
    )
    status = 200
    chosen: Patient | None = None
    found: list[Patient] = []
    query = ""
    if request.method == "POST":
        if not can_book:
            raise PermissionDenied("Your role does not allow this in that clinic.")
        if form.is_valid():
            data = form.cleaned_data
            patient = (
                Patient.objects.in_scope(scope)
                .filter(practice_id=clinic.practice_id, pk=data["patient"])
                .first()
            )
            if patient is None:
                form.add_error(None, "Choose the patient again: that chart is not in your clinics.")
            else:
                chosen = patient
                try:
                    waitlist_actions.join_waitlist(
                        actor=request.user,
                        patient=patient,
                        appointment_type=data["appointment_type"],
                        earliest=data["earliest"],
                        latest=data["latest"],
                    )
                except (ValidationError, Conflict) as exc:
                    form.add_error(None, str(exc) if isinstance(exc, Conflict) else exc.messages)
                else:
                    messages.success(
                        request,
                        f"Added {patient.first_name} {patient.last_name} to the waitlist for "
                        f"{data['appointment_type'].name.lower()}.",
                    )
                    return redirect(reverse("scheduling:waitlist") + f"?clinic={clinic.pk}")
        elif "patient" in form.errors:
            form.errors.pop("patient")
            form.add_error(None, "Find and choose the patient first.")
        picked = getattr(form, "cleaned_data", {}).get("patient")
        if picked and chosen is None:
            chosen = Patient.objects.in_scope(scope).filter(pk=picked).first()
        status = 422
    else:
        try:
            wanted_patient = query_int(request, "patient")
        except BadQuery:
            wanted_patient = None  # not an id: the form starts empty
        chosen = (
            Patient.objects.in_scope(scope).filter(pk=wanted_patient).first()
            if wanted_patient is not None
            else None
        )
        if chosen is not None:
            form.initial["patient"] = chosen.pk
        query = (request.GET.get("q") or "").strip()[:100]
        if query and can_book:
            found = list(
                Patient.objects.in_scope(scope)
                .search(query)
                .exclude(status="merged")
                .select_related("clinic")
                .order_by("name_key", "id")[:10]
            )
            reads.record_read(
                actor=request.user,
                what=f"Patient search for the waitlist ({len(found)} found)",
                object_type="patients.search",
                clinic_id=clinic.pk,
                practice_id=clinic.practice_id,
            )
    qs = (
        WaitlistEntry.objects.in_scope(scope)
        .filter(clinic=clinic, status=WaitlistStatus.WAITING)
        .select_related("patient", "appointment_type")
    )
    try:
        page = keyset_page(
            qs, fields=("created_at", "id"), cursor=request.GET.get("cursor") or None, size=50
        )
    except BadCursor:
        page = keyset_page(qs, fields=("created_at", "id"), cursor=None, size=50)
    if page.items:
        reads.record_read(
            actor=request.user,
            what=f"Waitlist ({len(page.items)} entries)",
            object_type="scheduling.waitlist",
            clinic_id=clinic.pk,
            practice_id=clinic.practice_id,
        )
    offers = list(
        WaitlistOffer.objects.filter(entry__clinic=clinic)
        .select_related("entry__patient", "entry__appointment_type")
        .order_by("-created_at", "-id")[:OFFERS_SHOWN]
    )
    sent = {
        m.topic: m
        for m in OutboxMessage.objects.filter(
            topic__in=[notify.offer_topic(o.pk) for o in offers]
        ).only("topic", "channel", "status", "sent_at", "created_at")
    }
    tz = zone(clinic)
    offer_rows = [
        {
            "offer": o,
            "when": o.starts_at.astimezone(tz),
            "message": sent.get(notify.offer_topic(o.pk)),
        }
        for o in offers
    ]
    context = {
        "clinic": clinic,
        "clinics": _clinics(scope),
        "page": page,
        "form": form,
        "can_book": can_book,
        "chosen": chosen,
        "found": found,
        "query": query,
        "offer_rows": offer_rows,
    }
    return render_local(request, clinic, "scheduling/waitlist.html", context, status=status)


@staff_view(Perm.SCHEDULE_BOOK)
def waitlist_remove(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry.objects.in_scope(scope), pk=pk)
    if request.method == "POST":
        with contextlib.suppress(Conflict):  # already gone: the list shows the current state
            waitlist_actions.leave_waitlist(actor=request.user, entry=entry)
            messages.success(request, "Removed from the waitlist.")
    return redirect(reverse("scheduling:waitlist") + f"?clinic={entry.clinic_id}")


@staff_view(Perm.SCHEDULE_VIEW)
def join_video(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """The clinician joins a video visit: from 10 minutes before the start to the end, audited,
    then on to the room of the configured video service (never shown as a link before)."""
    appointment = _appointment(scope, pk)
    if not request.user.has_clinic_perm(Perm.SCHEDULE_BOOK, appointment.clinic_id):
        raise PermissionDenied("Your role does not allow this in that clinic.")
    w = video.window(appointment)
    if not w.is_video:
        raise Http404
    if not w.open:
        message = (
            "This video visit is over."
            if w.ended
            else f"{w.opens_text}, 10 minutes before the start. Come back then."
        )
        return render_page(
            request,
            "scheduling/join_closed.html",
            {"appointment": appointment, "message": message},
            status=409,
        )
    reads.record_read(actor=request.user, what="Joined the video visit", obj=appointment.patient)
    return redirect(links.video_room_url(appointment.video_token or ""))
