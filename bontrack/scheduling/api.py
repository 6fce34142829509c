"""Scheduling API: types, availability search, book, reschedule, cancel, status, recall list."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status as HttpStatus
from pydantic import Field

from bontrack.accounts.requests import ApiRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.apitools import ERRORS, require_scope
from bontrack.core.models import Clinic
from bontrack.core.schemas import (
    MAX_ID,
    Id,
    Integer,
    IsoDate,
    IsoDateTime,
    StrictSchema,
    Text,
)
from bontrack.patients.models import Patient
from bontrack.scheduling import recall
from bontrack.scheduling.actions import booking, changes, reads
from bontrack.scheduling.availability import find_slots, find_slots_many
from bontrack.scheduling.models import (
    Appointment,
    AppointmentType,
    CancelReason,
    NoShowReason,
    Room,
    Status,
)

router = Router(tags=["scheduling"])

MAX_SEARCH_DAYS = 31


class TypeOut(Schema):
    id: int
    clinic_id: int
    code: str
    name: str
    kind: str
    modality: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    delivered_by: list[str]
    self_bookable: bool
    min_notice_minutes: int
    horizon_days: int


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    clinician_id: int
    room_id: int | None


class PracticeSlotOut(SlotOut):
    clinic_id: int
    type_id: int


class PracticeSearchQuery(StrictSchema):
    code: Text(40)  # type: ignore[valid-type]
    start: IsoDate
    days: Integer(1, MAX_SEARCH_DAYS, max_digits=6) = 7  # type: ignore[valid-type]
    limit: Integer(1, 5000, max_digits=6) = 500  # type: ignore[valid-type]


class AppointmentOut(Schema):
    id: int
    clinic_id: int
    patient_id: int
    clinician_id: int
    room_id: int | None
    appointment_type_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    source: str
    sequence: int
    cancel_reason: str
    no_show_reason: str


class RecallOut(Schema):
    patient_id: int
    name: str
    indication: str
    last_session: date
    earliest: date
    target: date
    payer_from: date
    status: str
    booked_at: datetime | None


class RecallPage(Schema):
    items: list[RecallOut]
    counts: dict[str, int]
    next_cursor: str | None


class SearchQuery(StrictSchema):
    type_id: Id
    start: IsoDate
    days: Integer(1, MAX_SEARCH_DAYS, max_digits=6) = 7  # type: ignore[valid-type]
    clinician_id: Id | None = None
    limit: Integer(1, 1000, max_digits=6) = 200  # type: ignore[valid-type]


class BookIn(StrictSchema):
    patient_id: int = Field(gt=0, le=MAX_ID, strict=True)
    type_id: int = Field(gt=0, le=MAX_ID, strict=True)
    starts_at: IsoDateTime
    clinician_id: int | None = Field(default=None, gt=0, le=MAX_ID, strict=True)
    room_id: int | None = Field(default=None, gt=0, le=MAX_ID, strict=True)
    reason: Text(500) = ""  # type: ignore[valid-type]
    indication: Text(40) = ""  # type: ignore[valid-type]
    override_reason: Text(300) = ""  # type: ignore[valid-type]


class RescheduleIn(StrictSchema):
    starts_at: IsoDateTime
    clinician_id: int | None = Field(default=None, gt=0, le=MAX_ID, strict=True)
    room_id: int | None = Field(default=None, gt=0, le=MAX_ID, strict=True)


class CancelIn(StrictSchema):
    reason: CancelReason
    note: Text(300) = ""  # type: ignore[valid-type]


class StatusIn(StrictSchema):
    status: str = Field(pattern="^(checked_in|completed|no_show)$")
    reason: NoShowReason | None = None
    note: Text(300) = ""  # type: ignore[valid-type]


class RecallQuery(StrictSchema):
    clinic_id: Id
    status: str = Field(default="", pattern="^(|due|overdue|booked|not_yet_due)$")
    cursor: Text(400) = ""  # type: ignore[valid-type]
    limit: Integer(1, 200, max_digits=6) = 50  # type: ignore[valid-type]


def _base_url(request: ApiRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _aware(value: datetime, field: str) -> datetime:
    if timezone.is_naive(value):
        raise ValidationError({field: ["Give the time with its UTC offset (ISO 8601)."]})
    return value


@router.get("/types", response={200: list[TypeOut], **ERRORS}, summary="Appointment types")
def list_types(request: ApiRequest) -> list[AppointmentType]:
    scope = require_scope(request, Perm.SCHEDULE_VIEW)
    return list(AppointmentType.objects.in_scope(scope).filter(active=True))


@router.get("/availability", response={200: list[SlotOut], **ERRORS}, summary="Search free slots")
def search_availability(request: ApiRequest, q: Query[SearchQuery]) -> list[object]:
    scope = require_scope(request, Perm.SCHEDULE_VIEW)
    atype = get_object_or_404(
        AppointmentType.objects.in_scope(scope).select_related("clinic"), pk=q.type_id
    )
    return find_slots(
        clinic=atype.clinic,
        appointment_type=atype,
        start=q.start,
        end=q.start + timedelta(days=q.days - 1),
        now=timezone.now(),
        clinician_ids=[q.clinician_id] if q.clinician_id else None,
        apply_notice=False,
        limit=q.limit,
    )


@router.get(
    "/availability/practice",
    response={200: list[PracticeSlotOut], **ERRORS},
    summary="Search free slots of one type code across every clinic in scope",
)
def search_practice_availability(
    request: ApiRequest, q: Query[PracticeSearchQuery]
) -> list[dict[str, object]]:
    """One set of queries for all clinics (see `availability.find_slots_many`)."""
    scope = require_scope(request, Perm.SCHEDULE_VIEW)
    types = list(
        AppointmentType.objects.in_scope(scope)
        .filter(code=q.code, active=True)
        .select_related("clinic")
        .order_by("clinic_id")
    )
    if not types:
        raise ValidationError(
            {"code": ["No active appointment type with this code in your clinics."]}
        )
    found = find_slots_many(
        [(t.clinic, t) for t in types],
        start=q.start,
        end=q.start + timedelta(days=q.days - 1),
        now=timezone.now(),
        apply_notice=False,
    )
    out = [
        {
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "clinician_id": s.clinician_id,
            "room_id": s.room_id,
            "clinic_id": t.clinic_id,
            "type_id": t.pk,
        }
        for t in types
        for s in found[t.clinic_id]
    ]
    out.sort(key=lambda r: (r["starts_at"], r["clinic_id"], r["clinician_id"]))  # type: ignore[arg-type]
    return out[: q.limit]


@router.post(
    "/appointments", response={201: AppointmentOut, **ERRORS}, summary="Book an appointment"
)
def book(request: ApiRequest, payload: BookIn) -> HttpStatus[Appointment]:
    scope = require_scope(request, Perm.SCHEDULE_BOOK)
    atype = get_object_or_404(
        AppointmentType.objects.in_scope(scope).select_related("clinic"), pk=payload.type_id
    )
    patient = (
        Patient.objects.filter(practice_id=scope.practice_id, pk=payload.patient_id)
        .select_related("clinic")
        .first()
    )
    if patient is None:
        raise ValidationError({"patient_id": ["Choose a patient of your practice."]})
    clinician = None
    if payload.clinician_id:
        clinician = (
            get_user_model()
            .objects.filter(pk=payload.clinician_id, practice_id=scope.practice_id)
            .first()
        )
        if clinician is None:
            raise ValidationError({"clinician_id": ["Choose a clinician of your practice."]})
    room = None
    if payload.room_id:
        room = Room.objects.filter(pk=payload.room_id, clinic=atype.clinic).first()
        if room is None:
            raise ValidationError({"room_id": ["Choose a room of this clinic."]})
    appointment = booking.book_appointment(
        actor=request.user,
        clinic=atype.clinic,
        patient=patient,
        appointment_type=atype,
        starts_at=_aware(payload.starts_at, "starts_at"),
        clinician=clinician,
        room=room,
        reason=payload.reason,
        indication=payload.indication,
        override_reason=payload.override_reason,
        source="api",
        base_url=_base_url(request),
    )
    return HttpStatus(201, appointment)


def _appointment(request: ApiRequest, perm: str, pk: int) -> Appointment:
    scope = require_scope(request, perm)
    return get_object_or_404(Appointment.objects.in_scope(scope), pk=pk)


@router.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, **ERRORS},
    summary="Get one appointment",
)
def get_appointment(request: ApiRequest, appointment_id: int) -> Appointment:
    appointment = _appointment(request, Perm.SCHEDULE_VIEW, appointment_id)
    reads.record_read(actor=request.user, what="Appointment via API", obj=appointment)
    return appointment


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **ERRORS},
    summary="Move an appointment",
)
def reschedule(request: ApiRequest, appointment_id: int, payload: RescheduleIn) -> Appointment:
    appointment = _appointment(request, Perm.SCHEDULE_BOOK, appointment_id)
    clinician = (
        get_user_model()
        .objects.filter(pk=payload.clinician_id, practice_id=appointment.practice_id)
        .first()
        if payload.clinician_id
        else None
    )
    if payload.clinician_id and clinician is None:
        raise ValidationError({"clinician_id": ["Choose a clinician of your practice."]})
    room = (
        Room.objects.filter(pk=payload.room_id, clinic_id=appointment.clinic_id).first()
        if payload.room_id
        else None
    )
    if payload.room_id and room is None:
        raise ValidationError({"room_id": ["Choose a room of this clinic."]})
    return changes.reschedule_appointment(
        actor=request.user,
        appointment=appointment,
        starts_at=_aware(payload.starts_at, "starts_at"),
        clinician=clinician,
        room=room,
        base_url=_base_url(request),
    )


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **ERRORS},
    summary="Cancel an appointment",
)
def cancel(request: ApiRequest, appointment_id: int, payload: CancelIn) -> Appointment:
    appointment = _appointment(request, Perm.SCHEDULE_BOOK, appointment_id)
    return changes.cancel_appointment(
        actor=request.user,
        appointment=appointment,
        reason=payload.reason,
        note=payload.note,
        base_url=_base_url(request),
    )


@router.post(
    "/appointments/{appointment_id}/status",
    response={200: AppointmentOut, **ERRORS},
    summary="Check in, complete or record a no-show",
)
def set_status(request: ApiRequest, appointment_id: int, payload: StatusIn) -> Appointment:
    appointment = _appointment(request, Perm.SCHEDULE_BOOK, appointment_id)
    if payload.status == Status.NO_SHOW and payload.reason is None:
        raise ValidationError({"reason": ["Choose a no-show reason."]})
    return changes.set_status(
        actor=request.user,
        appointment=appointment,
        status=payload.status,
        reason=payload.reason or "",
        note=payload.note,
    )


@router.get("/recall", response={200: RecallPage, **ERRORS}, summary="The recall list of a clinic")
def recall_list(request: ApiRequest, q: Query[RecallQuery]) -> RecallPage:
    scope = require_scope(request, Perm.RECALL_VIEW)
    clinic = get_object_or_404(Clinic.objects.filter(practice_id=scope.practice_id), pk=q.clinic_id)
    if not scope.allows_clinic(clinic.pk):
        raise HttpError(404, "Not found.")
    try:
        page = recall.recall_page(
            clinic=clinic, status=q.status, cursor=q.cursor or None, size=q.limit, today=None
        )
    except recall.BadCursor as exc:
        raise ValidationError({"cursor": [str(exc)]}) from exc
    audit.record(
        actor=request.user,
        action="search",
        object_type="scheduling.recall",
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
        summary=f"Recall list via API ({len(page.items)} rows)",
    )
    return RecallPage(
        items=[RecallOut(**r.as_dict()) for r in page.items],
        counts=page.counts,
        next_cursor=page.next_cursor,
    )
