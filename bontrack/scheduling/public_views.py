"""Public pages (no account): program pages, online booking, manage links, video waiting room."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import patient_view
from bontrack.core.client_ip import client_ip
from bontrack.core.forms import StrictForm
from bontrack.core.models import Clinic
from bontrack.core.parsing import ParseError, parse_datetime
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict
from bontrack.scheduling import education, links, notify
from bontrack.scheduling.actions import booking, changes, public_booking, reads
from bontrack.scheduling.actions import waitlist_offer as waitlist_offer_actions
from bontrack.scheduling.availability import distinct_times, find_slots, zone
from bontrack.scheduling.models import Appointment, AppointmentType, ProgramPage, Status

WAITING_ROOM_OPENS = timedelta(minutes=10)
SEARCH_DAYS = 14


def _clinic(practice: str, clinic: str) -> Clinic:
    return get_object_or_404(
        Clinic.objects.select_related("practice"), practice__slug=practice, slug=clinic
    )


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request)


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def clinic_home(request: HttpRequest, practice: str, clinic: str) -> HttpResponse:
    c = _clinic(practice, clinic)
    context = {
        "clinic": c,
        "types": AppointmentType.objects.filter(clinic=c, active=True, self_bookable=True),
        "programs": ProgramPage.objects.filter(clinic=c, published=True),
    }
    return render(request, "booking/clinic.html", context)


def education_index(request: HttpRequest) -> HttpResponse:
    """Public: the education pages, one per indication (no patient data)."""
    return render(request, "booking/education_index.html", {"topics": education.all_topics()})


def education_page(request: HttpRequest, topic: str) -> HttpResponse:
    """Public: what BOTOX does for one condition, the session, results, repetition, side effects
    and when to call."""
    page = education.topic(topic)
    if page is None:
        raise Http404("No such page.")
    return render(
        request,
        "booking/education.html",
        {"page": page, "others": [t for t in education.all_topics() if t["slug"] != topic]},
    )


def program_page(request: HttpRequest, practice: str, clinic: str, indication: str) -> HttpResponse:
    c = _clinic(practice, clinic)
    page = get_object_or_404(ProgramPage, clinic=c, indication=indication, published=True)
    blocks = []
    for chunk in page.body.split("\n\n"):
        chunk = chunk.strip()
        if chunk.startswith("## "):
            # A heading is its first line; the lines under it (no blank line between) are its text.
            heading, _, chunk = chunk.partition("\n")
            blocks.append(("h2", heading[3:]))
            chunk = chunk.strip()
        if chunk:
            lines = chunk.splitlines()
            if all(line[:2].rstrip(".").isdigit() for line in lines):
                blocks.append(("ol", [line.split(" ", 1)[1] for line in lines]))
            else:
                blocks.append(("p", chunk))
    video = AppointmentType.objects.filter(
        clinic=c, active=True, self_bookable=True, modality="video", free_of_charge=True
    ).first()
    return render(
        request,
        "booking/program.html",
        {
            "clinic": c,
            "page": page,
            "blocks": blocks,
            "video": video,
            "learn": education.topics_for_indication(indication),
        },
    )


def slots(request: HttpRequest, practice: str, clinic: str, code: str) -> HttpResponse:
    c = _clinic(practice, clinic)
    atype = get_object_or_404(AppointmentType, clinic=c, code=code, active=True, self_bookable=True)
    tz = zone(c)
    today = timezone.now().astimezone(tz).date()
    found = distinct_times(
        find_slots(
            clinic=c,
            appointment_type=atype,
            start=today,
            end=today + timedelta(days=SEARCH_DAYS - 1),
            now=timezone.now(),
        )
    )
    days: dict[object, list[tuple[str, str]]] = {}
    for s in found:
        local = s.starts_at.astimezone(tz)
        days.setdefault(local.date(), []).append(
            (s.starts_at.strftime("%Y%m%dT%H%MZ"), local.strftime("%H:%M"))
        )
    return render(
        request,
        "booking/slots.html",
        {"clinic": c, "type": atype, "days": days, "manage": None, "program": _program(request)},
    )


def _program(request: HttpRequest) -> str:
    """The program page the booker came from (`?for=chronic_migraine`), if it names one."""
    from bontrack.patients.choices import Indication

    wanted = request.GET.get("for", "")
    return wanted if wanted in Indication.values else ""


class BookingForm(StrictForm):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    # A date picker: type=date sends and shows ISO dates (YYYY-MM-DD) whatever the browser's
    # language, so the widget renders its value in ISO too.
    date_of_birth = forms.DateField(
        widget=forms.DateInput(
            attrs={
                "type": "date",
                "autocomplete": "bday",
                "max": "2100-12-31",
                "min": "1900-01-01",
            },
            format="%Y-%m-%d",
        )
    )
    email = forms.EmailField(max_length=254)
    phone = forms.CharField(max_length=32, required=False)
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What would you like to talk about?",
    )
    consent = forms.BooleanField(
        label="I agree that the clinic contacts me by email or phone about this booking."
    )
    # Honeypot: hidden from people, filled by bots.
    website = forms.CharField(required=False, label="Leave this empty")


_SLOT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})Z\Z")


def _parse_slot(value: str) -> datetime:
    """A slot in the booking URL, ``YYYYMMDDTHHMMZ`` (UTC), dates 1900-2100 only."""
    m = _SLOT.match(value)
    if m is None:
        raise Http404
    y, mo, d, h, mi = m.groups()
    try:
        return parse_datetime(f"{y}-{mo}-{d}T{h}:{mi}").replace(tzinfo=UTC)
    except ParseError as exc:
        raise Http404 from exc


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, practice: str, clinic: str, code: str, slot: str) -> HttpResponse:
    c = _clinic(practice, clinic)
    atype = get_object_or_404(AppointmentType, clinic=c, code=code, active=True, self_bookable=True)
    starts_at = _parse_slot(slot)
    local = starts_at.astimezone(zone(c))
    form = BookingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if public_booking.rate_limited(ip=_ip(request), action="book"):
            return render(request, "booking/limited.html", {"clinic": c}, status=429)
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot: answer like a success, write nothing.
                return render(request, "booking/done.html", {"clinic": c, "appointment": None})
            data = form.cleaned_data
            try:
                appointment = public_booking.book_online(
                    clinic=c,
                    appointment_type=atype,
                    starts_at=starts_at,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    date_of_birth=data["date_of_birth"],
                    email=data["email"],
                    phone=data["phone"],
                    reason=data["reason"],
                    consent=data["consent"],
                    base_url=_base(request),
                    indication=_program(request),
                )
            except public_booking.RepeatFreeConsultation as exc:
                public_booking.send_move_link(
                    earlier=exc.earlier, wanted=starts_at, base_url=_base(request)
                )
                return render(
                    request,
                    "booking/repeat.html",
                    {"clinic": c, "type": atype, "days": public_booking.free_consult_repeat_days()},
                    status=409,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except Conflict:
                # One neutral answer whatever the reason: it reveals nobody's schedule.
                form.add_error(None, booking.UNAVAILABLE)
                status = 409
            else:
                token = links.manage_token(appointment.pk, appointment.sequence)
                return redirect("booking:confirmed", token=token)
        if status == 200:
            status = 422
    return render(
        request,
        "booking/form.html",
        {"clinic": c, "type": atype, "local": local, "form": form, "program": _program(request)},
        status=status,
    )


def confirmed(request: HttpRequest, token: str) -> HttpResponse:
    """After booking online: what, when, where or how to join, what to prepare, and what next."""
    appointment = _from_token(token)
    base = _base(request)
    account = getattr(appointment.patient, "portal_account", None)
    context = {
        "appointment": appointment,
        "clinic": appointment.clinic,
        "when": notify.local_time(appointment),
        "token": token,
        "steps": notify.preparation(appointment, base),
        "migraine": appointment.indication == "chronic_migraine",
        "invited": account is not None and not account.user.has_usable_password(),
        "email": appointment.patient.email,
    }
    return render(request, "booking/confirmed.html", context)


def _from_token(token: str) -> Appointment:
    parsed = links.read_manage_token(token)
    if parsed is None:
        raise Http404
    appointment = (
        Appointment.objects.select_related(
            "clinic__practice", "appointment_type", "patient__portal_account__user"
        )
        .filter(pk=parsed[0], sequence=parsed[1])
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


def _link_gone(request: HttpRequest, token: str) -> HttpResponse:
    """A manage link that no longer opens, said in words (404: it reveals no appointment)."""
    reason = links.manage_token_state(token) or "replaced"
    if reason == "replaced":
        parsed = links.read_manage_token(token)
        if parsed is None or not Appointment.objects.filter(pk=parsed[0]).exists():
            reason = "invalid"
    return render(request, "booking/link_gone.html", {"reason": reason}, status=404)


def _appointment_or_gone(
    request: HttpRequest, token: str
) -> tuple[Appointment | None, HttpResponse | None]:
    try:
        return _from_token(token), None
    except Http404:
        return None, _link_gone(request, token)


def _book_again(appointment: Appointment) -> str:
    return reverse(
        "booking:clinic", args=[appointment.clinic.practice.slug, appointment.clinic.slug]
    )


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel through the e-mailed link: GET asks (what, when, where), only the POST cancels."""
    appointment, gone = _appointment_or_gone(request, token)
    if gone is not None or appointment is None:
        return gone or _link_gone(request, token)
    error = ""
    status = 200
    started = appointment.starts_at <= timezone.now()
    if request.method == "POST":
        if public_booking.rate_limited(ip=_ip(request), action="manage"):
            return render(
                request, "booking/limited.html", {"clinic": appointment.clinic}, status=429
            )
        try:
            appointment = changes.cancel_by_link(appointment=appointment, base_url=_base(request))
        except Conflict as exc:
            error, status = str(exc), 409
            appointment = _from_token(token)
        else:
            return redirect(reverse("booking:manage", args=[token]) + "?cancelled=1")
    context = {
        "appointment": appointment,
        "clinic": appointment.clinic,
        "when": notify.local_time(appointment),
        "where": notify.where(appointment),
        "token": token,
        "started": started,
        "book_again": _book_again(appointment),
        "error": error,
    }
    return render(request, "booking/cancel.html", context, status=status)


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment, gone = _appointment_or_gone(request, token)
    if gone is not None or appointment is None:
        return gone or _link_gone(request, token)
    error = ""
    status = 200
    if request.method == "POST" and request.POST.get("action") == "cancel":
        # Cancelling is never one click: the confirmation page asks first.
        return redirect("booking:cancel", token=token)
    if request.method == "POST":
        if public_booking.rate_limited(ip=_ip(request), action="manage"):
            return render(
                request, "booking/limited.html", {"clinic": appointment.clinic}, status=429
            )
        try:
            if request.POST.get("slot"):
                appointment = changes.reschedule_by_link(
                    appointment=appointment,
                    starts_at=_parse_slot(request.POST["slot"]),
                    base_url=_base(request),
                )
                return redirect(
                    "booking:manage", token=links.manage_token(appointment.pk, appointment.sequence)
                )
        except Conflict as exc:
            # A time that cannot be had gets one neutral answer (it reveals nobody's schedule).
            error = booking.UNAVAILABLE if request.POST.get("slot") else str(exc)
            status = 409
        except ValidationError as exc:
            error, status = str(exc.messages[0]), 422
    days: dict[object, list[tuple[str, str]]] = {}
    if appointment.status == Status.BOOKED and appointment.appointment_type.self_bookable:
        tz = zone(appointment.clinic)
        today = timezone.now().astimezone(tz).date()
        for s in distinct_times(
            find_slots(
                clinic=appointment.clinic,
                appointment_type=appointment.appointment_type,
                start=today,
                end=today + timedelta(days=SEARCH_DAYS - 1),
                now=timezone.now(),
                exclude_appointment_id=appointment.pk,
            )
        )[:60]:
            local = s.starts_at.astimezone(tz)
            days.setdefault(local.date(), []).append(
                (s.starts_at.strftime("%Y%m%dT%H%MZ"), local.strftime("%H:%M"))
            )
    proposed = None
    wanted = request.GET.get("slot", "")
    if wanted and _SLOT.match(wanted) and appointment.status == Status.BOOKED:
        # The time asked for when trying to book again (the e-mailed move link): offered only if
        # it is still free for this appointment.
        at = _parse_slot(wanted)
        tz = zone(appointment.clinic)
        day = at.astimezone(tz).date()
        free = find_slots(
            clinic=appointment.clinic,
            appointment_type=appointment.appointment_type,
            start=day,
            end=day,
            now=timezone.now(),
            exclude_appointment_id=appointment.pk,
        )
        if any(slot.starts_at == at for slot in free):
            proposed = (wanted, at.astimezone(tz))
    context = {
        "proposed": proposed,
        "book_again": _book_again(appointment),
        "just_cancelled": request.GET.get("cancelled") == "1"
        and appointment.status == Status.CANCELLED,
        "appointment": appointment,
        "clinic": appointment.clinic,
        "when": notify.local_time(appointment),
        "where": notify.where(appointment),
        "waiting_room": f"/visit/{appointment.video_token}/" if appointment.video_token else "",
        "token": token,
        "days": days,
        "error": error,
    }
    return render(request, "booking/manage.html", context, status=status)


def ics_download(request: HttpRequest, token: str) -> HttpResponse:
    from bontrack.scheduling import ics

    appointment = _from_token(token)
    content = ics.appointment_ics(
        appointment,
        summary=f"{appointment.appointment_type.name} — {appointment.clinic.name}",
        description=notify.where(appointment),
        location=notify.where(appointment),
    )
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


def waiting_room(request: HttpRequest, video_token: str) -> HttpResponse:
    appointment = get_object_or_404(
        Appointment.objects.select_related("clinic", "appointment_type"),
        video_token=video_token,
        status__in=[Status.BOOKED, Status.CHECKED_IN],
    )
    now = timezone.now()
    opens_at = appointment.starts_at - WAITING_ROOM_OPENS
    is_open = opens_at <= now <= appointment.ends_at
    context = {
        "appointment": appointment,
        "when": notify.local_time(appointment),
        "is_open": is_open,
        "ended": now > appointment.ends_at,
        "opens_local": opens_at.astimezone(zone(appointment.clinic)).strftime("%H:%M"),
        "room_url": links.video_room_url(appointment.video_token) if is_open else "",
    }
    return render(request, "booking/waiting_room.html", context)


# The one page that may use the camera and microphone: the patient's device check. Every other
# page keeps settings.PERMISSIONS_POLICY (camera=(), microphone=()).
DEVICE_CHECK_POLICY = settings.PERMISSIONS_POLICY.replace("camera=()", "camera=(self)").replace(
    "microphone=()", "microphone=(self)"
)


def device_check(request: HttpRequest, video_token: str) -> HttpResponse:
    """Camera and microphone test before a video visit (static JS, getUserMedia, nothing sent)."""
    appointment = get_object_or_404(
        Appointment.objects.select_related("clinic"),
        video_token=video_token,
        status__in=[Status.BOOKED, Status.CHECKED_IN],
    )
    response = render(
        request,
        "booking/device_check.html",
        {
            "clinic": appointment.clinic,
            "waiting_room": reverse("booking:waiting_room", args=[video_token]),
        },
    )
    response["Permissions-Policy"] = DEVICE_CHECK_POLICY
    return response


@patient_view
def portal_appointments(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The signed-in patient's upcoming appointments, with video and manage links (portal card)."""
    upcoming = list(
        Appointment.objects.filter(
            patient=patient,
            status__in=[Status.BOOKED, Status.CHECKED_IN],
            ends_at__gte=timezone.now(),
        )
        .select_related("appointment_type", "clinic")
        .order_by("starts_at")[:10]
    )
    reads.record_read(actor=request.user, what="Own appointments (portal)", obj=patient)
    rows = [
        {
            "a": a,
            "when": notify.local_time(a),
            "manage": links.manage_token(a.pk, a.sequence),
            "video": links.video_room_url(a.video_token) if a.video_token else "",
        }
        for a in upcoming
    ]
    # The portal home loads the card with HTMX; opened on its own it is a portal page (header, way back).
    template = (
        "booking/portal_card.html"
        if request.headers.get("HX-Request")
        else "booking/portal_appointments.html"
    )
    return render(request, template, {"rows": rows})


@require_http_methods(["GET", "POST"])
def waitlist_offer(request: HttpRequest, token: str) -> HttpResponse:
    """A waiting patient takes a freed slot from the emailed link; the first to confirm wins."""
    from bontrack.scheduling.models import WaitlistOffer

    offer_id = links.read_offer_token(token, max_age=7 * 24 * 3600)
    offer = (
        WaitlistOffer.objects.select_related("entry__clinic", "entry__appointment_type")
        .filter(pk=offer_id)
        .first()
        if offer_id
        else None
    )
    if offer is None:
        raise Http404
    clinic = offer.entry.clinic
    error, status = "", 200
    if request.method == "POST":
        if public_booking.rate_limited(ip=_ip(request), action="manage"):
            return render(request, "booking/limited.html", {"clinic": clinic}, status=429)
        try:
            appointment = waitlist_offer_actions.accept_offer(offer=offer, base_url=_base(request))
        except Conflict as exc:
            error, status = str(exc), 409
            if "booked" in error or "no longer available" in error:
                error = "Sorry, someone else took this slot first."
        else:
            return redirect(
                "booking:manage", token=links.manage_token(appointment.pk, appointment.sequence)
            )
    when = offer.starts_at.astimezone(zone(clinic)).strftime("%A %d %B %Y at %H:%M (%Z)")
    return render(
        request,
        "booking/offer.html",
        {"clinic": clinic, "offer": offer, "when": when, "error": error},
        status=status,
    )
