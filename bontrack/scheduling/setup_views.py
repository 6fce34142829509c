"""Clinic set-up for administrators (`schedule.configure`): contact details, working hours,
exceptions, rooms, booking settings and the public program pages. Every write goes through `services`; an
invalid form re-renders the page with status 422 and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.forms import StrictForm
from bontrack.core.htmx import render_page
from bontrack.core.models import Clinic
from bontrack.core.parsing import ParseError, parse_int
from bontrack.patients.services import Conflict
from bontrack.scheduling.actions import clinic_setup
from bontrack.scheduling.availability import settings_for, zone
from bontrack.scheduling.models import (
    DEFAULT_REMINDER_OFFSETS,
    AvailabilityException,
    ExceptionKind,
    ProgramPage,
    Room,
    WorkingHours,
)
from bontrack.scheduling.views import _clinics, render_local

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ContactForm(StrictForm):
    phone = forms.CharField(
        max_length=40,
        required=False,
        label="Phone",
        help_text="Shown to patients on the booking pages, in their e-mails and in the portal.",
    )
    contact_email = forms.EmailField(
        max_length=254,
        required=False,
        label="Contact e-mail",
        help_text="Where staff notifications go, such as an urgent side-effect report. "
        "Empty: none are sent.",
    )
    address = forms.CharField(
        max_length=300,
        required=False,
        label="Address",
        help_text="Where patients come for in-person visits (shown in their e-mails).",
    )

    def clean_phone(self) -> str:
        try:
            return clinic_setup.check_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["phone"]) from exc


class HoursForm(StrictForm):
    clinician = forms.ModelChoiceField(queryset=Room.objects.none())
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int)
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False)
    valid_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "The end must be after the start.")
        if (
            data.get("valid_from")
            and data.get("valid_until")
            and data["valid_until"] < data["valid_from"]
        ):
            self.add_error("valid_until", "The last day must not be before the first.")
        return data


class ExceptionForm(StrictForm):
    clinician = forms.ModelChoiceField(queryset=Room.objects.none())
    kind = forms.ChoiceField(choices=ExceptionKind.choices)
    starts_at = forms.DateTimeField(
        label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), required=False, help_text="Extra clinic hours only."
    )
    note = forms.CharField(max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The end must be after the start.")
        return data


class RoomForm(StrictForm):
    name = forms.CharField(max_length=80, label="New room")


class SettingsForm(StrictForm):
    slot_step_minutes = forms.IntegerField(min_value=5, max_value=120, label="Slot step (minutes)")
    reminder_offsets = forms.CharField(
        max_length=100,
        required=False,
        label="Reminders (minutes before, comma-separated)",
        help_text="For example 4320, 120 (3 days and 2 hours). Empty: no reminders.",
    )
    recall_lead_days = forms.IntegerField(min_value=0, max_value=120)
    overdue_grace_days = forms.IntegerField(min_value=0, max_value=120)
    diary_days_required = forms.IntegerField(min_value=0, max_value=60)
    child_weight_max_age_days = forms.IntegerField(min_value=1, max_value=730)
    consent_valid_days = forms.IntegerField(min_value=1, max_value=3650)
    waitlist_offer_minutes = forms.IntegerField(min_value=15, max_value=10080)

    def clean_reminder_offsets(self) -> list[int]:
        raw = self.cleaned_data["reminder_offsets"]
        try:
            values = sorted(
                {parse_int(v, max_digits=6) for v in raw.replace(" ", "").split(",") if v},
                reverse=True,
            )
        except ParseError as exc:
            raise ValidationError("Whole numbers of minutes, separated by commas.") from exc
        if any(v < 5 or v > 60 * 24 * 30 for v in values):
            raise ValidationError("Each reminder must be between 5 minutes and 30 days before.")
        if len(values) > 5:
            raise ValidationError("At most five reminders.")
        return values


class ProgramPageForm(StrictForm):
    title = forms.CharField(max_length=150)
    summary = forms.CharField(max_length=400, widget=forms.Textarea(attrs={"rows": 2}))
    body = forms.CharField(
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text="Plain text; a blank line starts a new paragraph, '## ' a heading.",
    )
    published = forms.BooleanField(required=False)


def _clinic(request: HttpRequest, scope: Scope) -> Clinic:
    """The clinic named by ?clinic= / POST clinic that the admin may configure (404 otherwise)."""
    wanted = request.POST.get("clinic") or request.GET.get("clinic") or ""
    clinics = [
        c for c in _clinics(scope) if request.user.has_clinic_perm(Perm.SCHEDULE_CONFIGURE, c.pk)
    ]
    if not clinics:
        raise Http404
    return next((c for c in clinics if str(c.pk) == wanted), clinics[0])


def _bind(form: forms.Form, clinic: Clinic) -> forms.Form:
    if "clinician" in form.fields:
        form.fields["clinician"].queryset = clinic_setup.clinic_clinicians(clinic)
        form.fields["clinician"].label_from_instance = lambda u: u.get_full_name() or u.username
    if "room" in form.fields:
        form.fields["room"].queryset = Room.objects.filter(clinic=clinic, active=True)
    return form


def _settings_initial(clinic: Clinic) -> dict[str, Any]:
    s = settings_for(clinic)
    offsets = s.reminder_offsets_minutes if s.pk else DEFAULT_REMINDER_OFFSETS
    return {
        "slot_step_minutes": s.slot_step_minutes,
        "reminder_offsets": ", ".join(str(v) for v in offsets),
        "recall_lead_days": s.recall_lead_days,
        "overdue_grace_days": s.overdue_grace_days,
        "diary_days_required": s.diary_days_required,
        "child_weight_max_age_days": s.child_weight_max_age_days,
        "consent_valid_days": s.consent_valid_days,
        "waitlist_offer_minutes": s.waitlist_offer_minutes,
    }


def _page(
    request: HttpRequest, scope: Scope, clinic: Clinic, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    tz = zone(clinic)
    forms_ = {
        "contact_form": ContactForm(
            initial={
                "phone": clinic.phone,
                "contact_email": clinic.contact_email,
                "address": clinic.address,
            }
        ),
        "hours_form": HoursForm(),
        "exception_form": ExceptionForm(),
        "room_form": RoomForm(),
        "settings_form": SettingsForm(initial=_settings_initial(clinic)),
    }
    forms_.update(bound)
    for f in forms_.values():
        _bind(f, clinic)
    hours = list(
        WorkingHours.objects.filter(clinic=clinic)
        .select_related("clinician", "room")
        .order_by("clinician__last_name", "clinician_id", "weekday", "start")
    )
    names = dict(WEEKDAYS)
    exceptions = [
        {"row": e, "from": e.starts_at.astimezone(tz), "until": e.ends_at.astimezone(tz)}
        for e in AvailabilityException.objects.filter(
            clinic=clinic, ends_at__gte=timezone.now()
        ).select_related("clinician", "room")[:200]
    ]
    context = {
        "clinic": clinic,
        "clinics": [
            c
            for c in _clinics(scope)
            if request.user.has_clinic_perm(Perm.SCHEDULE_CONFIGURE, c.pk)
        ],
        "hours": [{"row": h, "weekday": names[h.weekday]} for h in hours],
        "exceptions": exceptions,
        "rooms": Room.objects.filter(clinic=clinic),
        "pages": ProgramPage.objects.filter(clinic=clinic),
        **forms_,
    }
    return render_local(request, clinic, "scheduling/setup.html", context, status=status)


def _back(request: HttpRequest, clinic: Clinic, anchor: str, done: str = "") -> HttpResponse:
    """Back to the set-up page at `anchor` (none: the top, where the message shows), with `done`
    as the success message."""
    if done:
        messages.success(request, done)
    return redirect(
        reverse("scheduling:setup") + f"?clinic={clinic.pk}" + (f"#{anchor}" if anchor else "")
    )


def _apply_errors(form: forms.Form, exc: ValidationError | Conflict) -> None:
    if isinstance(exc, Conflict):
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@staff_view(Perm.SCHEDULE_CONFIGURE)
def setup(request: StaffRequest, scope: Scope) -> HttpResponse:
    return _page(request, scope, _clinic(request, scope))


def _submit(
    request: StaffRequest,
    scope: Scope,
    clinic: Clinic,
    form: forms.Form,
    *,
    name: str,
    run: Callable[[dict[str, Any]], object],
    anchor: str,
    done: str,
) -> HttpResponse:
    """The one path of a set-up form: a valid form runs the action and goes back to `anchor` with
    the success message; an invalid one (or a refused action) re-renders the page with 422."""
    if request.method == "POST" and form.is_valid():
        try:
            run(form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            _apply_errors(form, exc)
        else:
            return _back(request, clinic, anchor, done)
    return _page(request, scope, clinic, status=422, **{name: form})


@staff_view(Perm.SCHEDULE_CONFIGURE)
def contact_save(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _clinic(request, scope)
    return _submit(
        request,
        scope,
        clinic,
        ContactForm(request.POST),
        name="contact_form",
        run=lambda data: clinic_setup.save_clinic_contact(
            actor=request.user, clinic=clinic, **data
        ),
        anchor="",  # the first section: the page's top shows the message and the form
        done="Contact details saved.",
    )


@staff_view(Perm.SCHEDULE_CONFIGURE)
def hours_add(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _clinic(request, scope)
    return _submit(
        request,
        scope,
        clinic,
        _bind(HoursForm(request.POST), clinic),
        name="hours_form",
        run=lambda data: clinic_setup.add_working_hours(actor=request.user, clinic=clinic, **data),
        anchor="hours",
        done="Working hours added.",
    )


@staff_view(Perm.SCHEDULE_CONFIGURE)
def hours_remove(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    row = get_object_or_404(WorkingHours.objects.in_scope(scope).select_related("clinic"), pk=pk)
    done = ""
    if request.method == "POST":
        clinic_setup.remove_working_hours(actor=request.user, row=row)
        done = "Working hours removed."
    return _back(request, row.clinic, "hours", done)


@staff_view(Perm.SCHEDULE_CONFIGURE)
def exception_add(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _clinic(request, scope)
    tz = zone(clinic)

    def local(value: datetime) -> datetime:
        return value.replace(tzinfo=None).replace(tzinfo=tz)

    def run(data: dict[str, Any]) -> object:
        return clinic_setup.add_exception(
            actor=request.user,
            clinic=clinic,
            clinician=data["clinician"],
            kind=data["kind"],
            starts_at=local(data["starts_at"]),
            ends_at=local(data["ends_at"]),
            note=data["note"],
            room=data["room"] if data["kind"] == ExceptionKind.EXTRA else None,
        )

    return _submit(
        request,
        scope,
        clinic,
        _bind(ExceptionForm(request.POST), clinic),
        name="exception_form",
        run=run,
        anchor="exceptions",
        done="Leave or extra clinic added.",
    )


@staff_view(Perm.SCHEDULE_CONFIGURE)
def exception_remove(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    row = get_object_or_404(
        AvailabilityException.objects.in_scope(scope).select_related("clinic"), pk=pk
    )
    done = ""
    if request.method == "POST":
        clinic_setup.remove_exception(actor=request.user, row=row)
        done = "Leave or extra clinic removed."
    return _back(request, row.clinic, "exceptions", done)


@staff_view(Perm.SCHEDULE_CONFIGURE)
def room_add(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _clinic(request, scope)
    return _submit(
        request,
        scope,
        clinic,
        RoomForm(request.POST),
        name="room_form",
        run=lambda data: clinic_setup.save_room(
            actor=request.user, clinic=clinic, name=data["name"]
        ),
        anchor="rooms",
        done="Room added.",
    )


@staff_view(Perm.SCHEDULE_CONFIGURE)
def room_toggle(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    room = get_object_or_404(Room.objects.in_scope(scope).select_related("clinic"), pk=pk)
    done = ""
    if request.method == "POST":
        done = f"{room.name} is {'out of use' if room.active else 'back in use'}."
        clinic_setup.save_room(
            actor=request.user,
            clinic=room.clinic,
            room=room,
            name=room.name,
            active=not room.active,
        )
    return _back(request, room.clinic, "rooms", done)


@staff_view(Perm.SCHEDULE_CONFIGURE)
def settings_save(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinic = _clinic(request, scope)

    def run(data: dict[str, Any]) -> object:
        data = dict(data)
        data["reminder_offsets_minutes"] = data.pop("reminder_offsets")
        return clinic_setup.save_settings(actor=request.user, clinic=clinic, **data)

    return _submit(
        request,
        scope,
        clinic,
        SettingsForm(request.POST),
        name="settings_form",
        run=run,
        anchor="settings",
        done="Booking settings saved.",
    )


@staff_view(Perm.SCHEDULE_CONFIGURE)
def program_edit(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    page = get_object_or_404(ProgramPage.objects.in_scope(scope).select_related("clinic"), pk=pk)
    if not request.user.has_clinic_perm(Perm.SCHEDULE_CONFIGURE, page.clinic_id):
        raise Http404
    form = ProgramPageForm(
        request.POST or None,
        initial={
            "title": page.title,
            "summary": page.summary,
            "body": page.body,
            "published": page.published,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            clinic_setup.save_program_page(actor=request.user, page=page, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            _apply_errors(form, exc)
        else:
            return _back(request, page.clinic, "programs", "Program page saved.")
    status = 422 if form.errors else 200
    return render_page(
        request, "scheduling/program_form.html", {"form": form, "page": page}, status=status
    )
