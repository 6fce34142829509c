"""Co-signing a nurse's session that left the order or acknowledged a warning (physicians)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.treatments import hooks
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.choices import SessionStatus
from bontrack.treatments.models import TreatmentSession


@transaction.atomic(durable=True)
def cosign_session(*, actor: User, session: TreatmentSession) -> TreatmentSession:
    """The physician's co-signature: the session becomes signed (final, claimable).

    A session with a draft amendment open cannot be co-signed: the amendment replaces it.
    """
    locked = (
        TreatmentSession.objects.select_for_update()
        .select_related("patient", "clinic")
        .get(pk=session.pk)
    )
    _require(actor, Perm.SESSION_COSIGN, locked.patient.clinic_id)
    if locked.status != SessionStatus.AWAITING_COSIGN:
        raise Conflict("This session is not awaiting a co-signature.")
    if TreatmentSession.objects.filter(amends=locked, status=SessionStatus.DRAFT).exists():
        raise Conflict("A draft amendment of this session is open: sign or finish it instead.")
    locked.status = SessionStatus.SIGNED
    locked.cosigned_by = actor
    locked.cosigned_at = timezone.now()
    locked.save(update_fields=["status", "cosigned_by", "cosigned_at", "updated_at"])
    hooks.session_claimable(locked, actor)
    audit_record(
        actor,
        "update",
        locked,
        locked.patient,
        f"Co-signed session {locked.pk}",
        {
            "status": [SessionStatus.AWAITING_COSIGN, SessionStatus.SIGNED],
            "cosigned_by": [None, actor.pk],
            "cosigned_at": [None, locked.cosigned_at],
        },
    )
    return locked
