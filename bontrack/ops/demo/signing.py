"""Demo history is written directly (no notifications, no claims hook): a session is stored as
signed the way signing stores it, with the dose check's findings, totals and rule sets for its
sites and vials."""

from __future__ import annotations

from datetime import datetime

from bontrack.accounts.models import User
from bontrack.treatments import facts
from bontrack.treatments.choices import SessionStatus
from bontrack.treatments.models import TreatmentSession


def mark_signed(
    session: TreatmentSession,
    signer: User | None,
    signed_at: datetime,
    *,
    fallback_rule_set: str = "",
) -> TreatmentSession:
    session.refresh_from_db()
    result = facts.run_dose_check(
        session,
        list(session.injections.all()),
        list(session.vial_uses.select_related("vial__lot")),
    )
    TreatmentSession.objects.filter(pk=session.pk).update(
        status=SessionStatus.SIGNED,
        signed_at=signed_at,
        signed_by=signer,
        findings=result["findings"],
        totals=result.get("totals", {}),
        rule_set=",".join(result.get("rule_sets") or [result.get("rule_set", "")])
        or fallback_rule_set,
    )
    session.refresh_from_db()
    return session
