"""Why a vial's unused units were wasted: the reason from the list and a note, on the vial's use
in a session (draft or given). Signing sets "rest of a single-dose vial" by default."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.inventory.choices import WasteReason
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.choices import GIVEN_STATUSES, SessionStatus
from bontrack.treatments.models import VialUse

MAX_NOTE = 300


@transaction.atomic(durable=True)
def set_waste_reason(*, actor: User, use: VialUse, reason: str, note: str = "") -> VialUse:
    """Record why the vial's unused units were wasted (audited, before -> after)."""
    locked = (
        VialUse.objects.select_for_update()
        .select_related("session__patient", "vial__lot")
        .get(pk=use.pk)
    )
    session = locked.session
    _require(actor, Perm.SESSION_CHART, session.patient.clinic_id)
    if session.status not in (SessionStatus.DRAFT, *GIVEN_STATUSES):
        raise Conflict("This session was superseded by an amendment; record the reason there.")
    errors: dict[str, list[str]] = {}
    if reason not in WasteReason.values:
        errors["waste_reason"] = ["Choose why the units were wasted."]
    note = note.strip()
    if reason == WasteReason.OTHER and not note:
        errors["waste_note"] = ["Say what happened in the note."]
    if len(note) > MAX_NOTE:
        errors["waste_note"] = [f"Keep the note under {MAX_NOTE} characters."]
    if errors:
        raise ValidationError(errors)
    before = (locked.waste_reason, locked.waste_note)
    locked.waste_reason, locked.waste_note = reason, note
    locked.save(update_fields=["waste_reason", "waste_note", "updated_at"])
    audit_record(
        actor,
        "update",
        locked,
        session.patient,
        f"Waste reason of vial {locked.vial_id} (lot {locked.vial.lot.lot_number}) in session "
        f"{session.pk}: {WasteReason(reason).label}",
        {
            "waste_reason": [before[0], reason],
            "waste_note": [before[1], note],
        },
    )
    return locked
