"""Claims API: list and read claims, edit a line with a reason, export a batch (its 837P and CSV
as downloads), mark paid or denied. The same actions and audit rows as the billing screens."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.claims import selectors
from bontrack.claims.actions import payer, review
from bontrack.claims.actions.export import export_batch
from bontrack.claims.choices import QUEUE_STATES
from bontrack.claims.codes import parse_modifiers
from bontrack.claims.models import Claim, ClaimBatch
from bontrack.core.apitools import ERRORS, ERRORS_WITHOUT_CONFLICT, require_scope
from bontrack.core.pagination import BadCursor
from bontrack.core.schemas import Id, Number, StrictSchema, Text

router = Router(tags=["claims"])


class ClaimLineOut(Schema):
    id: int
    position: int
    code: str
    modifiers: list[str]
    units: Decimal
    icd10: list[str]
    pointers: list[int]
    charge: Decimal
    ndc: str
    ndc_qualifier: str
    ndc_unit: str
    ndc_quantity: Decimal | None
    rule_id: str
    edited: bool


class ClaimOut(Schema):
    id: int
    number: str
    session_id: int
    patient_id: int
    clinic_id: int
    service_date: date
    status: str
    attention: list[str]
    diagnoses: list[str]
    indications: list[str]
    guidance: str
    rule_set: str
    findings: list[dict[str, Any]]
    totals: dict[str, Any]
    batch_id: int | None
    paid_amount: Decimal | None
    denial_reason: str
    lines: list[ClaimLineOut]


class ClaimSummaryOut(Schema):
    id: int
    number: str
    patient_id: int
    clinic_id: int
    service_date: date
    status: str
    attention: list[str]
    batch_id: int | None


class ClaimPageOut(Schema):
    items: list[ClaimSummaryOut]
    counts: dict[str, int]
    next_cursor: str | None


class ClaimLineEditIn(StrictSchema):
    reason: Text(500, 1)  # type: ignore[valid-type]
    code: Text(5, 5) | None = None  # type: ignore[valid-type]
    modifiers: list[Text(2, 2)] | None = Field(None, max_length=4)  # type: ignore[valid-type]
    units: Number(gt=0, whole_digits=6) | None = None  # type: ignore[valid-type]
    icd10: list[Text(8, 3)] | None = Field(None, max_length=4)  # type: ignore[valid-type]
    charge: Number(ge=0, whole_digits=8) | None = None  # type: ignore[valid-type]


class ClaimBatchIn(StrictSchema):
    clinic_id: Id | None = None  # type: ignore[valid-type]


class ClaimBatchOut(Schema):
    id: int
    claim_count: int
    total_charge: Decimal
    claim_ids: list[int]
    x12_errors: list[str]


class ClaimPaidIn(StrictSchema):
    paid_amount: Number(ge=0, whole_digits=8) | None = None  # type: ignore[valid-type]


class ClaimDeniedIn(StrictSchema):
    denial_reason: Text(500, 1)  # type: ignore[valid-type]


def _claim(request: HttpRequest, perm: str, claim_id: int) -> Claim:
    scope = require_scope(request, perm)
    return get_object_or_404(
        Claim.objects.in_scope(scope).select_related("patient", "clinic", "session"), pk=claim_id
    )


def _out(claim: Claim) -> dict[str, Any]:
    dx = list(claim.diagnoses)
    return {
        "id": claim.pk,
        "number": claim.number,
        "session_id": claim.session_id,
        "patient_id": claim.patient_id,
        "clinic_id": claim.clinic_id,
        "service_date": claim.service_date,
        "status": claim.status,
        "attention": claim.attention,
        "diagnoses": dx,
        "indications": claim.indications,
        "guidance": claim.guidance,
        "rule_set": claim.rule_set,
        "findings": claim.findings,
        "totals": claim.totals,
        "batch_id": claim.batch_id,
        "paid_amount": claim.paid_amount,
        "denial_reason": claim.denial_reason,
        "lines": [
            {
                "id": x.pk,
                "position": x.position,
                "code": x.code,
                "modifiers": x.modifiers,
                "units": x.units,
                "icd10": x.icd10,
                "pointers": [dx.index(c) + 1 for c in x.icd10 if c in dx],
                "charge": x.charge,
                "ndc": x.ndc,
                "ndc_qualifier": x.ndc_qualifier,
                "ndc_unit": x.ndc_unit,
                "ndc_quantity": x.ndc_quantity,
                "rule_id": x.rule_id,
                "edited": x.edited,
            }
            for x in claim.lines.all()
        ],
    }


def _viewed(request: HttpRequest, claim: Claim) -> None:
    audit.record(
        actor=request.user,
        action="view",
        obj=claim,
        patient_id=claim.patient_id,
        practice_id=claim.clinic.practice_id,
        summary=f"Viewed claim {claim.pk} via API",
    )


@router.get(
    "/",
    response={200: ClaimPageOut, **ERRORS_WITHOUT_CONFLICT},
    summary="Claims of one queue state, newest service first, with the counts per state",
)
def list_claims(
    request: HttpRequest,
    state: str = "ready",
    clinic_id: Id | None = None,  # type: ignore[valid-type]
    cursor: str | None = None,
) -> dict[str, Any]:
    scope = require_scope(request, Perm.CLAIM_VIEW)
    if state not in {s.value for s in QUEUE_STATES}:
        raise ValidationError(
            {"state": ["One of: " + ", ".join(s.value for s in QUEUE_STATES) + "."]}
        )
    if clinic_id is not None and not scope.allows_clinic(clinic_id):
        raise HttpError(404, "No such clinic.")
    f = selectors.QueueFilters(state=state, clinic_id=clinic_id)
    try:
        page = selectors.queue(scope, f, cursor)
    except BadCursor as exc:
        raise ValidationError({"cursor": [str(exc)]}) from exc
    audit.record(
        actor=request.user,
        action="view",
        object_type="claims.queue",
        practice_id=scope.practice_id,
        summary=f"Listed {len(page.items)} {state} claims via API",
    )
    return {
        "items": [
            {
                "id": c.pk,
                "number": c.number,
                "patient_id": c.patient_id,
                "clinic_id": c.clinic_id,
                "service_date": c.service_date,
                "status": c.status,
                "attention": c.attention,
                "batch_id": c.batch_id,
            }
            for c in page.items
        ],
        "counts": selectors.counts(scope, f),
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/{int:claim_id}",
    response={200: ClaimOut, **ERRORS_WITHOUT_CONFLICT},
    summary="One claim with its lines",
)
def get_claim(request: HttpRequest, claim_id: int) -> dict[str, Any]:
    claim = _claim(request, Perm.CLAIM_VIEW, claim_id)
    _viewed(request, claim)
    return _out(claim)


@router.post(
    "/{int:claim_id}/lines/{int:line_id}",
    response={200: ClaimOut, **ERRORS},
    summary="Edit a claim line (code, modifiers, units, diagnoses, charge) with a mandatory reason",
)
def edit_line(
    request: HttpRequest, claim_id: int, line_id: int, payload: ClaimLineEditIn
) -> dict[str, Any]:
    claim = _claim(request, Perm.CLAIM_EDIT, claim_id)
    modifiers = None
    if payload.modifiers is not None:
        try:
            modifiers = parse_modifiers(" ".join(payload.modifiers))
        except ValueError as exc:
            raise ValidationError({"modifiers": [str(exc)]}) from exc
    review.edit_line(
        actor=request.user,  # type: ignore[arg-type]
        claim=claim,
        line_id=line_id,
        reason=payload.reason,
        code=payload.code.upper() if payload.code else None,
        modifiers=modifiers,
        units=payload.units,
        icd10=[c.upper() for c in payload.icd10] if payload.icd10 is not None else None,
        charge=payload.charge,
    )
    claim.refresh_from_db()
    return _out(claim)


@router.post(
    "/batches",
    response={201: ClaimBatchOut, **ERRORS},
    summary="Export every ready claim in scope (or one clinic's) as a batch: 837P and CSV",
)
def create_batch(request: HttpRequest, payload: ClaimBatchIn) -> Status[dict[str, Any]]:
    require_scope(request, Perm.CLAIM_EXPORT)
    batch = export_batch(actor=request.user, clinic_id=payload.clinic_id)  # type: ignore[arg-type]
    return Status(
        201,
        {
            "id": batch.pk,
            "claim_count": batch.claim_count,
            "total_charge": batch.total_charge,
            "claim_ids": list(batch.claims.values_list("pk", flat=True)),
            "x12_errors": batch.x12_errors,
        },
    )


def _batch(request: HttpRequest, batch_id: int) -> ClaimBatch:
    scope = require_scope(request, Perm.CLAIM_VIEW)
    return get_object_or_404(ClaimBatch.objects.in_scope(scope), pk=batch_id)


def _file(
    request: HttpRequest, batch: ClaimBatch, what: str, body: str, ctype: str, name: str
) -> HttpResponse:
    audit.record(
        actor=request.user,
        action="export",
        obj=batch,
        practice_id=batch.practice_id,
        summary=f"Downloaded the {what} of batch {batch.pk} via API",
    )
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/batches/{int:batch_id}/837p",
    response={200: str, **ERRORS_WITHOUT_CONFLICT},
    summary="The batch's X12 5010 837P file as sent",
    openapi_extra={
        "responses": {
            200: {
                "description": "The 837P interchange (application/edi-x12).",
                "content": {"application/edi-x12": {"schema": {"type": "string"}}},
            }
        }
    },
)
def batch_837p(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    return _file(
        request,
        batch,
        "837P file",
        batch.x12_text,
        "application/edi-x12",
        f"claims-batch-{batch.pk}-837p.x12",
    )


@router.get(
    "/batches/{int:batch_id}/csv",
    response={200: str, **ERRORS_WITHOUT_CONFLICT},
    summary="The batch's claim lines as CSV",
    openapi_extra={
        "responses": {
            200: {
                "description": "The batch as a CSV file (text/csv).",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def batch_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    return _file(request, batch, "CSV", batch.csv_text, "text/csv", f"claims-batch-{batch.pk}.csv")


@router.post(
    "/{int:claim_id}/paid",
    response={200: ClaimOut, **ERRORS},
    summary="Mark an exported claim paid",
)
def mark_paid(request: HttpRequest, claim_id: int, payload: ClaimPaidIn) -> dict[str, Any]:
    claim = _claim(request, Perm.CLAIM_EXPORT, claim_id)
    payer.mark_paid(actor=request.user, claim=claim, amount=payload.paid_amount)  # type: ignore[arg-type]
    claim.refresh_from_db()
    return _out(claim)


@router.post(
    "/{int:claim_id}/denied",
    response={200: ClaimOut, **ERRORS},
    summary="Mark an exported claim denied, with the payer's reason",
)
def mark_denied(request: HttpRequest, claim_id: int, payload: ClaimDeniedIn) -> dict[str, Any]:
    claim = _claim(request, Perm.CLAIM_EXPORT, claim_id)
    payer.mark_denied(actor=request.user, claim=claim, reason=payload.denial_reason)  # type: ignore[arg-type]
    claim.refresh_from_db()
    return _out(claim)
