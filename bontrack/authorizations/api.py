"""The authorization API: list, create, update, consumption, packet download (staff, audited)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from bontrack.accounts.requests import ApiRequest
from bontrack.accounts.roles import Perm
from bontrack.authorizations import packet_views, selectors, services
from bontrack.authorizations.choices import AuthStatus
from bontrack.authorizations.models import Authorization
from bontrack.core.apitools import ERRORS, ERRORS_WITHOUT_CONFLICT, require_scope
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.core.schemas import MAX_ID, Integer, IsoDate, StrictSchema, Text
from bontrack.patients.models import Patient

router = Router(tags=["authorizations"])


class AuthorizationOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    payer_name: str
    payer_id: str
    indication: str
    number: str
    status: AuthStatus
    units_approved: int | None
    visits_approved: int | None
    valid_from: date | None
    valid_until: date | None
    note: str
    created_at: datetime
    updated_at: datetime


class AuthorizationUsageOut(Schema):
    """Consumption as of today: given sessions of the indication inside the validity."""

    authorization_id: int
    status: AuthStatus  # an approval past its end reads "expired"
    units_approved: int | None
    units_used: Decimal
    units_left: Decimal | None
    visits_approved: int | None
    visits_used: int
    visits_left: int | None
    days_left: int | None
    plan_units: Decimal | None
    expiring: bool
    running_out: bool


class AuthorizationListItem(AuthorizationOut):
    units_used: Decimal
    visits_used: int


class AuthorizationPage(Schema):
    items: list[AuthorizationListItem]
    next_cursor: str | None


class AuthorizationIn(StrictSchema):
    patient_id: int = Field(gt=0, le=MAX_ID, strict=True)
    payer_name: Text(120, 1)  # type: ignore[valid-type]
    payer_id: Text(40) = ""  # type: ignore[valid-type]
    indication: Text(40, 1)  # type: ignore[valid-type]
    number: Text(60) = ""  # type: ignore[valid-type]
    status: AuthStatus = AuthStatus.REQUESTED
    units_approved: int | None = Field(default=None, ge=1, le=services.MAX_UNITS, strict=True)
    visits_approved: int | None = Field(default=None, ge=1, le=services.MAX_VISITS, strict=True)
    valid_from: IsoDate | None = None
    valid_until: IsoDate | None = None
    note: Text(1000) = ""  # type: ignore[valid-type]


class AuthorizationPatch(StrictSchema):
    payer_name: Text(120, 1) | None = None  # type: ignore[valid-type]
    payer_id: Text(40) | None = None  # type: ignore[valid-type]
    indication: Text(40, 1) | None = None  # type: ignore[valid-type]
    number: Text(60) | None = None  # type: ignore[valid-type]
    status: AuthStatus | None = None
    units_approved: int | None = Field(default=None, ge=1, le=services.MAX_UNITS, strict=True)
    visits_approved: int | None = Field(default=None, ge=1, le=services.MAX_VISITS, strict=True)
    valid_from: IsoDate | None = None
    valid_until: IsoDate | None = None
    note: Text(1000) | None = None  # type: ignore[valid-type]


class AuthorizationListQuery(StrictSchema):
    patient_id: Integer(1, MAX_ID) | None = None  # type: ignore[valid-type]
    show: Text(10) = "all"  # type: ignore[valid-type]
    cursor: Text(400) = ""  # type: ignore[valid-type]
    limit: Integer(1, 100, max_digits=6) = 50  # type: ignore[valid-type]


def _auth(request: ApiRequest, perm: str, auth_id: int) -> Authorization:
    scope = require_scope(request, perm)
    return get_object_or_404(
        Authorization.objects.in_scope(scope).select_related("patient", "patient__clinic"),
        pk=auth_id,
    )


@router.get(
    "/",
    response={200: AuthorizationPage, **ERRORS_WITHOUT_CONFLICT},
    summary="List authorizations (with units and visits used); show=attention for expiring or "
    "running out",
)
def list_authorizations(
    request: ApiRequest, filters: Query[AuthorizationListQuery]
) -> AuthorizationPage:
    scope = require_scope(request, Perm.AUTHORIZATION_VIEW)
    if filters.show not in ("all", "attention"):
        raise ValidationError({"show": ["Use all or attention."]})
    rows = Authorization.objects.in_scope(scope)
    if filters.patient_id is not None:
        rows = rows.filter(patient_id=filters.patient_id)
    qs = selectors.listing(rows, show=filters.show, today=timezone.localdate())
    try:
        page = keyset_page(
            qs, fields=selectors.LIST_ORDER, cursor=filters.cursor or None, size=filters.limit
        )
    except BadCursor as exc:
        raise ValidationError({"cursor": [str(exc)]}) from exc
    services.record_list_view(
        actor=request.user, practice_id=scope.practice_id, rows=len(page.items)
    )
    return AuthorizationPage(items=page.items, next_cursor=page.next_cursor)


@router.post(
    "/", response={201: AuthorizationOut, **ERRORS}, summary="Record a prior authorization"
)
def create_authorization(request: ApiRequest, payload: AuthorizationIn) -> Status[Authorization]:
    scope = require_scope(request, Perm.AUTHORIZATION_EDIT)
    data = payload.model_dump()
    patient = Patient.objects.in_scope(scope).filter(pk=data.pop("patient_id")).first()
    if patient is None:
        raise ValidationError({"patient_id": ["Choose a patient of your clinics."]})
    return Status(201, services.create_authorization(actor=request.user, patient=patient, **data))


@router.patch(
    "/{auth_id}", response={200: AuthorizationOut, **ERRORS}, summary="Update an authorization"
)
def update_authorization(
    request: ApiRequest, auth_id: int, payload: AuthorizationPatch
) -> Authorization:
    auth = _auth(request, Perm.AUTHORIZATION_EDIT, auth_id)
    data = payload.model_dump(exclude_unset=True)
    required = [k for k in ("payer_name", "indication", "status") if k in data and data[k] is None]
    if required:
        raise ValidationError({k: ["This field cannot be null."] for k in required})
    for k in ("payer_id", "number", "note"):
        if k in data and data[k] is None:
            data[k] = ""
    return services.update_authorization(actor=request.user, authorization=auth, **data)


@router.get(
    "/{auth_id}/consumption",
    response={200: AuthorizationUsageOut, **ERRORS_WITHOUT_CONFLICT},
    summary="Units and visits used and left, as of today",
)
def consumption(request: ApiRequest, auth_id: int) -> AuthorizationUsageOut:
    auth = _auth(request, Perm.AUTHORIZATION_VIEW, auth_id)
    tz = zoneinfo.ZoneInfo(auth.patient.clinic.time_zone)
    with timezone.override(tz):
        row = selectors.with_consumption(Authorization.objects.filter(pk=auth.pk)).get()
        plan = selectors.plan_units([(auth.patient_id, auth.indication)]).get(
            (auth.patient_id, auth.indication)
        )
        state = selectors.state_of(row, timezone.now().astimezone(tz).date(), plan)
    services.record_view(
        actor=request.user, patient=auth.patient, what=f"authorization {auth.pk} via API"
    )
    return AuthorizationUsageOut(
        authorization_id=auth.pk,
        status=AuthStatus(state.status),
        units_approved=auth.units_approved,
        units_used=state.units_used,
        units_left=state.units_left,
        visits_approved=auth.visits_approved,
        visits_used=state.visits_used,
        visits_left=state.visits_left,
        days_left=state.days_left,
        plan_units=plan,
        expiring=state.expiring,
        running_out=state.running_out,
    )


@router.get(
    "/{auth_id}/packets/{kind}.pdf",
    response={200: None, **ERRORS_WITHOUT_CONFLICT},
    summary="A payer packet as PDF (kind: initial or renewal)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The packet as a PDF file (application/pdf).",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def packet_pdf(request: ApiRequest, auth_id: int, kind: str) -> HttpResponse:
    auth = _auth(request, Perm.AUTHORIZATION_PACKET, auth_id)
    code = packet_views.KINDS.get(kind)
    if code is None:
        raise ValidationError({"kind": ["Use initial or renewal."]})
    built = packet_views.build_packet(auth, code)
    data = packet_views.render_pdf(built)
    services.record_view(
        actor=request.user,
        patient=auth.patient,
        what=f"{built.kind_label.lower()} PDF {auth.pk} via API",
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{kind}-packet-{auth.pk}.pdf"'
    return response
