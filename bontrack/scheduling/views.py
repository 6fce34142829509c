"""Staff pages: calendar (day/week per clinic, clinician, room), recall list, feeds, settings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope, User
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.authorizations.selectors import coverage
from bontrack.core.forms import StrictForm, StrictModelForm
from bontrack.core.htmx import render_page
from bontrack.core.models import Clinic
from bontrack.core.parsing import (
    BadQuery,
    ParseError,
    parse_date,
    parse_int,
    parse_time,
    query_int,
)
from bontrack.core.timezones import zones_differ
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict
from bontrack.scheduling import facts, ics, recall
from bontrack.scheduling.actions import changes, clinic_setup, reads
from bontrack.scheduling.actions import feeds as feeds_actions
from bontrack.scheduling.actions import recall_contact as recall_contact_actions
from bontrack.scheduling.availability import distinct_times, find_slots, local_midnight, zone
from bontrack.scheduling.models import (
    Appointment,
    AppointmentType,
    CalendarFeed,
    CancelReason,
    ContactOutcome,
    Kind,
    NoShowReason,
    RecallContact,
    Room,
    Status,
)
from bontrack.scheduling.readiness import readiness


def _clinics(scope: Scope) -> list[Clinic]:
    qs = Clinic.objects.filter(practice_id=scope.practice_id)
    if not scope.all_clinics:
        qs = qs.filter(pk__in=scope.clinic_ids)
    return list(qs)


def _pick_clinic(request: HttpRequest, scope: Scope) -> Clinic:
    clinics = _clinics(scope)
    if not clinics:
        raise Http404
    wanted = request.GET.get("clinic", "")
    return next((c for c in clinics if str(c.pk) == wanted), clinics[0])


def render_local(
    request: HttpRequest,
    clinic: Clinic,
    template: str,
    context: dict[str, Any],
    **kwargs: Any,
) -> HttpResponse:
    """A page of one clinic, rendered in that clinic's time zone: the template's `date` and
    `time` filters show its local times whatever zone the request activated (a user of clinics in
    several zones gets the project default; core/timezones.py)."""
    with timezone.override(zone(clinic)):
        return render_page(request, template, context, **kwargs)


def _day(value: str, default: date) -> date:
    try:
        return parse_date(value) if value else default
    except ParseError:
        return default


def _filter_id(request: HttpRequest, name: str) -> int | None:
    try:
        return query_int(request, name)
    except BadQuery:
        return None


@staff_view(Perm.SCHEDULE_VIEW)
def calendar(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _pick_clinic(request, scope)
    tz = zone(clinic)
    today = timezone.now().astimezone(tz).date()
    view = "week" if request.GET.get("view") == "week" else "day"
    day = _day(request.GET.get("date", ""), today)
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    n_days = 7 if view == "week" else 1
    qs = (
        Appointment.objects.in_scope(scope)
        .filter(
            clinic=clinic,
            starts_at__gte=local_midnight(first, tz),
            starts_at__lt=local_midnight(first + timedelta(days=n_days), tz),
        )
        .select_related("patient", "clinician", "room", "appointment_type", "clinic")
        .order_by("starts_at", "id")
    )
    # A filter that is not an id is ignored (the page shows everyone), never a server error.
    clinician_id = _filter_id(request, "clinician")
    room_id = _filter_id(request, "room")
    if clinician_id is not None:
        qs = qs.filter(clinician_id=clinician_id)
    if room_id is not None:
        qs = qs.filter(room_id=room_id)
    appointments = list(qs)
    ready = readiness([a for a in appointments if a.status in (Status.BOOKED, Status.CHECKED_IN)])
    columns = []
    for i in range(n_days):
        d = first + timedelta(days=i)
        rows = [
            {
                "a": a,
                "local": a.starts_at.astimezone(tz),
                "end": a.ends_at.astimezone(tz),
                "started": a.starts_at <= timezone.now(),
                "checks": ready.get(a.pk, []),
            }
            for a in appointments
            if a.starts_at.astimezone(tz).date() == d
        ]
        columns.append({"date": d, "rows": rows})
    can_book = request.user.has_clinic_perm(Perm.SCHEDULE_BOOK, clinic.pk)
    free_type, free_times = _free_times(
        request, clinic=clinic, day=day, clinician_id=clinician_id, show=can_book and view == "day"
    )
    context = {
        "clinic": clinic,
        "clinics": _clinics(scope),
        "free_type": free_type,
        "free_times": free_times,
        "book_types": AppointmentType.objects.filter(clinic=clinic, active=True).order_by("name")
        if can_book
        else [],
        "clinicians": User.objects.filter(working_hours__clinic=clinic)
        .distinct()
        .order_by("last_name"),
        "rooms": Room.objects.filter(clinic=clinic, active=True),
        "view": view,
        "day": day,
        "prev": first - timedelta(days=n_days),
        "next": first + timedelta(days=n_days),
        "columns": columns,
        "clinician_id": clinician_id,
        "room_id": room_id,
        "can_book": can_book,
        "today": today,
        "can_configure": request.user.has_clinic_perm(Perm.SCHEDULE_CONFIGURE, clinic.pk),
        "cancel_reasons": CancelReason.choices,
        "no_show_reasons": NoShowReason.choices,
    }
    if appointments:
        reads.record_read(
            actor=request.user,
            what=f"Calendar {view} {first} ({len(appointments)} appointments)",
            object_type="scheduling.calendar",
            clinic_id=clinic.pk,
            practice_id=clinic.practice_id,
        )
    return render_local(request, clinic, "scheduling/calendar.html", context, fragment="grid")


def _free_times(
    request: StaffRequest, *, clinic: Clinic, day: date, clinician_id: int | None, show: bool
) -> tuple[AppointmentType | None, list[dict[str, object]]]:
    """The day's free start times for one type (a consultation unless another is chosen), each
    a link into the slot finder: "click a free slot" on the day view."""
    if not show:
        return None, []
    types = list(
        AppointmentType.objects.filter(clinic=clinic, active=True).order_by("kind", "name")
    )
    wanted = _filter_id(request, "book_type")
    chosen = next((t for t in types if t.pk == wanted), None) or next(
        (t for t in types if t.kind == Kind.CONSULTATION), types[0] if types else None
    )
    if chosen is None:
        return None, []
    tz = zone(clinic)
    slots = distinct_times(
        find_slots(
            clinic=clinic,
            appointment_type=chosen,
            start=day,
            end=day,
            now=timezone.now(),
            clinician_ids=[clinician_id] if clinician_id else None,
            apply_notice=False,
        )
    )
    now = timezone.now()
    out = []
    for s in slots:
        if s.starts_at < now:
            continue
        local = s.starts_at.astimezone(tz)
        query = urlencode(
            {
                "clinic": str(clinic.pk),
                "type": str(chosen.pk),
                "clinician": str(s.clinician_id),
                "from": day.isoformat(),
                "to": day.isoformat(),
                "after": local.strftime("%H:%M"),
            }
        )
        out.append({"local": local, "url": reverse("scheduling:new") + "?" + query})
    return chosen, out


class ClinicianChoice(forms.ModelChoiceField):
    """A clinician picker that shows clinicians' names, never user names."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)


class MoveForm(StrictForm):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    clinician = ClinicianChoice(queryset=User.objects.none(), required=False)


# Actions on one appointment: the success message, and the page that confirms cancel / no-show.
DONE = {
    "cancel": "Cancelled",
    "checked_in": "Checked in",
    "completed": "Completed",
    "no_show": "No-show recorded",
    "move": "Moved",
}
CONFIRMED = {
    "cancel": ("Cancel this appointment", CancelReason.choices, "Cancellation reason"),
    "no_show": ("Record a no-show", NoShowReason.choices, "No-show reason"),
}


def _who(appointment: Appointment) -> str:
    return f"{appointment.patient.first_name} {appointment.patient.last_name}"


@staff_view(Perm.SCHEDULE_BOOK)
def appointment_action(request: StaffRequest, pk: int, action: str, scope: Scope) -> HttpResponse:
    appointment = get_object_or_404(
        Appointment.objects.in_scope(scope).select_related(
            "clinic", "patient", "appointment_type", "clinician", "room"
        ),
        pk=pk,
    )
    if action not in DONE:
        raise Http404
    tz = zone(appointment.clinic)
    local = appointment.starts_at.astimezone(tz)
    back = reverse("scheduling:calendar") + f"?clinic={appointment.clinic_id}&date={local.date()}"
    clinicians = User.objects.filter(working_hours__clinic=appointment.clinic).distinct()
    form = MoveForm(request.POST or None)
    form.fields["clinician"].queryset = clinicians
    error = ""
    if request.method == "POST":
        try:
            if action == "cancel":
                changes.cancel_appointment(
                    actor=request.user,
                    appointment=appointment,
                    reason=request.POST.get("reason", ""),
                    note=request.POST.get("note", ""),
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                )
            elif action in ("checked_in", "completed", "no_show"):
                changes.set_status(
                    actor=request.user,
                    appointment=appointment,
                    status=action,
                    reason=request.POST.get("reason", ""),
                    note=request.POST.get("note", ""),
                )
            elif form.is_valid():
                start = datetime.combine(
                    form.cleaned_data["date"], form.cleaned_data["time"], tzinfo=tz
                )
                changes.reschedule_appointment(
                    actor=request.user,
                    appointment=appointment,
                    starts_at=start,
                    clinician=form.cleaned_data["clinician"],
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                )
            if action != "move" or form.is_valid():
                messages.success(
                    request,
                    f"{DONE[action]}: {appointment.appointment_type.name} for {_who(appointment)}, "
                    f"{local:%a %d %b %Y %H:%M}.",
                )
                return redirect(back)
        except (ValidationError, Conflict) as exc:
            error = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    elif action in CONFIRMED:
        pass  # the confirmation page below
    elif action != "move":
        raise Http404
    else:
        # Drag-to-reschedule on the week view opens this form with the day dropped on.
        wanted_day = _day(request.GET.get("date", ""), local.date())
        try:
            wanted_time = parse_time(request.GET.get("time", ""))
        except ParseError:
            wanted_time = local.time()
        form = MoveForm(
            initial={
                "date": wanted_day,
                "time": wanted_time,
                "clinician": appointment.clinician_id,
            }
        )
        form.fields["clinician"].queryset = clinicians
    status = 422 if (error or form.errors) and request.method == "POST" else 200
    if error and any(
        text in error for text in ("no longer available", "already booked", "is taken")
    ):
        status = 409
    context = {
        "appointment": appointment,
        "local": local,
        "form": form,
        "error": error,
        "back": back,
        "action": action,
    }
    if action == "move":
        return render_local(
            request, appointment.clinic, "scheduling/move.html", context, status=status
        )
    title, reasons, label = CONFIRMED.get(action, (DONE[action], [], ""))
    context.update(
        {
            "title": title,
            "reasons": reasons,
            "reason_label": label,
            "chosen_reason": request.POST.get("reason", ""),
        }
    )
    return render_local(
        request, appointment.clinic, "scheduling/confirm_action.html", context, status=status
    )


RECALL_LABELS = {
    "overdue": "Overdue",
    "due": "Due",
    "booked": "Booked",
    "not_yet_due": "Not yet due",
}
RECENT_CONTACTS = timedelta(days=120)


def _recall_rows(clinic: Clinic, items: list[recall.RecallRow]) -> list[dict[str, Any]]:
    """The page's rows with labels, the patient's phone and preferred channel, the last contact
    attempt, a flag when the booked treatment falls before the earliest allowed date, and the
    prior-authorization warnings for the booked (or 12-week) day. Four queries for the page,
    whatever its size."""
    ids = {r.patient_id for r in items}
    contact_of = {
        pk: (phone, channel)
        for pk, phone, channel in Patient.objects.filter(pk__in=ids).values_list(
            "id", "phone", "preferred_contact"
        )
    }
    channels = dict(Patient._meta.get_field("preferred_contact").choices or [])
    last: dict[tuple[int, str], RecallContact] = {}
    for c in RecallContact.objects.filter(
        clinic=clinic, patient_id__in=ids, created_at__gte=timezone.now() - RECENT_CONTACTS
    ).select_related("contacted_by"):
        last.setdefault((c.patient_id, c.indication), c)
    tz = zone(clinic)
    today = timezone.now().astimezone(tz).date()

    def planned_day(r: recall.RecallRow) -> date:
        # The booked day, else the 12-week date (today when that has passed).
        return r.booked_at.astimezone(tz).date() if r.booked_at else max(r.target, today)

    authorized = coverage({(r.patient_id, r.indication, planned_day(r)) for r in items}, today)
    rows = []
    for r in items:
        phone, channel = contact_of.get(r.patient_id, ("", ""))
        booked_local = r.booked_at.astimezone(tz) if r.booked_at else None
        contact = last.get((r.patient_id, r.indication))
        rows.append(
            {
                "r": r,
                "indication": facts.indication_label(r.indication),
                "status": RECALL_LABELS.get(r.status, r.status),
                "phone": phone,
                "channel": channels.get(channel, ""),
                "booked_local": booked_local,
                "too_early": booked_local is not None and booked_local.date() < r.earliest,
                "auth_warnings": authorized[(r.patient_id, r.indication, planned_day(r))].warnings,
                "contact": contact,
                "contacted_by": (
                    contact.contacted_by.get_full_name() or contact.contacted_by.username
                )
                if contact and contact.contacted_by
                else "",
            }
        )
    return rows


@staff_view(Perm.SCHEDULE_BOOK)
def recall_contact(request: StaffRequest, scope: Scope) -> HttpResponse:
    """Log a contact attempt from the recall list (called, left a message, declined)."""
    if request.method != "POST":
        raise Http404
    try:
        patient_id = parse_int(request.POST.get("patient", ""), min_value=1)
        clinic_id = parse_int(request.POST.get("clinic", ""), min_value=1)
    except ParseError:
        raise Http404 from None
    clinic = next((c for c in _clinics(scope) if c.pk == clinic_id), None)
    patient = Patient.objects.in_scope(scope).filter(pk=patient_id).first()
    if clinic is None or patient is None:
        raise Http404
    back = reverse("scheduling:recall") + f"?clinic={clinic.pk}"
    try:
        contact = recall_contact_actions.record_contact(
            actor=request.user,
            clinic=clinic,
            patient=patient,
            indication=request.POST.get("indication", ""),
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        return render_page(
            request,
            "scheduling/recall_contact_error.html",
            {"error": " ".join(exc.messages), "back": back},
            status=422,
        )
    messages.success(
        request,
        f"Logged for {patient.first_name} {patient.last_name}: "
        f"{contact.get_outcome_display().lower()}.",
    )
    return redirect(back)


@staff_view(Perm.RECALL_VIEW)
def recall_list(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _pick_clinic(request, scope)
    status = request.GET.get("status", "")
    if status not in ("", *recall.STATUSES):
        status = ""
    try:
        page = recall.recall_page(
            clinic=clinic,
            status=status,
            cursor=request.GET.get("cursor") or None,
            size=50,
            today=None,
        )
    except recall.BadCursor:
        page = recall.recall_page(clinic=clinic, status=status, cursor=None, size=50, today=None)
    names = {r.patient_id for r in page.items}
    reads.record_read(
        actor=request.user,
        what=f"Recall list ({len(names)} patients)",
        object_type="scheduling.recall",
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
    )
    context = {
        "clinic": clinic,
        "clinics": _clinics(scope),
        "page": page,
        "rows": _recall_rows(clinic, page.items),
        "status": status,
        "statuses": [(s, RECALL_LABELS[s]) for s in recall.STATUSES],
        "can_book": request.user.has_clinic_perm(Perm.SCHEDULE_BOOK, clinic.pk),
        "outcomes": ContactOutcome.choices,
        "treatment_type": AppointmentType.objects.filter(
            clinic=clinic, kind=Kind.TREATMENT, active=True
        )
        .order_by("id")
        .first(),
    }
    return render_local(request, clinic, "scheduling/recall.html", context, fragment="rows")


@staff_view(Perm.SCHEDULE_VIEW)
def feeds(request: StaffRequest, scope: Scope) -> HttpResponse:
    new_url = ""
    if request.method == "POST":
        if request.POST.get("revoke"):
            feed = get_object_or_404(
                CalendarFeed, pk=request.POST["revoke"], clinician=request.user
            )
            feeds_actions.revoke_feed(actor=request.user, feed=feed)
        else:
            token = feeds_actions.create_feed(actor=request.user)
            new_url = request.build_absolute_uri(reverse("scheduling:feed", args=[token]))
    context = {
        "feeds": CalendarFeed.objects.filter(clinician=request.user, revoked_at__isnull=True),
        "new_url": new_url,
    }
    return render_page(request, "scheduling/feeds.html", context)


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The token URL a calendar client subscribes to (no session; revocable)."""
    found = feeds_actions.feed_for_token(token)
    if found is None:
        raise Http404
    if not feeds_actions.feed_owner_is_active(found):
        # The owner left (deactivated, or no scheduling role any more): the feed stops with them.
        feeds_actions.record_feed_refused(feed=found)
        raise Http404
    since = timezone.now() - timedelta(days=30)
    appointments = (
        Appointment.objects.filter(
            clinician=found.clinician,
            starts_at__gte=since,
            status__in=[Status.BOOKED, Status.CHECKED_IN, Status.COMPLETED],
        )
        .select_related("patient", "appointment_type", "clinic", "room")
        .order_by("starts_at")[:2000]
    )
    rows = list(appointments)
    feeds_actions.record_feed_read(feed=found, appointments=len(rows))
    body = ics.feed_ics(rows, name=f"BoNTrack — {found.clinician.get_full_name()}")
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


class TypeForm(StrictModelForm):
    class Meta:
        model = AppointmentType
        fields = [
            "name",
            "kind",
            "modality",
            "duration_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "self_bookable",
            "free_of_charge",
            "min_notice_minutes",
            "horizon_days",
            "description",
            "active",
        ]


@staff_view(Perm.SCHEDULE_CONFIGURE)
def types_admin(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _pick_clinic(request, scope)
    types = AppointmentType.objects.filter(clinic=clinic)
    return render_page(
        request,
        "scheduling/types.html",
        {"clinic": clinic, "clinics": _clinics(scope), "types": types},
    )


@staff_view(Perm.SCHEDULE_CONFIGURE)
def type_edit(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    obj = get_object_or_404(AppointmentType.objects.in_scope(scope).select_related("clinic"), pk=pk)
    form = TypeForm(request.POST or None, instance=AppointmentType.objects.get(pk=obj.pk))
    if request.method == "POST" and form.is_valid():
        try:
            clinic_setup.save_appointment_type(
                actor=request.user,
                clinic=obj.clinic,
                instance=obj,
                **{k: form.cleaned_data[k] for k in form.changed_data},
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect(reverse("scheduling:types") + f"?clinic={obj.clinic_id}")
    status = 422 if form.errors else 200
    return render_page(
        request, "scheduling/type_form.html", {"form": form, "obj": obj}, status=status
    )


@staff_view(Perm.SCHEDULE_VIEW)
def patient_panel(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = get_object_or_404(Patient.objects.in_scope(scope), pk=pk)
    upcoming = list(
        Appointment.objects.filter(
            patient=patient, starts_at__gte=timezone.now() - timedelta(days=1)
        )
        .select_related("appointment_type", "clinic", "clinician")
        .order_by("starts_at")[:10]
    )
    reads.record_read(actor=request.user, what="Appointments panel", obj=patient)
    context = {
        "patient": patient,
        "upcoming": upcoming,
        # A patient may have appointments at clinics in different zones: each row in its own.
        "with_zone": zones_differ(a.clinic for a in upcoming),
        "can_book": request.user.has_clinic_perm(Perm.SCHEDULE_BOOK, patient.clinic_id),
    }
    return render_page(request, "scheduling/panel.html", context)
