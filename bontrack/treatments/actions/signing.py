"""Signing a session: what is missing for a signature, settling its vials, routing a nurse's
signature off the order to a physician for co-signature.

A session whose signer is not a physician of the clinic and that departs from the order (units,
sites, muscles, sides, indication), has a warning the nurse acknowledged, or has no order at all
is stored as ``awaiting`` co-signature with its reasons (``actions.orders``). The treatment was
given: the vials are settled and the check-in reminder is queued at this signature, as for a
signed session; the co-signature (``actions.cosign``) only makes the record final and claimable.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.outcomes.services import mark as mark_outcomes
from bontrack.treatments import facts, hooks
from bontrack.treatments.actions.common import audit_record, lock_draft
from bontrack.treatments.actions.cycle_review import store_suggestions
from bontrack.treatments.actions.findings import decision_covers, needs_physician
from bontrack.treatments.actions.follow_up import queue_checkin_reminder
from bontrack.treatments.actions.orders import Reason, cosign_reasons
from bontrack.treatments.actions.vials import (
    record_resettled,
    session_vials,
    settle_vials,
    units_text,
)
from bontrack.treatments.choices import (
    GIVEN_STATUSES,
    DecisionKind,
    InjectionStatus,
    SessionStatus,
)
from bontrack.treatments.models import (
    FindingDecision,
    TreatmentSession,
    VialUse,
)


def missing_for_signature(
    session: TreatmentSession,
    result: dict[str, Any],
    decisions: list[FindingDecision],
    vials: list[VialUse],
) -> dict[str, list[str]]:
    """What still stands between the draft and its signature, from the server's own dose-check.

    Every current block needs an override row and every current warning an acknowledgement row
    *on this session* whose text is the warning as it reads now (see ``decision_covers``).
    """
    errors: dict[str, list[str]] = {}
    for f in result["findings"]:
        if f["severity"] == "block" and not any(
            d.kind == DecisionKind.OVERRIDE and decision_covers(d, f, result["findings"])
            for d in decisions
        ):
            errors.setdefault("findings", []).append(
                f"A physician must override this with a reason before signing: {f['message']}"
            )
        if f["severity"] == "warn" and not any(
            d.kind == DecisionKind.ACKNOWLEDGE and decision_covers(d, f, result["findings"])
            for d in decisions
        ):
            errors.setdefault("findings", []).append(
                f"A physician must acknowledge this off-label treatment, with a reason, before "
                f"signing: {f['message']}"
                if needs_physician(f)
                else f"Acknowledge this warning before signing: {f['message']}"
            )
    if not session.consent_obtained:
        errors["consent_obtained"] = ["Record the patient's consent before signing."]
    units = sum(
        (i.units for i in session.injections.all() if i.status == InjectionStatus.DONE), Decimal(0)
    )
    if units <= 0:
        errors["injections"] = ["No site is marked done."]
    if not vials:
        errors["vials"] = ["Pick the vial(s) used: lot and expiry must be on the record."]
    elif units > sum(Decimal(v.lot.size_units) for v in vials):
        errors["vials"] = ["The units given exceed the vials opened."]
    return errors


def signature_preview(
    *, actor: User, session: TreatmentSession
) -> tuple[dict[str, list[str]], list[Reason]]:
    """What signing now would do, for the confirmation step (reads only): what is still missing,
    and why the signature would go to a physician for co-signature."""
    _require(actor, Perm.SESSION_SIGN, session.patient.clinic_id)
    if session.status != SessionStatus.DRAFT:
        raise Conflict("This session is signed; corrections are made with an amendment.")
    vials = session_vials(session)
    injections = list(session.injections.all())
    result = facts.dose_check(session, injections, vials).as_result()
    decisions = list(session.decisions.select_related("decided_by"))
    errors = missing_for_signature(session, result, decisions, vials)
    reasons = cosign_reasons(
        actor=actor, session=session, injections=injections, decisions=decisions
    )
    return errors, reasons


@transaction.atomic(durable=True)
def sign_session(*, actor: User, session: TreatmentSession) -> TreatmentSession:
    locked = lock_draft(session, actor, Perm.SESSION_SIGN)
    vials = session_vials(locked)
    injections = list(locked.injections.all())
    check = facts.dose_check(locked, injections, vials)
    result = check.as_result()
    decisions = list(locked.decisions.select_related("decided_by"))
    errors = missing_for_signature(locked, result, decisions, vials)
    if errors:
        raise ValidationError(errors)
    units = sum((i.units for i in injections if i.status == InjectionStatus.DONE), Decimal(0))
    before = {v.pk: (v.status, units_text(v.units_used), units_text(v.units_wasted)) for v in vials}
    settled = settle_vials(vials=vials, units_given=units)
    if locked.amends_id:
        record_resettled(actor, locked, settled, before)
    locked.findings = result["findings"]
    locked.totals = check.stored_totals()
    locked.rule_set = check.rule_set
    reasons = cosign_reasons(
        actor=actor, session=locked, injections=injections, decisions=decisions
    )
    locked.cosign_reasons = [r.as_dict() for r in reasons]
    locked.status = SessionStatus.AWAITING_COSIGN if reasons else SessionStatus.SIGNED
    locked.signed_at = timezone.now()
    locked.signed_by = actor
    locked.save()
    if locked.amends_id:
        TreatmentSession.objects.filter(pk=locked.amends_id, status__in=GIVEN_STATUSES).update(
            status=SessionStatus.AMENDED
        )
    else:
        queue_checkin_reminder(locked)
    mark_outcomes(locked.patient_id)
    if locked.status == SessionStatus.SIGNED:
        hooks.session_claimable(locked, actor)
    audit_record(
        actor,
        "update",
        locked,
        locked.patient,
        f"Signed {'amendment' if locked.amends_id else 'session'} {locked.pk}: {units} U"
        + (" (awaiting a physician's co-signature)" if reasons else ""),
        {
            "status": ["draft", locked.status],
            "cosign_reasons": [None, [r.message for r in reasons]],
            "units": [None, units],
            "rule_set": [None, locked.rule_set],
            "findings": [None, [f["rule_id"] for f in locked.findings]],
            "vials": [None, [[v.pk, str(used), str(waste)] for v, used, waste in settled]],
        },
    )
    # A given session starts a new cycle: its scale indications get their suggestions.
    store_suggestions(
        actor=actor,
        patient=locked.patient,
        indications={
            locked.indication,
            *(locked.indications or []),
            *(i.indication for i in injections),
        },
    )
    return locked
