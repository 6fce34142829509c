"""The pathway data of every indication (issue 10) through the API: plans of every indication,
outcome scale scores per scale and cycle, the cycle figures, reviews, adjustment suggestions and
the clinic-defined protocols; writes call the same actions as the staff screens (recording a
scale score, refreshing and deciding suggestions, a physician signing a plan).

The operations join the treatments router (``bontrack/api.py`` mounts this module's ``router``,
which is ``treatments.api.router``): a path shared with an existing operation (``plans``) must
live in one router.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import Field, StrictInt

from bontrack.accounts.requests import ApiRequest
from bontrack.accounts.roles import Perm
from bontrack.core.apitools import ERRORS, ERRORS_WITHOUT_CONFLICT, require_scope
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.core.schemas import IsoDate, StrictSchema, Text
from bontrack.patients.models import Patient
from bontrack.treatments import facts, scale_selectors
from bontrack.treatments.actions import common
from bontrack.treatments.actions import cycle_review as review_actions
from bontrack.treatments.actions import orders as orders_actions
from bontrack.treatments.actions import scales as scale_actions
from bontrack.treatments.api import MAX_PAGE, router
from bontrack.treatments.facts import scales as scale_facts
from bontrack.treatments.models import (
    AdjustmentSuggestion,
    ClinicProtocol,
    Injection,
    ResponseReview,
    ScaleEntry,
    TreatmentPlan,
    TreatmentSession,
)
from bontrack.treatments.scale_models import SuggestionStatus

__all__ = ["router"]

# ---- schemas (names unique across apps: django-ninja keeps one of two same-named classes) ------


class PathwayWeightOut(Schema):
    """The weight that counts today: the last measured on or before today."""

    kg: Decimal | None
    measured_on: date | None
    pediatric: bool = Field(description="a child: the per-kg limits apply")
    current: bool = Field(description="measured recently enough for the per-kg limits")
    needs_measurement: bool = Field(description="a child whose weight is missing or too old")


class PathwayPlanLineOut(Schema):
    muscle: str
    muscle_label: str
    side: str
    sites: int
    units: Decimal
    per_kg: Decimal | None = Field(description="U/kg for a child whose weight counts, else null")
    follow_the_pain: bool


class PathwayPlanOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    indication: str
    indication_label: str
    product: str
    active: bool
    off_label: bool = Field(description="a clinic-defined protocol the label does not cover")
    clinic_protocol_id: int | None
    clinic_protocol_name: str
    based_on_id: int | None
    review_id: int | None
    note: str
    created_at: datetime
    ordered: bool = Field(description="signed by a physician: the plan is the order")
    ordered_by_id: int | None
    ordered_at: datetime | None
    total_units: Decimal
    total_sites: int
    total_per_kg: Decimal | None
    lines: list[PathwayPlanLineOut]


class PathwayPlanPage(Schema):
    items: list[PathwayPlanOut]
    weight: PathwayWeightOut
    next_cursor: str | None = None


class ScaleEntryOut(Schema):
    id: int
    patient_id: int
    indication: str
    instrument: str
    instrument_label: str
    taken_on: date
    cycle: int = Field(
        description="0 before the first given session of the indication (baseline); n after "
        "the n-th and up to the day of the next"
    )
    score: Decimal | None = Field(description="the total where the scale has one")
    advisory: bool = Field(description="goal attainment T-scores are advisory")
    answers: dict[str, Any]
    result: dict[str, Any]
    rule_set: str
    entered_by_patient: bool
    entered_by_id: int | None
    created_at: datetime


class ScaleEntryPage(Schema):
    items: list[ScaleEntryOut]
    next_cursor: str | None = None


class MasRowIn(StrictSchema):
    muscle: Text(60, 1)  # type: ignore[valid-type]
    side: Literal["left", "right", "midline"]
    grade: Text(4, 1)  # type: ignore[valid-type]


class GasGoalIn(StrictSchema):
    goal: Text(300, 1)  # type: ignore[valid-type]
    weight: StrictInt = Field(ge=0, le=999)
    level: StrictInt = Field(ge=-999, le=999)


class ScaleEntryIn(StrictSchema):
    """One rating. ``ratings`` holds the scales with numbered items (TWSTRS severity, disability,
    pain; Tsui; Jankovic; BDI items; pain ``score``); ``entries`` the Modified Ashworth rows;
    ``goals`` the goal attainment goals. Item names and ranges: ``GET /api/v1/rules``."""

    indication: Text(40, 1)  # type: ignore[valid-type]
    instrument: Text(12, 1)  # type: ignore[valid-type]
    taken_on: IsoDate = Field(description="not in the future")
    ratings: dict[Text(40, 1), StrictInt] = Field(default_factory=dict, max_length=20)  # type: ignore[valid-type]
    entries: list[MasRowIn] = Field(default_factory=list, max_length=40)
    goals: list[GasGoalIn] = Field(default_factory=list, max_length=20)


class PathwayCycleOut(Schema):
    cycle: int
    session_id: int
    session_date: date
    wearing_off: date | None
    effect_days: int | None
    effect_weeks: float | None
    adverse_effects: list[str]


class ScaleFiguresOut(Schema):
    patient_id: int
    indication: str
    indication_label: str
    as_of: date
    instruments: list[str]
    patient_reported: dict[str, list[str]]
    review_after_cycles: int
    review_due: bool
    rule_set: str
    cycles: list[PathwayCycleOut]
    measures: list[dict[str, Any]] = Field(
        description="clinic_rules cycle-review: per scale and measure, the baseline and each "
        "cycle's value and change"
    )
    slots: list[dict[str, Any]] = Field(
        description="clinic_rules scale-schedule: each scale before the session and at the "
        "review, with its window and status"
    )


class CycleReviewOut(Schema):
    id: int
    patient_id: int
    indication: str
    indication_label: str
    decision: str
    reason: str
    adjustments: list[dict[str, Any]]
    cycles: int
    as_of: date
    response_rule_set: str
    rule_set: str
    result: dict[str, Any]
    reviewed_by_id: int
    reviewed_at: datetime
    plan_ids: list[int] = Field(description="the next plans this review wrote")


class CycleReviewPage(Schema):
    items: list[CycleReviewOut]
    next_cursor: str | None = None


class SuggestionOut(Schema):
    id: int
    patient_id: int
    indication: str
    indication_label: str
    session_id: int
    rule_id: str
    title: str
    reason: str
    note: str
    source: str
    confirmed: bool
    advisory: bool = Field(description="from an unconfirmed rule: advisory only")
    adjustments: list[dict[str, Any]]
    status: str
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    plan_id: int | None = Field(description="the plan an accepted suggestion wrote")
    created_at: datetime


class SuggestionPage(Schema):
    items: list[SuggestionOut]
    next_cursor: str | None = None


class SuggestionRefreshIn(StrictSchema):
    indication: Text(40, 1)  # type: ignore[valid-type]


class SuggestionDecisionIn(StrictSchema):
    decision: Literal["accept", "reject"]
    note: Text(1000) = Field(default="", description="required to reject")  # type: ignore[valid-type]


class ClinicProtocolLineOut(Schema):
    muscle: str
    muscle_label: str
    side: str
    sites: int
    units: Decimal


class ClinicProtocolOut(Schema):
    id: int
    clinic_id: int
    name: str
    condition: str
    rationale: str
    indication: str
    outcome_instrument: str
    off_label: bool
    active: bool
    created_by_id: int
    created_at: datetime
    updated_at: datetime
    total_units: Decimal
    total_sites: int
    lines: list[ClinicProtocolLineOut]


class ClinicProtocolPage(Schema):
    items: list[ClinicProtocolOut]
    next_cursor: str | None = None


# ---- helpers -------------------------------------------------------------------------------------


def _patient(request: ApiRequest, perm: str, patient_id: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(require_scope(request, perm)), pk=patient_id)


def _size(size: int) -> None:
    if not 1 <= size <= MAX_PAGE:
        raise ValidationError({"size": [f"Ask for 1 to {MAX_PAGE} rows."]})


def _page(qs: Any, fields: tuple[str, ...], cursor: str | None, size: int) -> Any:
    try:
        return keyset_page(qs, fields=fields, cursor=cursor, size=size, descending=True)
    except BadCursor as exc:
        raise ValidationError({"cursor": [str(exc)]}) from exc


def _indication_filter(indication: str | None, known: tuple[str, ...]) -> None:
    if indication is not None and indication not in known:
        raise ValidationError({"indication": ["Not a known indication code."]})


def _weight_out(weight: facts.Weight) -> dict[str, Any]:
    return {
        "kg": weight.kg,
        "measured_on": weight.measured_on,
        "pediatric": weight.pediatric,
        "current": weight.current,
        "needs_measurement": weight.needs_measurement,
    }


def _plan_out(plan: TreatmentPlan, weight: facts.Weight) -> dict[str, Any]:
    labels = facts.muscle_labels()
    lines = list(plan.lines.all())
    total = sum((ln.units for ln in lines), Decimal(0))
    child = weight.pediatric
    protocol = plan.clinic_protocol
    return {
        **{f: getattr(plan, f) for f in ("id", "patient_id", "clinic_id", "indication")},
        **{f: getattr(plan, f) for f in ("product", "active", "based_on_id", "review_id")},
        "indication_label": facts.indication_label(plan.indication),
        "off_label": protocol is not None or facts.is_off_label(plan.indication),
        "clinic_protocol_id": plan.clinic_protocol_id,
        "clinic_protocol_name": protocol.name if protocol is not None else "",
        "note": plan.note,
        "created_at": plan.created_at,
        "ordered": plan.is_ordered,
        "ordered_by_id": plan.ordered_by_id,
        "ordered_at": plan.ordered_at,
        "total_units": total,
        "total_sites": sum(ln.sites for ln in lines),
        "total_per_kg": weight.per_kg(total) if child else None,
        "lines": [
            {
                "muscle": ln.muscle,
                "muscle_label": labels.get(ln.muscle, ln.muscle),
                "side": ln.side,
                "sites": ln.sites,
                "units": ln.units,
                "per_kg": weight.per_kg(ln.units) if child else None,
                "follow_the_pain": ln.follow_the_pain,
            }
            for ln in lines
        ],
    }


def _session_days(patient: Patient) -> dict[str, list[date]]:
    """Indication -> the days of its given sessions, oldest first (two queries)."""
    given = TreatmentSession.objects.current().filter(patient=patient)
    pairs: dict[tuple[str, int], datetime] = {}
    for pk, performed, indication in given.values_list("pk", "performed_at", "indication"):
        pairs[(indication, pk)] = performed
    for pk, performed, indication in (
        Injection.objects.filter(session__in=given)
        .values_list("session_id", "session__performed_at", "indication")
        .distinct()
    ):
        pairs[(indication, pk)] = performed
    out: dict[str, list[date]] = defaultdict(list)
    for (indication, _), performed in pairs.items():
        out[indication].append(timezone.localtime(performed).date())
    return {k: sorted(v) for k, v in out.items()}


def _entry_out(entry: ScaleEntry, days: dict[str, list[date]]) -> dict[str, Any]:
    return {
        **{f: getattr(entry, f) for f in ("id", "patient_id", "indication", "instrument")},
        **{f: getattr(entry, f) for f in ("taken_on", "score", "answers", "result", "rule_set")},
        "instrument_label": scale_facts.LABELS.get(entry.instrument, entry.instrument),
        # A rating on a session's day is that session's "before" rating (clinic_rules windows).
        "cycle": sum(1 for d in days.get(entry.indication, []) if d < entry.taken_on),
        "advisory": entry.instrument == "gas",
        "entered_by_patient": entry.entered_by_patient,
        "entered_by_id": entry.entered_by_id,
        "created_at": entry.created_at,
    }


def _review_out(review: ResponseReview) -> dict[str, Any]:
    return {
        **{f: getattr(review, f) for f in ("id", "patient_id", "indication", "decision")},
        **{f: getattr(review, f) for f in ("reason", "adjustments", "cycles", "as_of")},
        **{f: getattr(review, f) for f in ("response_rule_set", "rule_set", "result")},
        "indication_label": facts.indication_label(review.indication),
        "reviewed_by_id": review.reviewed_by_id,
        "reviewed_at": review.reviewed_at,
        "plan_ids": [p.pk for p in review.plans.all()],
    }


def _suggestion_out(s: AdjustmentSuggestion) -> dict[str, Any]:
    return {
        **{f: getattr(s, f) for f in ("id", "patient_id", "indication", "session_id", "rule_id")},
        **{f: getattr(s, f) for f in ("title", "reason", "note", "source", "confirmed")},
        **{f: getattr(s, f) for f in ("adjustments", "status", "decided_by_id", "decided_at")},
        "indication_label": facts.indication_label(s.indication),
        "advisory": not s.confirmed,
        "decision_note": s.decision_note,
        "plan_id": s.plan_id,
        "created_at": s.created_at,
    }


def _protocol_out(p: ClinicProtocol) -> dict[str, Any]:
    labels = facts.muscle_labels()
    lines = list(p.lines.all())
    return {
        **{f: getattr(p, f) for f in ("id", "clinic_id", "name", "condition", "rationale")},
        **{f: getattr(p, f) for f in ("indication", "outcome_instrument", "active")},
        **{f: getattr(p, f) for f in ("created_by_id", "created_at", "updated_at")},
        "off_label": True,
        "total_units": sum((ln.units for ln in lines), Decimal(0)),
        "total_sites": sum(ln.sites for ln in lines),
        "lines": [
            {
                "muscle": ln.muscle,
                "muscle_label": labels.get(ln.muscle, ln.muscle),
                "side": ln.side,
                "sites": ln.sites,
                "units": ln.units,
            }
            for ln in lines
        ],
    }


# ---- plans of every indication -------------------------------------------------------------------


def _plans() -> Any:
    return TreatmentPlan.objects.select_related("clinic_protocol").prefetch_related("lines")


@router.get(
    "/patients/{patient_id}/plans",
    response={200: PathwayPlanPage, **ERRORS_WITHOUT_CONFLICT},
    summary="The patient's plans of every indication, newest first (sites per muscle and side, "
    "units, U/kg for a child); `active=true` for the current ones",
)
def list_plans(
    request: ApiRequest,
    patient_id: int,
    indication: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    size: int = 20,
) -> dict[str, Any]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    _size(size)
    _indication_filter(indication, facts.indication_codes())
    qs = _plans().filter(patient=patient)
    if indication is not None:
        qs = qs.filter(indication=indication)
    if active is not None:
        qs = qs.filter(active=active)
    page = _page(qs, ("created_at", "id"), cursor, size)
    weight = facts.weight_on(patient, timezone.localdate())
    common.record_view(actor=request.user, patient=patient, what="treatment plans via API")
    return {
        "items": [_plan_out(p, weight) for p in page.items],
        "weight": _weight_out(weight),
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/plans/{plan_id}/sign",
    response={200: PathwayPlanOut, **ERRORS},
    summary="A physician signs a plan saved by someone else: it becomes the order",
)
def sign_plan(request: ApiRequest, plan_id: int) -> dict[str, Any]:
    scope = require_scope(request, Perm.SESSION_COSIGN)
    plan = get_object_or_404(TreatmentPlan.objects.in_scope(scope), pk=plan_id)
    orders_actions.sign_plan(actor=request.user, plan=plan)
    signed = _plans().select_related("patient").get(pk=plan.pk)
    return _plan_out(signed, facts.weight_on(signed.patient, timezone.localdate()))


# ---- outcome scales ------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/scale-entries",
    response={200: ScaleEntryPage, **ERRORS_WITHOUT_CONFLICT},
    summary="The patient's outcome scale scores, newest first, each with its cycle; filter by "
    "`indication` and `instrument`",
)
def list_scale_entries(
    request: ApiRequest,
    patient_id: int,
    indication: str | None = None,
    instrument: str | None = None,
    cursor: str | None = None,
    size: int = 20,
) -> dict[str, Any]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    _size(size)
    _indication_filter(indication, scale_facts.scale_indications())
    if instrument is not None and instrument not in scale_facts.LABELS:
        raise ValidationError({"instrument": ["Not a known scale."]})
    qs = ScaleEntry.objects.filter(patient=patient)
    if indication is not None:
        qs = qs.filter(indication=indication)
    if instrument is not None:
        qs = qs.filter(instrument=instrument)
    page = _page(qs, ("taken_on", "id"), cursor, size)
    days = _session_days(patient) if page.items else {}
    common.record_view(actor=request.user, patient=patient, what="outcome scales via API")
    return {"items": [_entry_out(e, days) for e in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/patients/{patient_id}/scale-entries",
    response={201: ScaleEntryOut, **ERRORS},
    summary="Record an outcome scale score (scored by clinic_rules), then refresh the "
    "indication's adjustment suggestions, as the staff screen does",
)
def record_scale_entry(
    request: ApiRequest, patient_id: int, payload: ScaleEntryIn
) -> Status[dict[str, Any]]:
    patient = _patient(request, Perm.SESSION_CHART, patient_id)
    if payload.indication not in scale_facts.scale_indications():
        raise ValidationError({"indication": ["This condition has no outcome scales."]})
    if payload.instrument == "mas":
        answers: dict[str, Any] = {"entries": [e.model_dump() for e in payload.entries]}
    elif payload.instrument == "gas":
        answers = {"goals": [g.model_dump() for g in payload.goals]}
    else:
        answers = dict(payload.ratings)
    entry = scale_actions.record_scale_entry(
        actor=request.user,
        patient=patient,
        indication=payload.indication,
        instrument=payload.instrument,
        taken_on=payload.taken_on,
        answers=answers,
    )
    # record_scale_entry stores the suggestions the new score brings, in its own transaction.
    return Status(201, _entry_out(entry, _session_days(patient)))


@router.get(
    "/patients/{patient_id}/scales/{indication}",
    response={200: ScaleFiguresOut, **ERRORS_WITHOUT_CONFLICT},
    summary="One indication's scales per cycle: baseline and each cycle's value and change, "
    "effect duration and adverse effects per cycle, the scale schedule (clinic_rules)",
)
def scale_figures(request: ApiRequest, patient_id: int, indication: str) -> dict[str, Any]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    if indication not in scale_facts.scale_indications():
        raise HttpError(404, "This condition has no outcome scales.")
    today = timezone.localdate()
    result, data = scale_selectors.review_result(patient, indication, today)
    days = [scale_selectors.session_day(s) for s in data.sessions]
    schedule = scale_facts.schedule(
        indication, today, days, [(e.instrument, e.taken_on) for e in data.entries]
    )
    common.record_view(
        actor=request.user, patient=patient, what=f"outcome scales ({indication}) via API"
    )
    return {
        "patient_id": patient.pk,
        "indication": indication,
        "indication_label": facts.indication_label(indication),
        "as_of": today,
        "instruments": schedule["instruments"],
        "patient_reported": schedule["patient_reported"],
        "review_after_cycles": schedule["review_after_cycles"],
        "review_due": result["review_due"],
        "rule_set": result["rule_set"],
        "cycles": [
            {**c, "session_id": s.pk, "session_date": days[n]}
            for n, (c, s) in enumerate(zip(result["cycles"], data.sessions, strict=True))
        ],
        "measures": result["measures"],
        "slots": schedule["slots"],
    }


# ---- reviews -------------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/reviews",
    response={200: CycleReviewPage, **ERRORS_WITHOUT_CONFLICT},
    summary="The patient's reviews of every indication (continue, adjust or stop with reasons), "
    "newest first, with the plans they wrote",
)
def list_cycle_reviews(
    request: ApiRequest,
    patient_id: int,
    indication: str | None = None,
    cursor: str | None = None,
    size: int = 20,
) -> dict[str, Any]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    _size(size)
    _indication_filter(indication, facts.indication_codes())
    qs = ResponseReview.objects.filter(patient=patient).prefetch_related(
        Prefetch("plans", queryset=TreatmentPlan.objects.only("id", "review_id").order_by("id"))
    )
    if indication is not None:
        qs = qs.filter(indication=indication)
    page = _page(qs, ("reviewed_at", "id"), cursor, size)
    common.record_view(actor=request.user, patient=patient, what="reviews via API")
    return {"items": [_review_out(r) for r in page.items], "next_cursor": page.next_cursor}


# ---- adjustment suggestions ----------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/suggestions",
    response={200: SuggestionPage, **ERRORS_WITHOUT_CONFLICT},
    summary="The patient's adjustment suggestions with their status, newest first; filter by "
    "`indication` and `status` (open, accepted, rejected)",
)
def list_suggestions(
    request: ApiRequest,
    patient_id: int,
    indication: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    size: int = 20,
) -> dict[str, Any]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    _size(size)
    _indication_filter(indication, facts.indication_codes())
    if status is not None and status not in SuggestionStatus.values:
        raise ValidationError({"status": ["One of: open, accepted, rejected."]})
    qs = AdjustmentSuggestion.objects.filter(patient=patient)
    if indication is not None:
        qs = qs.filter(indication=indication)
    if status is not None:
        qs = qs.filter(status=status)
    page = _page(qs, ("created_at", "id"), cursor, size)
    common.record_view(actor=request.user, patient=patient, what="adjustment suggestions via API")
    return {"items": [_suggestion_out(s) for s in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/patients/{patient_id}/suggestions/refresh",
    response={200: list[SuggestionOut], **ERRORS},
    summary="Recalculate the last cycle's suggestions of an indication (the review screen's "
    "button, physicians); answers the new ones",
)
def refresh_suggestions(
    request: ApiRequest, patient_id: int, payload: SuggestionRefreshIn
) -> list[dict[str, Any]]:
    patient = _patient(request, Perm.RESPONSE_REVIEW, patient_id)
    if payload.indication not in scale_facts.scale_indications():
        raise ValidationError({"indication": ["This condition has no outcome scales."]})
    made = review_actions.refresh_suggestions(
        actor=request.user,
        patient=patient,
        indication=payload.indication,
    )
    return [_suggestion_out(s) for s in made]


@router.post(
    "/suggestions/{suggestion_id}/decision",
    response={200: SuggestionOut, **ERRORS},
    summary="Accept (the next plan takes its adjustments) or reject (with a note) a suggestion "
    "(physicians)",
)
def decide_suggestion(
    request: ApiRequest, suggestion_id: int, payload: SuggestionDecisionIn
) -> dict[str, Any]:
    scope = require_scope(request, Perm.RESPONSE_REVIEW)
    suggestion = get_object_or_404(AdjustmentSuggestion.objects.in_scope(scope), pk=suggestion_id)
    decided = review_actions.decide_suggestion(
        actor=request.user,
        suggestion=suggestion,
        accept=payload.decision == "accept",
        note=payload.note,
    )
    return _suggestion_out(decided)


# ---- clinic-defined protocols --------------------------------------------------------------------


@router.get(
    "/clinic-protocols",
    response={200: ClinicProtocolPage, **ERRORS_WITHOUT_CONFLICT},
    summary="The clinic-defined, off-label protocols of your clinics (muscles, sides, sites, "
    "units); `active=false` for retired ones",
)
def list_clinic_protocols(
    request: ApiRequest, active: bool = True, cursor: str | None = None, size: int = 20
) -> dict[str, Any]:
    scope = require_scope(request, Perm.SESSION_VIEW)
    _size(size)
    qs = ClinicProtocol.objects.in_scope(scope).filter(active=active).prefetch_related("lines")
    page = _page(qs, ("created_at", "id"), cursor, size)
    common.record_list_view(
        actor=request.user,
        what=f"clinic-defined protocols via API ({len(page.items)})",
    )
    return {"items": [_protocol_out(p) for p in page.items], "next_cursor": page.next_cursor}
