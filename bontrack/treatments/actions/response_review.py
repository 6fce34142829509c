"""The response review after treatment cycles: continue, change or stop."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.outcomes.services import mark as mark_outcomes
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.actions.plans import (
    Line,
    active_plan,
    apply_adjustments,
    new_plan,
    plan_lines,
    template_lines,
    validate_lines,
)
from bontrack.treatments.choices import (
    GIVEN_STATUSES,
    ReviewDecision,
)
from bontrack.treatments.models import (
    ResponseReview,
    TreatmentPlan,
    TreatmentSession,
)

# ---- response review ------------------------------------------------------------------------


def signed_cycles(patient: Patient) -> int:
    return (
        TreatmentSession.objects.filter(
            patient=patient,
            status__in=GIVEN_STATUSES,
            injections__indication=facts.response_indication(),
        )
        .distinct()
        .count()
    )


@transaction.atomic(durable=True)
def record_response_review(
    *,
    actor: User,
    patient: Patient,
    decision: str,
    reason: str = "",
    adjustments: Iterable[dict[str, Any]] = (),
    as_of: date | None = None,
) -> ResponseReview:
    """After the second cycle: continue, adjust (what and why) or stop, with the response result."""
    _require(actor, Perm.RESPONSE_REVIEW, patient.clinic_id)
    as_of = as_of or timezone.localdate()
    adjustments = list(adjustments)
    errors: dict[str, list[str]] = {}
    if decision not in ReviewDecision.values:
        errors["decision"] = ["Choose continue, adjust or stop."]
    if decision == ReviewDecision.ADJUST:
        if not reason.strip():
            errors["reason"] = ["Say what is adjusted and why."]
        if not adjustments:
            errors["adjustments"] = ["List the sites to change."]
    elif adjustments:
        errors["adjustments"] = ["Only an adjustment changes the plan."]
    if decision == ReviewDecision.STOP and not reason.strip():
        errors["reason"] = ["Say why treatment stops."]
    cycles = signed_cycles(patient)
    min_cycles = facts.review_min_cycles()
    if cycles < min_cycles:
        errors["decision"] = [f"The review comes after cycle {min_cycles}; {cycles} signed so far."]
    if errors:
        raise ValidationError(errors)
    lines_in = [
        Line(a["muscle"], a["side"], int(a["sites"]), Decimal(str(a["units"])))
        for a in adjustments
        if int(a.get("sites", 0)) > 0
    ]
    validate_lines(lines_in, "adjustments")
    result = facts.run_response(patient, as_of)
    if result is None or "error" in result:
        raise ValidationError({"as_of": ["No response can be computed for this date."]})
    cycles_out = result.get("cycles") or []
    recommendation = cycles_out[-1].get("recommendation", "") if cycles_out else ""
    mark_outcomes(patient.pk)
    review = ResponseReview.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        decision=decision,
        reason=reason.strip(),
        adjustments=[
            {
                "muscle": a["muscle"],
                "side": a["side"],
                "sites": int(a["sites"]),
                "units": float(a["units"]),
            }
            for a in adjustments
        ],
        cycles=cycles,
        as_of=as_of,
        response_rule_set=str(result.get("response_rule_set", "")),
        rule_set=",".join(result.get("rule_sets") or [str(result.get("rule_set", ""))]),
        recommendation=str(recommendation),
        result=result,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
    )
    audit_record(
        actor,
        "create",
        review,
        patient,
        f"Response review after {cycles} cycles: {decision} (rules say {recommendation})",
        {
            "decision": [None, decision],
            "reason": [None, reason.strip()],
            "recommendation": [None, recommendation],
            "adjustments": [None, review.adjustments],
        },
    )
    last = active_plan(patient)
    if decision == ReviewDecision.ADJUST:
        base = plan_lines(last) if last else template_lines()
        new_plan(
            actor=actor,
            patient=patient,
            lines=apply_adjustments(base, review.adjustments),
            based_on=last,
            review=review,
            note=f"Adjusted after response review: {reason.strip()}"[:1000],
        )
    elif decision == ReviewDecision.STOP and last is not None:
        TreatmentPlan.objects.filter(pk=last.pk).update(active=False)
        audit_record(
            actor,
            "update",
            last,
            patient,
            "Plan closed: treatment stopped",
            {"active": [True, False]},
        )
    return review
