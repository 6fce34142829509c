"""Signing a session: what is missing for a signature, settling its vials."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.outcomes.services import mark as mark_outcomes
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record, lock_draft
from bontrack.treatments.actions.findings import decision_covers
from bontrack.treatments.actions.follow_up import queue_checkin_reminder
from bontrack.treatments.actions.vials import (
    record_resettled,
    session_vials,
    settle_vials,
    units_text,
)
from bontrack.treatments.choices import (
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
                f"{f['rule_id']}: needs a physician override with a reason."
            )
        if f["severity"] == "warn" and not any(
            d.kind == DecisionKind.ACKNOWLEDGE and decision_covers(d, f, result["findings"])
            for d in decisions
        ):
            errors.setdefault("findings", []).append(f"{f['rule_id']}: acknowledge this warning.")
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


@transaction.atomic(durable=True)
def sign_session(*, actor: User, session: TreatmentSession) -> TreatmentSession:
    locked = lock_draft(session, actor, Perm.SESSION_SIGN)
    vials = session_vials(locked)
    injections = list(locked.injections.all())
    check = facts.dose_check(locked, injections, vials)
    result = check.as_result()
    decisions = list(locked.decisions.all())
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
    locked.status = SessionStatus.SIGNED
    locked.signed_at = timezone.now()
    locked.signed_by = actor
    locked.save()
    if locked.amends_id:
        TreatmentSession.objects.filter(pk=locked.amends_id, status=SessionStatus.SIGNED).update(
            status=SessionStatus.AMENDED
        )
    else:
        queue_checkin_reminder(locked)
    mark_outcomes(locked.patient_id)
    audit_record(
        actor,
        "update",
        locked,
        locked.patient,
        f"Signed {'amendment' if locked.amends_id else 'session'} {locked.pk}: {units} U",
        {
            "status": ["draft", "signed"],
            "units": [None, units],
            "rule_set": [None, locked.rule_set],
            "findings": [None, [f["rule_id"] for f in locked.findings]],
            "vials": [None, [[v.pk, str(used), str(waste)] for v, used, waste in settled]],
        },
    )
    return locked
