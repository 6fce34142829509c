"""Plans, sessions (create, update while draft, sign, amend), sites, decisions, adverse effects,
response reviews: the same actions as the staff screens."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router
from ninja.errors import HttpError
from ninja.responses import Status

from bontrack.accounts.models import Scope
from bontrack.accounts.requests import ApiRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.apitools import ERRORS, require_scope
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.inventory import services as inventory_services
from bontrack.inventory.models import Lot, Vial
from bontrack.patients.models import Patient
from bontrack.treatments import lot_trace, selectors
from bontrack.treatments.actions import amendments as amendments_actions
from bontrack.treatments.actions import charting, common, follow_up, response_review, signing
from bontrack.treatments.actions import cosign as cosign_actions
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.actions import plans as plans_actions
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.api_schemas import (
    AdverseEffectIn,
    AdverseEffectOut,
    AmendIn,
    CosignPage,
    DecisionIn,
    InjectionIn,
    InjectionPatch,
    LotRecallOut,
    LotTraceOut,
    PlanIn,
    PlanOut,
    RecallContactIn,
    RecallIn,
    ResolveIn,
    ReviewIn,
    ReviewOut,
    SessionIn,
    SessionOut,
    SessionPage,
    SessionPatch,
    TraceContactOut,
    VialIn,
)
from bontrack.treatments.choices import GIVEN_STATUSES
from bontrack.treatments.models import (
    AdverseEffect,
    Injection,
    ResponseReview,
    TreatmentPlan,
    TreatmentSession,
    VialUse,
)

router = Router(tags=["treatments"])
MAX_PAGE = 50

# ---- helpers ----------------------------------------------------------------------------------------


def _patient(request: HttpRequest, perm: str, patient_id: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(require_scope(request, perm)), pk=patient_id)


def _session(request: HttpRequest, perm: str, session_id: int) -> TreatmentSession:
    return get_object_or_404(
        TreatmentSession.objects.in_scope(require_scope(request, perm)).select_related(
            "patient", "clinic"
        ),
        pk=session_id,
    )


def _plan_out(plan: TreatmentPlan) -> dict[str, Any]:
    return {
        **{f: getattr(plan, f) for f in ("id", "patient_id", "indication", "product", "active")},
        **{f: getattr(plan, f) for f in ("based_on_id", "review_id", "note", "created_at")},
        "ordered_by_id": plan.ordered_by_id,
        "ordered_at": plan.ordered_at,
        "lines": list(plan.lines.all()),
    }


def _vial_out(v: VialUse) -> dict[str, Any]:
    return {
        "id": v.pk,
        "lot_number": v.lot.lot_number,
        "ndc": v.lot.ndc,
        "expiry": v.lot.expiry,
        "size_units": v.lot.size_units,
        "diluent_ml": v.diluent_ml,
        "reconstituted_at": v.reconstituted_at,
        "units_used": v.units_used,
        "units_wasted": v.units_wasted,
        "status": v.status,
    }


SESSION_FIELDS = [
    "id",
    "patient_id",
    "clinic_id",
    "indication",
    "indications",
    "product",
    "performed_at",
    "status",
    "plan_id",
    "amends_id",
    "amendment_reason",
    "consent_obtained",
    "medication_guide_offered",
    "diluent",
    "note",
    "signed_at",
    "signed_by_id",
    "cosign_reasons",
    "cosigned_at",
    "cosigned_by_id",
    "rule_set",
]


def _sessions_out(sessions: list[TreatmentSession]) -> list[dict[str, Any]]:
    """Several sessions in a fixed number of queries (a draft adds its live dose-check)."""
    out = []
    for view in selectors.session_views(sessions):
        session, result = view.session, view.result
        out.append(
            {
                **{f: getattr(session, f) for f in SESSION_FIELDS},
                "status_label": session.get_status_display(),
                "rule_set": view.check.rule_set,
                "next_due": follow_up.next_due(session)
                if session.status in GIVEN_STATUSES
                else None,
                "injections": view.injections,
                "vials": [_vial_out(v) for v in view.vials],
                "findings": result["findings"],
                "totals": result["totals"],
                "decisions": view.decisions,
            }
        )
    return out


def _session_out(session: TreatmentSession) -> dict[str, Any]:
    return _sessions_out([session])[0]


# ---- plans ---------------------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/plan",
    response={200: PlanOut, **ERRORS},
    summary="The patient's active treatment plan",
)
def get_plan(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    plan = plans_actions.active_plan(patient)
    if plan is None:
        raise HttpError(404, "No active plan.")
    common.record_view(actor=request.user, patient=patient, what="treatment plan via API")
    return _plan_out(plan)


@router.post(
    "/patients/{patient_id}/plans",
    response={201: PlanOut, **ERRORS},
    summary="New chronic migraine plan from the last one with follow-the-pain additions",
)
def create_plan(request: HttpRequest, patient_id: int, payload: PlanIn) -> Status[dict[str, Any]]:
    patient = _patient(request, Perm.SESSION_CHART, patient_id)
    plan = plans_actions.create_plan(
        actor=request.user,
        patient=patient,
        additions=[a.model_dump(exclude_none=True) for a in payload.additions],
        note=payload.note,
    )
    return Status(201, _plan_out(plan))


# ---- sessions --------------------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/sessions",
    response={200: SessionPage, **ERRORS},
    summary="The patient's sessions, newest first; pass `next_cursor` back as `cursor` for older ones",
)
def list_sessions(
    request: HttpRequest, patient_id: int, cursor: str | None = None, size: int = 20
) -> dict[str, Any]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    if not 1 <= size <= MAX_PAGE:
        raise ValidationError({"size": [f"Ask for 1 to {MAX_PAGE} sessions."]})
    try:
        page = keyset_page(
            TreatmentSession.objects.filter(patient=patient),
            fields=("performed_at", "id"),
            cursor=cursor,
            size=size,
            descending=True,
        )
    except BadCursor as exc:
        raise ValidationError({"cursor": [str(exc)]}) from exc
    common.record_view(actor=request.user, patient=patient, what="sessions via API")
    return {"items": _sessions_out(page.items), "next_cursor": page.next_cursor}


@router.post(
    "/patients/{patient_id}/sessions",
    response={201: SessionOut, **ERRORS},
    summary="Start a draft session of one or several indications, a template per indication",
)
def create_session(
    request: HttpRequest, patient_id: int, payload: SessionIn
) -> Status[dict[str, Any]]:
    patient = _patient(request, Perm.SESSION_CHART, patient_id)
    session = charting.create_session(
        actor=request.user,
        patient=patient,
        performed_at=payload.performed_at,
        indications=payload.indications,
        templates=payload.templates,
    )
    return Status(201, _session_out(session))


@router.get("/sessions/{session_id}", response={200: SessionOut, **ERRORS}, summary="One session")
def get_session(request: HttpRequest, session_id: int) -> dict[str, Any]:
    session = _session(request, Perm.SESSION_VIEW, session_id)
    common.record_view(actor=request.user, patient=session.patient, what="session via API")
    return _session_out(session)


@router.patch(
    "/sessions/{session_id}",
    response={200: SessionOut, **ERRORS},
    summary="Update a draft session's details",
)
def update_session(request: HttpRequest, session_id: int, payload: SessionPatch) -> dict[str, Any]:
    session = _session(request, Perm.SESSION_CHART, session_id)
    data = payload.model_dump(exclude_unset=True)
    override = data.pop("override_reason", "")
    nulls = [k for k, v in data.items() if v is None]
    if nulls:
        raise ValidationError({k: ["This field cannot be null."] for k in nulls})
    charting.update_session(actor=request.user, session=session, override_reason=override, **data)
    return _session_out(session)


@router.patch(
    "/sessions/{session_id}/injections/{injection_id}",
    response={200: SessionOut, **ERRORS},
    summary="Edit one site (units, done or skipped, sites, dilution, guidance); a block needs a physician override_reason",
)
def update_injection(
    request: HttpRequest, session_id: int, injection_id: int, payload: InjectionPatch
) -> dict[str, Any]:
    session = _session(request, Perm.SESSION_CHART, session_id)
    injection = get_object_or_404(Injection, pk=injection_id, session=session)
    charting.update_injection(
        actor=request.user,
        injection=injection,
        units=payload.units,
        status=payload.status,
        override_reason=payload.override_reason,
        sites=payload.sites,
        dilution=payload.dilution if "dilution" in payload.model_fields_set else charting.UNSET,
        guidance=payload.guidance,
    )
    return _session_out(session)


@router.post(
    "/sessions/{session_id}/injections",
    response={201: SessionOut, **ERRORS},
    summary="Add a site in one of the session's indications",
)
def add_injection(
    request: HttpRequest, session_id: int, payload: InjectionIn
) -> Status[dict[str, Any]]:
    session = _session(request, Perm.SESSION_CHART, session_id)
    fields = payload.model_dump()
    fields["guidance"] = fields["guidance"] or ""
    charting.add_injection(actor=request.user, session=session, **fields)
    return Status(201, _session_out(session))


@router.delete(
    "/sessions/{session_id}/injections/{injection_id}",
    response={200: SessionOut, **ERRORS},
    summary="Remove a follow-the-pain site from a draft (template sites are skipped instead)",
)
def remove_injection(request: HttpRequest, session_id: int, injection_id: int) -> dict[str, Any]:
    session = _session(request, Perm.SESSION_CHART, session_id)
    injection = get_object_or_404(Injection, pk=injection_id, session=session)
    charting.remove_injection(actor=request.user, injection=injection)
    return _session_out(session)


@router.post(
    "/sessions/{session_id}/vials",
    response={200: SessionOut, **ERRORS},
    summary="Open a stocked vial for the session (diluent and reconstitution time)",
)
def open_vial(request: HttpRequest, session_id: int, payload: VialIn) -> dict[str, Any]:
    session = _session(request, Perm.SESSION_CHART, session_id)
    vial = get_object_or_404(
        Vial.objects.filter(clinic__practice_id=request.user.practice_id), pk=payload.vial_id
    )
    vials_actions.open_vial(
        actor=request.user,
        session=session,
        vial=vial,
        diluent_ml=payload.diluent_ml,
        reconstituted_at=payload.reconstituted_at,
        override_reason=payload.override_reason,
    )
    return _session_out(session)


@router.post(
    "/sessions/{session_id}/decisions",
    response={201: SessionOut, **ERRORS},
    summary="Acknowledge a warning, or override a block (physician, with a reason)",
)
def decide(request: HttpRequest, session_id: int, payload: DecisionIn) -> Status[dict[str, Any]]:
    session = _session(request, Perm.SESSION_CHART, session_id)
    findings_actions.decide_finding(
        actor=request.user, session=session, rule_id=payload.rule_id, reason=payload.reason
    )
    return Status(201, _session_out(session))


@router.post(
    "/sessions/{session_id}/sign", response={200: SessionOut, **ERRORS}, summary="Sign a session"
)
def sign(request: HttpRequest, session_id: int) -> dict[str, Any]:
    session = _session(request, Perm.SESSION_SIGN, session_id)
    signing.sign_session(actor=request.user, session=session)
    return _session_out(session)


@router.get(
    "/cosign",
    response={200: CosignPage, **ERRORS},
    summary="Sessions awaiting a physician's co-signature in your clinics, newest signature first",
)
def cosign_worklist(
    request: HttpRequest, cursor: str | None = None, size: int = 20
) -> dict[str, Any]:
    scope = require_scope(request, Perm.SESSION_COSIGN)
    if not 1 <= size <= MAX_PAGE:
        raise ValidationError({"size": [f"Ask for 1 to {MAX_PAGE} sessions."]})
    try:
        page = selectors.cosign_worklist(scope, cursor, size)
    except BadCursor as exc:
        raise ValidationError({"cursor": [str(exc)]}) from exc
    with transaction.atomic():
        audit.record(
            actor=request.user,
            action="view",
            object_type="treatments.cosign_worklist",
            summary=f"Viewed the co-signature worklist via API ({len(page.items)} sessions)",
        )
    return {
        "items": [
            {
                "id": s.pk,
                "patient_id": s.patient_id,
                "patient_name": s.patient.full_name,
                "mrn": s.patient.mrn,
                "clinic_id": s.clinic_id,
                "performed_at": s.performed_at,
                "signed_at": s.signed_at,
                "signed_by_id": s.signed_by_id,
                "signed_by_name": s.signed_by.get_full_name() or s.signed_by.get_username(),
                "ordered_by_id": s.plan.ordered_by_id if s.plan_id else None,
                "units_given": s.units_given or 0,
                "reasons": s.cosign_reasons,
            }
            for s in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/sessions/{session_id}/cosign",
    response={200: SessionOut, **ERRORS},
    summary="Co-sign a session awaiting a physician's co-signature (physicians)",
)
def cosign(request: ApiRequest, session_id: int) -> dict[str, Any]:
    session = _session(request, Perm.SESSION_COSIGN, session_id)
    cosign_actions.cosign_session(actor=request.user, session=session)
    return _session_out(session)


@router.post(
    "/sessions/{session_id}/amendments",
    response={201: SessionOut, **ERRORS},
    summary="Start a draft amendment of a signed session",
)
def amend(request: HttpRequest, session_id: int, payload: AmendIn) -> Status[dict[str, Any]]:
    session = _session(request, Perm.SESSION_SIGN, session_id)
    amendment = amendments_actions.amend_session(
        actor=request.user, session=session, reason=payload.reason
    )
    return Status(201, _session_out(amendment))


# ---- adverse effects ---------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/adverse-effects",
    response={200: list[AdverseEffectOut], **ERRORS},
    summary="The patient's adverse effects (latest 100)",
)
def list_effects(request: HttpRequest, patient_id: int) -> list[AdverseEffect]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    common.record_view(actor=request.user, patient=patient, what="adverse effects via API")
    return list(AdverseEffect.objects.filter(patient=patient)[:100])


@router.post(
    "/sessions/{session_id}/adverse-effects",
    response={201: AdverseEffectOut, **ERRORS},
    summary="Record an adverse effect after a signed session",
)
def add_effect(
    request: HttpRequest, session_id: int, payload: AdverseEffectIn
) -> Status[AdverseEffect]:
    session = _session(request, Perm.SESSION_CHART, session_id)
    effect = follow_up.record_adverse_effect(
        actor=request.user, session=session, kind=payload.kind, detail=payload.detail
    )
    return Status(201, effect)


@router.post(
    "/adverse-effects/{effect_id}/resolve",
    response={200: AdverseEffectOut, **ERRORS},
    summary="Resolve an adverse effect",
)
def resolve_effect(request: HttpRequest, effect_id: int, payload: ResolveIn) -> AdverseEffect:
    effect = get_object_or_404(
        AdverseEffect.objects.in_scope(require_scope(request, Perm.SESSION_CHART)), pk=effect_id
    )
    return follow_up.resolve_adverse_effect(
        actor=request.user, effect=effect, resolution=payload.resolution
    )


# ---- response reviews -----------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/response",
    response={200: dict[str, Any], **ERRORS},
    summary="clinic_rules `response` for the patient today (baseline vs each cycle)",
)
def get_response(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    from bontrack.treatments import facts

    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    result = facts.run_response(patient, timezone.localdate())
    if result is None:
        raise HttpError(404, "No signed session yet.")
    common.record_view(actor=request.user, patient=patient, what="response via API")
    return result


@router.get(
    "/patients/{patient_id}/response-reviews",
    response={200: list[ReviewOut], **ERRORS},
    summary="The patient's response reviews",
)
def list_reviews(request: HttpRequest, patient_id: int) -> list[ResponseReview]:
    patient = _patient(request, Perm.SESSION_VIEW, patient_id)
    common.record_view(actor=request.user, patient=patient, what="response reviews via API")
    return list(ResponseReview.objects.filter(patient=patient)[:50])


@router.post(
    "/patients/{patient_id}/response-reviews",
    response={201: ReviewOut, **ERRORS},
    summary="Record continue, adjust (what and why) or stop after the second cycle",
)
def create_review(
    request: HttpRequest, patient_id: int, payload: ReviewIn
) -> Status[ResponseReview]:
    patient = _patient(request, Perm.RESPONSE_REVIEW, patient_id)
    review = response_review.record_response_review(
        actor=request.user,
        patient=patient,
        decision=payload.decision,
        reason=payload.reason,
        adjustments=[a.model_dump() for a in payload.adjustments],
        as_of=payload.as_of,
    )
    return Status(201, review)


# ---- lot trace and recall ------------------------------------------------------------------------


def _lot(request: HttpRequest, perm: str, lot_id: int) -> tuple[Lot, Scope]:
    scope = require_scope(request, perm)
    return get_object_or_404(Lot.objects.in_scope(scope), pk=lot_id), scope


def _trace_out(result: lot_trace.LotTrace) -> dict[str, Any]:
    lot = result.lot
    return {
        "lot_id": lot.pk,
        "lot_number": lot.lot_number,
        "ndc": lot.ndc,
        "expiry": lot.expiry,
        "recalled_at": lot.recalled_at,
        "patients": [
            {
                "id": p.id,
                "name": p.name,
                "mrn": p.mrn,
                "phone": p.phone,
                "email": p.email,
                "first_exposure": p.first_exposure,
                "sessions": [
                    {
                        "id": s.id,
                        "performed_at": s.performed_at,
                        "status": s.status,
                        "clinic": s.clinic,
                        "units_from_lot": s.units_from_lot,
                        "vials": s.vials,
                        "sites": s.sites,
                    }
                    for s in p.sessions
                ],
                "adverse_effects": p.effects,
                "contacts": [
                    {
                        "method": c.method,
                        "note": c.note,
                        "contacted_at": c.created_at,
                        "contacted_by": c.contacted_by.username if c.contacted_by else "",
                    }
                    for c in p.contacts
                ],
            }
            for p in result.patients
        ],
    }


@router.get(
    "/lots/{lot_id}/trace",
    response={200: LotTraceOut, **ERRORS},
    summary="Where a lot went: patients, sessions, muscles, doses and adverse effects since",
)
def trace_lot(request: HttpRequest, lot_id: int) -> dict[str, Any]:
    lot, scope = _lot(request, Perm.INVENTORY_VIEW, lot_id)
    result = lot_trace.trace(lot, scope)
    audit.record(
        actor=request.user,
        action="view",
        obj=lot,
        practice_id=lot.practice_id,
        summary=f"Viewed the trace of lot {lot.lot_number} via API ({len(result.patients)} "
        "patients)",
    )
    return _trace_out(result)


@router.post(
    "/lots/{lot_id}/recall",
    response={200: LotRecallOut, **ERRORS},
    summary="Recall a lot: blocks its vials in stock in every clinic (confirm must be true)",
)
def recall_lot(request: ApiRequest, lot_id: int, payload: RecallIn) -> dict[str, Any]:
    lot, _ = _lot(request, Perm.LOT_RECALL, lot_id)
    if not payload.confirm:
        raise ValidationError({"confirm": ["Confirm the recall: it cannot be undone."]})
    blocked = inventory_services.recall_lot(actor=request.user, lot=lot, reason=payload.reason)
    lot.refresh_from_db()
    return {"lot_id": lot.pk, "recalled_at": lot.recalled_at, "vials_blocked": blocked}


@router.post(
    "/lots/{lot_id}/contacts",
    response={201: TraceContactOut, **ERRORS},
    summary="Log a contact with a patient exposed to a recalled lot",
)
def log_contact(
    request: ApiRequest, lot_id: int, payload: RecallContactIn
) -> Status[dict[str, Any]]:
    lot, scope = _lot(request, Perm.LOT_RECALL, lot_id)
    patient = get_object_or_404(lot_trace.exposed_patients(lot, scope), pk=payload.patient_id)
    row = inventory_services.log_recall_contact(
        actor=request.user, lot=lot, patient=patient, method=payload.method, note=payload.note
    )
    return Status(
        201,
        {
            "method": row.method,
            "note": row.note,
            "contacted_at": row.created_at,
            "contacted_by": request.user.username,
        },
    )
