"""Amending a signed session: a new draft that copies it, with the vials re-settled."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.choices import (
    GIVEN_STATUSES,
    SessionStatus,
)
from bontrack.treatments.models import (
    FindingDecision,
    Injection,
    TreatmentSession,
)


@transaction.atomic(durable=True)
def amend_session(*, actor: User, session: TreatmentSession, reason: str) -> TreatmentSession:
    """A draft correction of a signed session (or one awaiting co-signature), starting as a copy
    of it; signing it replaces the original."""
    original = (
        TreatmentSession.objects.select_for_update().select_related("patient").get(pk=session.pk)
    )
    _require(actor, Perm.SESSION_SIGN, original.patient.clinic_id)
    if original.status not in GIVEN_STATUSES:
        raise Conflict("Only a signed, current session can be amended.")
    if not reason.strip():
        raise ValidationError({"reason": ["Say what the amendment corrects."]})
    if TreatmentSession.objects.filter(amends=original, status=SessionStatus.DRAFT).exists():
        raise Conflict("A draft amendment of this session already exists.")
    copy = TreatmentSession.objects.create(
        patient=original.patient,
        clinic_id=original.clinic_id,
        indication=original.indication,
        indications=original.indications,
        product=original.product,
        performed_at=original.performed_at,
        plan=original.plan,
        amends=original,
        amendment_reason=reason.strip(),
        consent_obtained=original.consent_obtained,
        medication_guide_offered=original.medication_guide_offered,
        diluent=original.diluent,
        note=original.note,
        created_by=actor,
    )
    Injection.objects.bulk_create(
        [
            Injection(
                session=copy,
                indication=i.indication,
                muscle=i.muscle,
                side=i.side,
                sites=i.sites,
                units=i.units,
                status=i.status,
                follow_the_pain=i.follow_the_pain,
                position=i.position,
                dilution=i.dilution,
                guidance=i.guidance,
            )
            for i in original.injections.all()
        ]
    )
    FindingDecision.objects.bulk_create(
        [
            FindingDecision(
                session=copy,
                rule_id=d.rule_id,
                severity=d.severity,
                kind=d.kind,
                message=d.message,
                reason=d.reason,
                decided_by_id=d.decided_by_id,
                decided_at=d.decided_at,
            )
            for d in original.decisions.all()
        ]
    )
    audit_record(
        actor,
        "create",
        copy,
        original.patient,
        f"Amendment of session {original.pk}",
        {"amends": [None, original.pk], "reason": [None, reason.strip()]},
    )
    return copy
