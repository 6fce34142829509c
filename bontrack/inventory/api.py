"""Inventory API: stock on hand and alerts, lots, receiving, discarding a vial, shelf counts and the
clinic's low-stock level: the same services as the stock screen. (The lot trace and recall are
treatments operations: they read sessions.)"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from bontrack.accounts.requests import ApiRequest
from bontrack.accounts.roles import Perm
from bontrack.core.apitools import ERRORS, ERRORS_WITHOUT_CONFLICT, require_scope
from bontrack.core.schemas import MAX_ID, IsoDate, StrictSchema, Text
from bontrack.inventory import selectors, services
from bontrack.inventory.choices import VialSource, WasteReason
from bontrack.inventory.models import Lot, StockCount, Vial
from bontrack.patients.models import Patient

router = Router(tags=["inventory"])
RECENT_COUNTS = 50


class StockRowOut(Schema):
    clinic_id: int
    clinic: str
    lot_id: int
    product: str
    lot_number: str
    ndc: str
    expiry: date
    size_units: int
    recalled: bool
    in_stock: int
    reserved_for_patients: int
    open: int
    used: int
    discarded: int
    recalled_vials: int


class StockAlertOut(Schema):
    kind: str
    clinic: str
    message: str


class StockOut(Schema):
    rows: list[StockRowOut]
    alerts: list[StockAlertOut]


class InventoryLotOut(Schema):
    id: int
    product: str
    ndc: str
    lot_number: str
    expiry: date
    size_units: int
    recalled_at: datetime | None


class ReceiveIn(StrictSchema):
    clinic_id: int = Field(gt=0, le=MAX_ID, strict=True)
    ndc: Text(20, 1)  # type: ignore[valid-type]
    lot_number: Text(40, 1)  # type: ignore[valid-type]
    expiry: IsoDate
    size_units: int = Field(gt=0, le=10_000, strict=True)
    vials: int = Field(ge=1, le=services.MAX_VIALS_PER_RECEIPT, strict=True)
    source: VialSource = VialSource.CLINIC_STOCK
    patient_id: int | None = Field(default=None, gt=0, le=MAX_ID, strict=True)
    delivered_on: IsoDate | None = None
    cold_chain_ok: bool | None = Field(default=None, strict=True)


class InventoryVialOut(Schema):
    id: int
    lot_id: int
    clinic_id: int
    status: str
    source: str
    for_one_patient: bool
    units_wasted: str
    discard_reason_code: str
    discard_reason: str


class DiscardIn(StrictSchema):
    reason_code: WasteReason = WasteReason.OTHER
    reason: Text(300) = ""  # type: ignore[valid-type]


class CountIn(StrictSchema):
    clinic_id: int = Field(gt=0, le=MAX_ID, strict=True)
    lot_id: int = Field(gt=0, le=MAX_ID, strict=True)
    counted: int = Field(ge=0, le=100_000, strict=True)
    note: Text(500) = ""  # type: ignore[valid-type]


class CountOut(Schema):
    id: int
    clinic_id: int
    lot_id: int
    expected: int
    counted: int
    discrepancy: int
    note: str
    counted_at: datetime


class AlertLevelIn(StrictSchema):
    low_stock_vials: int = Field(ge=0, le=services.MAX_LOW_STOCK_VIALS, strict=True)


class AlertLevelOut(Schema):
    clinic_id: int
    low_stock_vials: int


def _lot_out(lot: Lot) -> dict[str, Any]:
    return {
        "id": lot.pk,
        "product": lot.product,
        "ndc": lot.ndc,
        "lot_number": lot.lot_number,
        "expiry": lot.expiry,
        "size_units": lot.size_units,
        "recalled_at": lot.recalled_at,
    }


def _vial_out(v: Vial) -> dict[str, Any]:
    return {
        "id": v.pk,
        "lot_id": v.lot_id,
        "clinic_id": v.clinic_id,
        "status": v.status,
        "source": v.source,
        "for_one_patient": v.patient_id is not None,
        "units_wasted": str(v.units_wasted),
        "discard_reason_code": v.discard_reason_code,
        "discard_reason": v.discard_reason,
    }


def _count_out(c: StockCount) -> dict[str, Any]:
    return {
        "id": c.pk,
        "clinic_id": c.clinic_id,
        "lot_id": c.lot_id,
        "expected": c.expected,
        "counted": c.counted,
        "discrepancy": c.discrepancy,
        "note": c.note,
        "counted_at": c.created_at,
    }


@router.get(
    "/stock",
    response={200: StockOut, **ERRORS_WITHOUT_CONFLICT},
    summary="Stock on hand per clinic, product and lot, with the low-stock and expiry alerts",
)
def stock(request: ApiRequest) -> dict[str, Any]:
    scope = require_scope(request, Perm.INVENTORY_VIEW)
    rows = selectors.on_hand(scope)
    return {
        "rows": [
            {
                "clinic_id": r["clinic_id"],
                "clinic": r["clinic__name"],
                "lot_id": r["lot_id"],
                "product": r["lot__product"],
                "lot_number": r["lot__lot_number"],
                "ndc": r["lot__ndc"],
                "expiry": r["lot__expiry"],
                "size_units": r["lot__size_units"],
                "recalled": r["lot__recalled_at"] is not None,
                "in_stock": r["in_stock"],
                "reserved_for_patients": r["reserved"],
                "open": r["open"],
                "used": r["used"],
                "discarded": r["discarded"],
                "recalled_vials": r["recalled"],
            }
            for r in rows
        ],
        "alerts": [vars(a) for a in selectors.alerts(scope, rows, timezone.localdate())],
    }


@router.get(
    "/lots/{lot_id}",
    response={200: InventoryLotOut, **ERRORS_WITHOUT_CONFLICT},
    summary="One lot of the practice",
)
def lot_detail(request: ApiRequest, lot_id: int) -> dict[str, Any]:
    scope = require_scope(request, Perm.INVENTORY_VIEW)
    return _lot_out(get_object_or_404(Lot.objects.in_scope(scope), pk=lot_id))


@router.post(
    "/receipts",
    response={201: InventoryLotOut, **ERRORS},
    summary="Receive vials: clinic stock, or a specialty-pharmacy shipment for one patient",
)
def receive(request: ApiRequest, payload: ReceiveIn) -> Status[dict[str, Any]]:
    scope = require_scope(request, Perm.INVENTORY_MANAGE)
    clinic = get_object_or_404(selectors.clinics_in(scope), pk=payload.clinic_id)
    patient = None
    if payload.patient_id is not None:
        patient = get_object_or_404(
            Patient.objects.in_scope(require_scope(request, Perm.PATIENT_VIEW)),
            pk=payload.patient_id,
        )
    lot = services.receive_lot(
        actor=request.user,
        clinic=clinic,
        ndc=payload.ndc,
        lot_number=payload.lot_number,
        expiry=payload.expiry,
        size_units=payload.size_units,
        vials=payload.vials,
        source=payload.source,
        patient=patient,
        delivered_on=payload.delivered_on,
        cold_chain_ok=payload.cold_chain_ok,
    )
    return Status(201, _lot_out(lot))


@router.get(
    "/vials/{vial_id}",
    response={200: InventoryVialOut, **ERRORS_WITHOUT_CONFLICT},
    summary="One vial: its status, source and any discard",
)
def vial_detail(request: ApiRequest, vial_id: int) -> dict[str, Any]:
    scope = require_scope(request, Perm.INVENTORY_VIEW)
    return _vial_out(get_object_or_404(Vial.objects.in_scope(scope), pk=vial_id))


@router.post(
    "/vials/{vial_id}/discard",
    response={200: InventoryVialOut, **ERRORS},
    summary="Discard a vial in stock with its reason (its units are recorded as waste)",
)
def discard(request: ApiRequest, vial_id: int, payload: DiscardIn) -> dict[str, Any]:
    scope = require_scope(request, Perm.INVENTORY_MANAGE)
    vial = get_object_or_404(Vial.objects.in_scope(scope), pk=vial_id)
    return _vial_out(
        services.discard_vial(
            actor=request.user, vial=vial, reason=payload.reason, reason_code=payload.reason_code
        )
    )


@router.get(
    "/counts",
    response={200: list[CountOut], **ERRORS_WITHOUT_CONFLICT},
    summary=f"The {RECENT_COUNTS} most recent shelf counts in the caller's clinics",
)
def counts(request: ApiRequest) -> list[dict[str, Any]]:
    scope = require_scope(request, Perm.INVENTORY_VIEW)
    return [
        _count_out(c)
        for c in StockCount.objects.in_scope(scope).order_by("-created_at", "-id")[:RECENT_COUNTS]
    ]


@router.post(
    "/counts",
    response={201: CountOut, **ERRORS},
    summary="Record a shelf count of one lot at one clinic (a difference needs a note)",
)
def record_count(request: ApiRequest, payload: CountIn) -> Status[dict[str, Any]]:
    scope = require_scope(request, Perm.INVENTORY_MANAGE)
    clinic = get_object_or_404(selectors.clinics_in(scope), pk=payload.clinic_id)
    lot = get_object_or_404(Lot.objects.in_scope(scope), pk=payload.lot_id)
    row = services.record_count(
        actor=request.user, clinic=clinic, lot=lot, counted=payload.counted, note=payload.note
    )
    return Status(201, _count_out(row))


@router.put(
    "/clinics/{clinic_id}/alert-level",
    response={200: AlertLevelOut, **ERRORS},
    summary="Set the clinic's low-stock alert level (clinic administrator)",
)
def alert_level(request: ApiRequest, clinic_id: int, payload: AlertLevelIn) -> dict[str, Any]:
    scope = require_scope(request, Perm.INVENTORY_CONFIGURE)
    clinic = get_object_or_404(selectors.clinics_in(scope), pk=clinic_id)
    row = services.set_low_stock_threshold(
        actor=request.user, clinic=clinic, low_stock_vials=payload.low_stock_vials
    )
    return {"clinic_id": clinic.pk, "low_stock_vials": row.low_stock_vials}
