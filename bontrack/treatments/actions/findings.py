"""Dose-check findings of a session and the physician's decisions on them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record, lock_draft
from bontrack.treatments.actions.dose_guard import (
    override_reason_errors,
    record_decision,
    store_check,
)
from bontrack.treatments.actions.vials import session_vials
from bontrack.treatments.choices import (
    DecisionKind,
    SessionStatus,
)
from bontrack.treatments.models import (
    FindingDecision,
    TreatmentSession,
)


def current_findings(session: TreatmentSession) -> dict[str, Any]:
    """Stored findings for a signed session; a fresh dose-check for a draft."""
    if session.status != SessionStatus.DRAFT:
        return facts.DoseCheck.stored(session).as_result()
    return facts.dose_check(
        session, list(session.injections.all()), session_vials(session)
    ).as_result()


def warning_text(findings: Iterable[dict[str, Any]], rule_id: str) -> str:
    """What an acknowledgement of ``rule_id`` acknowledges: its current warning messages.

    One rule can warn several times (each PREEMPT muscle short of sites); the acknowledgement
    stores them all, so a changed or an added warning of the same rule is not covered by it.
    """
    text = "; ".join(
        sorted(
            str(f["message"])
            for f in findings
            if f["rule_id"] == rule_id and f["severity"] == "warn"
        )
    )
    if len(text) <= 500:
        return text
    return text[:480] + "… #" + hashlib.sha256(text.encode()).hexdigest()[:16]


# A physician's reason for acknowledging an off-label warning must say something: at least this
# many characters and words, and not the finding's own text (a UI rule, not a clinical one).
REASON_MIN_CHARS = 12
REASON_MIN_WORDS = 3
PHYSICIAN_ONLY = "A physician must acknowledge this off-label treatment."


def needs_physician(finding: dict[str, Any]) -> bool:
    """A warning only a physician may acknowledge, with a reason (clinic_rules ``ack_by``)."""
    return finding.get("severity") == "warn" and finding.get("ack_by") == "physician"


def decision_covers(
    decision: FindingDecision, finding: dict[str, Any], findings: Iterable[dict[str, Any]]
) -> bool:
    """A decision counts for a finding only while the finding still says what was decided.

    An override covers its rule's blocks (an edit creating a new block is refused anyway). An
    acknowledgement covers its rule's warnings only while they read as when acknowledged: after
    an edit that changes them (other units, other sites) they must be acknowledged again. A
    warning for a physician is covered only by an acknowledgement with a reason (the service
    takes those from physicians only).
    """
    if decision.rule_id != finding["rule_id"]:
        return False
    if decision.kind == DecisionKind.OVERRIDE:
        return True
    if needs_physician(finding) and not decision.reason.strip():
        return False
    return decision.message == warning_text(findings, finding["rule_id"])


def physician_reason(reason: str, finding: dict[str, Any]) -> str:
    """The physician's reason for an off-label treatment, refused unless it says something."""
    text = " ".join(reason.split())
    if not text:
        raise ValidationError(
            {"reason": ["Write why this patient is treated outside the labelled age."]}
        )
    said = text.casefold()
    if (
        len(text) < REASON_MIN_CHARS
        or sum(any(c.isalpha() for c in word) for word in text.split()) < REASON_MIN_WORDS
        or said in str(finding["message"]).casefold()
        or said == str(finding["rule_id"]).casefold()
    ):
        raise ValidationError(
            {
                "reason": [
                    "Say in your own words why this patient is treated outside the labelled "
                    f"age (a sentence of at least {REASON_MIN_WORDS} words)."
                ]
            }
        )
    return reason.strip()


@transaction.atomic(durable=True)
def decide_finding(
    *,
    actor: User,
    session: TreatmentSession,
    rule_id: str,
    reason: str = "",
    acknowledged: bool = True,
) -> FindingDecision:
    """Override a current block (physician, with a reason) or acknowledge a current warning.

    A warning for a physician (``ack_by: "physician"``, off-label age) is acknowledged by a
    physician only (403 for anyone else), with a reason that says something (422 otherwise).

    ``acknowledged`` is the explicit "I have read this warning" of the screen: a warning is
    acknowledged only when it is true. An acknowledgement whose warning text changed since is
    renewed (same row, new text, actor and time; audited).
    """
    locked = lock_draft(session, actor, Perm.SESSION_CHART)
    check = facts.dose_check(locked, list(locked.injections.all()), session_vials(locked))
    result = check.as_result()
    finding = next(
        (f for f in result["findings"] if f["rule_id"] == rule_id and f["severity"] != "info"), None
    )
    if finding is None:
        raise ValidationError({"rule_id": ["This finding is not on the session (any more)."]})
    if finding["severity"] == "block":
        _require(actor, Perm.SESSION_OVERRIDE_BLOCK, locked.patient.clinic_id)
        if rule_id == "INPUT":
            raise ValidationError({"rule_id": ["Correct the charting; this cannot be overridden."]})
        if problems := override_reason_errors(reason, [finding]):
            raise ValidationError({"reason": problems})
        kind = DecisionKind.OVERRIDE
    else:
        kind = DecisionKind.ACKNOWLEDGE
        if needs_physician(finding):
            if not actor.has_clinic_perm(Perm.SESSION_OVERRIDE_BLOCK, locked.patient.clinic_id):
                raise PermissionDenied(PHYSICIAN_ONLY)
            reason = physician_reason(reason, finding)
        if not acknowledged:
            raise ValidationError({"ack": ["Tick “I have read this warning” to acknowledge it."]})
    existing = FindingDecision.objects.filter(session=locked, rule_id=rule_id, kind=kind).first()
    if existing is not None:
        if decision_covers(existing, finding, result["findings"]):
            raise Conflict("This finding is already decided.", field="rule_id")
        before = {"message": existing.message, "reason": existing.reason}
        existing.message = warning_text(result["findings"], rule_id)
        if needs_physician(finding):  # a renewed off-label acknowledgement gives its reason anew
            existing.reason = reason[:1000]
        existing.decided_by = actor
        existing.decided_at = timezone.now()
        existing.save(update_fields=["message", "reason", "decided_by", "decided_at"])
        store_check(locked, check)
        audit_record(
            actor,
            "update",
            existing,
            locked.patient,
            f"Acknowledged {rule_id} again (the warning changed) on session {locked.pk}",
            {k: [v, getattr(existing, k)] for k, v in before.items() if v != getattr(existing, k)},
        )
        return existing
    if kind == DecisionKind.ACKNOWLEDGE:
        finding = {**finding, "message": warning_text(result["findings"], rule_id)}
    decision = record_decision(actor, locked, finding, kind, reason.strip())
    store_check(locked, check)
    return decision
