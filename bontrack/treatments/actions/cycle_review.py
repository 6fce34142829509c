"""The review after two cycles per indication, and the adjustment suggestions of the last cycle.

Figures (scale changes, effect duration) and suggestions come from ``clinic_rules``
(``cycle-review``) through ``treatments.scale_selectors``. An accepted suggestion and a
"continue" or "adjust" decision write the next plan of the indication with the adjustments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.patients.models import Patient
from bontrack.treatments import scale_selectors
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.actions.plans import Line, active_plan, plan_lines, validate_lines
from bontrack.treatments.choices import ReviewDecision
from bontrack.treatments.facts import scales as facts
from bontrack.treatments.models import (
    AdjustmentSuggestion,
    Injection,
    PlanLine,
    ResponseReview,
    TreatmentPlan,
    TreatmentSession,
)
from bontrack.treatments.scale_models import SuggestionStatus


def _apply(lines: list[Line], adjustments: Iterable[Mapping[str, Any]]) -> list[Line]:
    """Set each adjusted (muscle, side) to its sites and units; 0 sites removes it."""
    by_key = {(ln.muscle, ln.side): ln for ln in lines}
    order = list(by_key)
    for adj in adjustments:
        key = (str(adj["muscle"]), str(adj["side"]))
        if int(adj["sites"]) == 0:
            by_key.pop(key, None)
            continue
        old = by_key.get(key)
        by_key[key] = Line(
            key[0],
            key[1],
            int(adj["sites"]),
            Decimal(str(adj["units"])),
            old.follow_the_pain if old else False,
        )
        if key not in order:
            order.append(key)
    return [by_key[k] for k in order if k in by_key]


def _base_lines(patient: Patient, indication: str) -> tuple[TreatmentPlan | None, list[Line]]:
    plan = active_plan(patient, indication)
    if plan is not None:
        return plan, plan_lines(plan)
    data = scale_selectors.cycle_data(patient, indication)
    return None, [
        Line(str(x["muscle"]), str(x["side"]), int(x["sites"]), Decimal(x["units"]))
        for x in data.last_injections
    ]


def next_plan(
    *,
    actor: User,
    patient: Patient,
    indication: str,
    adjustments: Iterable[Mapping[str, Any]],
    note: str,
    review: ResponseReview | None = None,
) -> TreatmentPlan:
    """The indication's next plan: the active plan (or the last session) with ``adjustments``."""
    based_on, lines = _base_lines(patient, indication)
    lines = _apply(lines, adjustments)
    if not lines:
        raise ValidationError({"adjustments": ["The next plan would have no sites."]})
    validate_lines(lines, "adjustments")
    TreatmentPlan.objects.filter(patient=patient, indication=indication, active=True).update(
        active=False
    )
    ordered = actor.has_clinic_perm(Perm.SESSION_COSIGN, patient.clinic_id)
    plan = TreatmentPlan.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        indication=indication,
        based_on=based_on,
        review=review,
        note=note[:1000],
        created_by=actor,
        ordered_by=actor if ordered else None,
        ordered_at=timezone.now() if ordered else None,
    )
    PlanLine.objects.bulk_create(
        PlanLine(
            plan=plan,
            muscle=ln.muscle,
            side=ln.side,
            sites=ln.sites,
            units=ln.units,
            follow_the_pain=ln.follow_the_pain,
            position=i,
        )
        for i, ln in enumerate(lines)
    )
    audit_record(
        actor,
        "create",
        plan,
        patient,
        f"Next plan with adjustments: {sum(ln.units for ln in lines)} U in "
        f"{sum(ln.sites for ln in lines)} sites",
        {
            "lines": [None, [[ln.muscle, ln.side, ln.sites, str(ln.units)] for ln in lines]],
            "based_on": [None, based_on.pk if based_on else None],
        },
    )
    return plan


def store_suggestions(
    *, actor: User, patient: Patient, indications: Iterable[str], adverse_effect: bool = False
) -> list[AdjustmentSuggestion]:
    """Store the last cycle's new suggestions of each scale indication among ``indications``.

    Called inside the transaction of each action that changes a suggestion's inputs (a scale
    rating, an adverse effect, a signed session, a wearing-off date) after its own permission
    check, and by the explicit "Recalculate suggestions" (``refresh_suggestions``). The review page
    only reads them. A fixed number of queries per indication (a session has one to three)."""
    known = set(facts.scale_indications())
    if adverse_effect:
        # An adverse effect alone brings some suggestions, for indications without a scale too
        # (a drooping eyelid after a chronic migraine session: review the frontalis sites).
        known |= set(facts.effect_suggestion_indications())
    made: list[AdjustmentSuggestion] = []
    for indication in sorted(set(indications) & known):
        made += _store(actor, patient, indication)
    return made


def session_indications(session: TreatmentSession) -> set[str]:
    """The indications a session treated: its own and its injections' (one query)."""
    found = {session.indication, *(session.indications or [])}
    found.update(
        Injection.objects.filter(session=session).values_list("indication", flat=True).distinct()
    )
    return found


def _store(actor: User, patient: Patient, indication: str) -> list[AdjustmentSuggestion]:
    result, data = scale_selectors.review_result(patient, indication, timezone.localdate())
    if not data.sessions:
        return []
    last = data.sessions[-1]
    have = set(AdjustmentSuggestion.objects.filter(session=last).values_list("rule_id", flat=True))
    made = []
    for s in result["suggestions"]:
        if s["rule_id"] in have:
            continue
        row = AdjustmentSuggestion.objects.create(
            patient=patient,
            clinic_id=patient.clinic_id,
            indication=indication,
            session=last,
            rule_id=s["rule_id"],
            title=str(s["title"])[:300],
            reason=str(s["reason"])[:1000],
            note=str(s["note"])[:500],
            source=", ".join(s["source"])[:120],
            confirmed=bool(s["confirmed"]),
            adjustments=s["adjustments"],
        )
        audit_record(
            actor,
            "create",
            row,
            patient,
            f"Adjustment suggested: {row.note}",
            {"rule_id": [None, row.rule_id], "adjustments": [None, row.adjustments]},
        )
        made.append(row)
    return made


def save_refresh_suggestions(
    *, actor: User, patient: Patient, indication: str
) -> list[AdjustmentSuggestion]:
    """The explicit "Recalculate suggestions" of the review page (each rule once per session)."""
    _require(actor, Perm.RESPONSE_REVIEW, patient.clinic_id)
    return _store(actor, patient, indication)


def save_decide_suggestion(
    *, actor: User, suggestion: AdjustmentSuggestion, accept: bool, note: str = ""
) -> AdjustmentSuggestion:
    """Accept (the next plan takes its adjustments and note) or reject, with an optional note."""
    locked = (
        AdjustmentSuggestion.objects.select_for_update()
        .select_related("patient")
        .get(pk=suggestion.pk)
    )
    _require(actor, Perm.RESPONSE_REVIEW, locked.patient.clinic_id)
    if locked.status != SuggestionStatus.OPEN:
        raise Conflict("This suggestion has already been decided.")
    if not accept and not note.strip():
        raise ValidationError({"note": ["Say why the suggestion is rejected."]})
    locked.status = SuggestionStatus.ACCEPTED if accept else SuggestionStatus.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_note = note.strip()[:1000]
    if accept:
        locked.plan = next_plan(
            actor=actor,
            patient=locked.patient,
            indication=locked.indication,
            adjustments=locked.adjustments,
            note=f"Accepted suggestion: {locked.note}"
            + (f" {locked.decision_note}" if locked.decision_note else ""),
        )
    locked.save()
    audit_record(
        actor,
        "update",
        locked,
        locked.patient,
        f"Suggestion {'accepted' if accept else 'rejected'}: {locked.note}",
        {
            "status": [SuggestionStatus.OPEN, locked.status],
            "decision_note": ["", locked.decision_note],
            "plan": [None, locked.plan_id],
        },
    )
    return locked


def _clean_adjustments(adjustments: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for a in adjustments:
        out.append(
            {
                "muscle": str(a["muscle"]),
                "side": str(a["side"]),
                "sites": int(a["sites"]),
                "units": float(a["units"]),
            }
        )
    return out


def save_record_cycle_review(
    *,
    actor: User,
    patient: Patient,
    indication: str,
    decision: str,
    reason: str = "",
    adjustments: Iterable[Mapping[str, Any]] = (),
) -> ResponseReview:
    """After two cycles of ``indication``: continue, adjust or stop, with the reasons.

    "continue" and "adjust" write the next plan: the active plan (with the suggestions already
    accepted) plus this review's adjustments; "stop" closes the indication's plan."""
    _require(actor, Perm.RESPONSE_REVIEW, patient.clinic_id)
    adjustments = _clean_adjustments(adjustments)
    reason = reason.strip()
    errors: dict[str, list[str]] = {}
    if indication not in facts.scale_indications():
        errors["indication"] = ["This condition has no scale review."]
    if decision not in ReviewDecision.values:
        errors["decision"] = ["Choose continue, adjust or stop."]
    if decision in (ReviewDecision.ADJUST, ReviewDecision.STOP) and not reason:
        errors["reason"] = ["Give the reasons for the decision."]
    if decision == ReviewDecision.ADJUST and not adjustments:
        errors["adjustments"] = ["List the sites to change."]
    if decision == ReviewDecision.STOP and adjustments:
        errors["adjustments"] = ["Stopping treatment changes no sites."]
    if errors:
        raise ValidationError(errors)
    as_of = timezone.localdate()
    result, data = scale_selectors.review_result(patient, indication, as_of)
    needed = int(facts.review_after_cycles())
    if len(data.sessions) < needed:
        raise ValidationError(
            {
                "decision": [
                    f"The review comes after cycle {needed}; {len(data.sessions)} given so far."
                ]
            }
        )
    review = ResponseReview.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        indication=indication,
        decision=decision,
        reason=reason,
        adjustments=adjustments,
        cycles=len(data.sessions),
        as_of=as_of,
        response_rule_set="scales",
        rule_set=str(result.get("rule_set", ""))[:60],
        recommendation="",
        result=result,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
    )
    audit_record(
        actor,
        "create",
        review,
        patient,
        f"Review after {len(data.sessions)} cycles: {decision}",
        {
            "decision": [None, decision],
            "reason": [None, reason],
            "adjustments": [None, adjustments],
        },
    )
    if decision in (ReviewDecision.CONTINUE, ReviewDecision.ADJUST):
        next_plan(
            actor=actor,
            patient=patient,
            indication=indication,
            adjustments=adjustments,
            note=f"After the review of {len(data.sessions)} cycles ({decision}): {reason}",
            review=review,
        )
    else:
        plan = active_plan(patient, indication)
        if plan is not None:
            TreatmentPlan.objects.filter(pk=plan.pk).update(active=False)
            audit_record(
                actor,
                "update",
                plan,
                patient,
                "Plan closed: treatment stopped",
                {"active": [True, False]},
            )
    return review


# One transaction each for views and the API; the ``save_*`` bodies join a caller's (demo seed).
refresh_suggestions = transaction.atomic(durable=True)(save_refresh_suggestions)
decide_suggestion = transaction.atomic(durable=True)(save_decide_suggestion)
record_cycle_review = transaction.atomic(durable=True)(save_record_cycle_review)
