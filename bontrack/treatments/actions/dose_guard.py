"""The dose check on a proposed change: refuse unresolved blocks unless a physician overrides.

Draft edits run ``dose-check`` on the proposed state: an edit that leaves a ``block`` finding
without a physician override is refused (nothing is written), unless a physician passes
``override_reason`` with it. Signing also needs every ``warn`` acknowledged.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.choices import (
    DecisionKind,
)
from bontrack.treatments.models import (
    FindingDecision,
    Injection,
    TreatmentSession,
    VialUse,
)

# Program policy (not clinical): an override reason must say something of its own.
OVERRIDE_REASON_MIN_CHARS = 10


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def override_reason_errors(reason: str, findings: list[dict[str, Any]]) -> list[str]:
    """Why an override reason is not acceptable: too short, or the finding's own text copied."""
    text = _plain(reason)
    if len(text) < OVERRIDE_REASON_MIN_CHARS:
        return [
            f"Write the reason for the override in at least {OVERRIDE_REASON_MIN_CHARS} "
            "characters: why is this right for this patient?"
        ]
    if any(
        text in (_plain(str(f.get("message", ""))), _plain(str(f.get("rule_id", ""))))
        for f in findings
    ):
        return ["Write the reason in your own words; repeating the finding does not explain it."]
    return []


class Blocked(ValidationError):
    """A ``block`` finding without a physician override: the change was not saved (HTTP 422)."""

    def __init__(self, result: dict[str, Any], blocks: list[dict[str, Any]]) -> None:
        super().__init__(
            {
                "findings": [
                    f"{f['message']} A physician must override this with a reason." for f in blocks
                ]
            }
        )
        self.result = result
        self.blocks = blocks
        self.rule_ids = [str(f["rule_id"]) for f in blocks]  # the API's machine codes


def guard_dose_check(
    *,
    actor: User,
    session: TreatmentSession,
    injections: list[Injection],
    vials: list[VialUse],
    override_reason: str = "",
) -> facts.DoseCheck:
    """Run dose-check on the proposed state; refuse unresolved blocks unless a physician overrides.

    The one run of the rules for the change: its value is stored on the draft (findings, totals,
    rule sets) for the screen, the note and the API to render; a refused change stores nothing.
    """
    check = facts.dose_check(session, injections, vials)
    result = check.as_result()
    overridden = set(
        FindingDecision.objects.filter(session=session, kind=DecisionKind.OVERRIDE).values_list(
            "rule_id", flat=True
        )
    )
    blocks = [
        f for f in result["findings"] if f["severity"] == "block" and f["rule_id"] not in overridden
    ]
    if blocks and (not override_reason.strip() or any(f["rule_id"] == "INPUT" for f in blocks)):
        raise Blocked(result, blocks)
    if blocks:
        _require(actor, Perm.SESSION_OVERRIDE_BLOCK, session.patient.clinic_id)
        if problems := override_reason_errors(override_reason, blocks):
            raise ValidationError({"override_reason": problems})
        for f in blocks:
            record_decision(actor, session, f, DecisionKind.OVERRIDE, override_reason.strip())
    store_check(session, check)
    return check


def store_check(session: TreatmentSession, check: facts.DoseCheck) -> None:
    """Keep the dose check's value on the draft (one UPDATE, inside the caller's transaction)."""
    session.findings = [dict(f) for f in check.findings]
    session.totals = check.stored_totals()
    session.rule_set = check.rule_set
    TreatmentSession.objects.filter(pk=session.pk).update(
        findings=session.findings, totals=session.totals, rule_set=session.rule_set
    )


def record_decision(
    actor: User, session: TreatmentSession, finding: dict[str, Any], kind: str, reason: str
) -> FindingDecision:
    row = FindingDecision.objects.create(
        session=session,
        rule_id=finding["rule_id"],
        severity=finding["severity"],
        kind=kind,
        message=str(finding["message"])[:500],
        reason=reason[:1000],
        decided_by=actor,
        decided_at=timezone.now(),
    )
    audit_record(
        actor,
        "create",
        row,
        session.patient,
        f"{'Override' if kind == DecisionKind.OVERRIDE else 'Acknowledged'} {finding['rule_id']}"
        f" on session {session.pk}",
        {"rule_id": [None, finding["rule_id"]], "kind": [None, kind], "reason": [None, reason]},
    )
    return row
