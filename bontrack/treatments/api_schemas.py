"""Request and response schemas of the treatments API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from bontrack.core.schemas import MAX_ID, Dec, IsoDate, IsoDateTime, StrictSchema, Text
from bontrack.inventory.choices import ContactMethod
from bontrack.treatments.choices import (
    AdverseEffectKind,
    Guidance,
    InjectionStatus,
    ReviewDecision,
    Side,
)

# A site's dilution in units per 0.1 mL (sanity bound, charting.MAX_DILUTION).
Dilution = Field(default=None, gt=0, le=200, max_digits=6, decimal_places=2)


# ---- schemas -------------------------------------------------------------------------------------


class LineOut(Schema):
    muscle: str
    side: str
    sites: int
    units: Decimal
    follow_the_pain: bool


class PlanOut(Schema):
    id: int
    patient_id: int
    indication: str
    product: str
    active: bool
    based_on_id: int | None
    review_id: int | None
    note: str
    created_at: datetime
    ordered_by_id: int | None  # the physician whose signature makes the plan the order
    ordered_at: datetime | None
    lines: list[LineOut]


class InjectionOut(Schema):
    id: int
    indication: str
    muscle: str
    side: str
    sites: int
    units: Decimal
    status: str
    follow_the_pain: bool
    dilution: Decimal | None  # units per 0.1 mL; null: the session's vial as recorded
    guidance: str  # emg | estim | ultrasound | landmarks; "" when not recorded


class VialOut(Schema):
    id: int
    lot_number: str
    ndc: str
    expiry: date
    size_units: int
    diluent_ml: Decimal | None
    reconstituted_at: datetime | None
    units_used: Decimal
    units_wasted: Decimal
    status: str


class FindingOut(Schema):
    code: str
    rule_id: str
    severity: str
    message: str
    source: str
    confirmed: bool
    ack_by: str | None = Field(
        default=None, description='"physician": only a physician acknowledges it, with a reason'
    )


class DecisionOut(Schema):
    rule_id: str
    severity: str
    kind: str
    reason: str
    decided_by_id: int
    decided_at: datetime


class CosignReasonOut(Schema):
    kind: str  # indication | muscle | side | units | sites | warning
    message: str


class SessionOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    indication: str
    indications: list[str]
    product: str
    performed_at: datetime
    status: str  # draft | signed | awaiting (co-signature) | amended
    status_label: str
    plan_id: int | None
    amends_id: int | None
    amendment_reason: str
    consent_obtained: bool
    medication_guide_offered: bool
    diluent: str
    note: str
    signed_at: datetime | None
    signed_by_id: int | None
    cosign_reasons: list[CosignReasonOut]
    cosigned_at: datetime | None
    cosigned_by_id: int | None
    rule_set: str
    next_due: date | None
    injections: list[InjectionOut]
    vials: list[VialOut]
    findings: list[FindingOut]
    totals: dict[str, Any]
    decisions: list[DecisionOut]


class SessionPage(Schema):
    items: list[SessionOut]
    next_cursor: str | None = None


class AdverseEffectOut(Schema):
    id: int
    patient_id: int
    session_id: int
    kind: str
    detail: str
    status: str
    reported_at: datetime
    reported_by: str
    resolved_at: datetime | None
    resolution: str
    # A symptom of distant spread (BTX-SPREAD-URGENT-SYMPTOMS): same-day physician review.
    urgent: bool
    urgent_reviewed_at: datetime | None


class ReviewOut(Schema):
    id: int
    patient_id: int
    decision: str
    reason: str
    adjustments: list[dict[str, Any]]
    cycles: int
    as_of: date
    response_rule_set: str
    rule_set: str
    recommendation: str
    result: dict[str, Any]
    reviewed_by_id: int
    reviewed_at: datetime


class LineIn(StrictSchema):
    muscle: Text(60, 1)  # type: ignore[valid-type]
    side: Side
    sites: int = Field(default=1, ge=1, le=100, strict=True)
    units: Dec | None = Field(default=None, gt=0, le=1000, max_digits=7, decimal_places=2)


class PlanIn(StrictSchema):
    additions: list[LineIn] = Field(default_factory=list, max_length=20)
    note: Text(1000) = ""  # type: ignore[valid-type]


class SessionIn(StrictSchema):
    performed_at: IsoDateTime | None = None
    # Indication codes (clinic_rules); the patient's treated indications when left out.
    indications: list[Text(40, 1)] | None = Field(default=None, max_length=5)  # type: ignore[valid-type]
    # A template code per indication (the protocol's templates; a fixed protocol's active plan
    # when left out).
    templates: dict[Text(40, 1), Text(60, 1)] = Field(default_factory=dict, max_length=5)  # type: ignore[valid-type]


class SessionPatch(StrictSchema):
    performed_at: IsoDateTime | None = None
    consent_obtained: bool | None = None
    medication_guide_offered: bool | None = None
    note: Text(4000) | None = None  # type: ignore[valid-type]
    override_reason: Text(1000) = ""  # type: ignore[valid-type]


class InjectionPatch(StrictSchema):
    units: Dec | None = Field(default=None, gt=0, le=1000, max_digits=7, decimal_places=2)
    status: InjectionStatus | None = None
    sites: int | None = Field(default=None, ge=1, le=100, strict=True)
    # null clears the dilution; left out keeps it.
    dilution: Dec | None = Dilution
    guidance: Guidance | None = None
    override_reason: Text(1000) = ""  # type: ignore[valid-type]


class InjectionIn(StrictSchema):
    # One of the session's indications (its first when left out).
    indication: Text(40, 1) | None = None  # type: ignore[valid-type]
    muscle: Text(60, 1)  # type: ignore[valid-type]
    side: Side
    sites: int = Field(default=1, ge=1, le=100, strict=True)
    units: Dec | None = Field(default=None, gt=0, le=1000, max_digits=7, decimal_places=2)
    dilution: Dec | None = Dilution
    guidance: Guidance | None = None
    override_reason: Text(1000) = ""  # type: ignore[valid-type]


class VialIn(StrictSchema):
    vial_id: int = Field(gt=0, le=MAX_ID, strict=True)
    diluent_ml: Dec = Field(gt=0, le=100, max_digits=5, decimal_places=2)
    reconstituted_at: IsoDateTime
    override_reason: Text(1000) = ""  # type: ignore[valid-type]


class DecisionIn(StrictSchema):
    rule_id: Text(60, 1)  # type: ignore[valid-type]
    reason: Text(1000) = ""  # type: ignore[valid-type]


class AmendIn(StrictSchema):
    reason: Text(1000, 1)  # type: ignore[valid-type]


class AdverseEffectIn(StrictSchema):
    kind: AdverseEffectKind
    detail: Text(2000) = ""  # type: ignore[valid-type]


class ResolveIn(StrictSchema):
    resolution: Text(1000) = ""  # type: ignore[valid-type]


class AdjustmentIn(StrictSchema):
    muscle: Text(60, 1)  # type: ignore[valid-type]
    side: Side
    sites: int = Field(ge=0, le=100, strict=True)
    units: Dec = Field(ge=0, le=1000, max_digits=7, decimal_places=2)


class ReviewIn(StrictSchema):
    decision: ReviewDecision
    reason: Text(2000) = ""  # type: ignore[valid-type]
    adjustments: list[AdjustmentIn] = Field(default_factory=list, max_length=20)
    as_of: IsoDate | None = None


class CosignItemOut(Schema):
    """A session awaiting a physician's co-signature, with why."""

    id: int
    patient_id: int
    patient_name: str
    mrn: str
    clinic_id: int
    performed_at: datetime
    signed_at: datetime
    signed_by_id: int
    signed_by_name: str
    ordered_by_id: int | None
    units_given: Decimal
    reasons: list[CosignReasonOut]


class CosignPage(Schema):
    items: list[CosignItemOut]
    next_cursor: str | None = None


class TraceSiteOut(Schema):
    muscle: str
    side: str
    sites: int
    units: Decimal


class TraceVialOut(Schema):
    vial_id: int
    lot_number: str
    size_units: int
    units_used: Decimal
    units_wasted: Decimal
    this_lot: bool


class TraceSessionOut(Schema):
    id: int
    performed_at: datetime
    status: str
    clinic: str
    units_from_lot: Decimal
    vials: list[TraceVialOut]
    sites: list[TraceSiteOut]


class TraceEffectOut(Schema):
    kind: str
    status: str
    reported_at: datetime
    urgent: bool


class TraceContactOut(Schema):
    method: str
    note: str
    contacted_at: datetime
    contacted_by: str


class TracePatientOut(Schema):
    id: int
    name: str
    mrn: str
    phone: str
    email: str
    first_exposure: datetime
    sessions: list[TraceSessionOut]
    adverse_effects: list[TraceEffectOut]
    contacts: list[TraceContactOut]


class LotTraceOut(Schema):
    lot_id: int
    lot_number: str
    ndc: str
    expiry: date
    recalled_at: datetime | None
    patients: list[TracePatientOut]


class RecallIn(StrictSchema):
    reason: Text(500, 1)  # type: ignore[valid-type]
    confirm: bool = Field(strict=True)


class LotRecallOut(Schema):
    lot_id: int
    recalled_at: datetime
    vials_blocked: int


class RecallContactIn(StrictSchema):
    patient_id: int = Field(gt=0, le=MAX_ID, strict=True)
    method: ContactMethod
    note: Text(500) = ""  # type: ignore[valid-type]
