"""The link between a session and its vials: the chain's vials, opening a vial for a session,
settling the vials at signing (inventory keeps the stock; these actions write the link)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.inventory.choices import VialStatus, WasteReason
from bontrack.inventory.models import Vial
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record, lock_draft
from bontrack.treatments.actions.dose_guard import guard_dose_check
from bontrack.treatments.models import TreatmentSession, VialUse


def chain_ids(sessions: Iterable[TreatmentSession]) -> dict[int, list[int]]:
    """Each session with the sessions it amends, back to the original (one query at most).

    A session's vials are the vials opened on any session of its chain: the original's plus
    the ones each amendment opened (``VialUse.session`` stays where the vial was opened).
    """
    sessions = list(sessions)
    links: dict[int, int] = {}
    if any(s.amends_id for s in sessions):
        links = dict(
            TreatmentSession.objects.filter(
                patient_id__in={s.patient_id for s in sessions}, amends__isnull=False
            ).values_list("pk", "amends_id")
        )
    out: dict[int, list[int]] = {}
    for s in sessions:
        ids, cur = [s.pk], s.amends_id
        while cur is not None and cur not in ids:
            ids.append(cur)
            cur = links.get(cur)
        out[s.pk] = ids
    return out


def session_vials(session: TreatmentSession) -> list[VialUse]:
    """The vials used on the session's chain (VialUse rows, with their vial and lot)."""
    ids = chain_ids([session])[session.pk]
    return list(
        VialUse.objects.filter(session_id__in=ids).select_related("vial__lot").order_by("vial_id")
    )


@transaction.atomic(durable=True)
def open_vial(
    *,
    actor: User,
    session: TreatmentSession,
    vial: Vial,
    diluent_ml: Decimal,
    reconstituted_at: datetime,
    override_reason: str = "",
) -> VialUse:
    """Pick a stocked vial for this session and record its dilution and reconstitution time.

    On a draft amendment the vial is opened for the amendment (``VialUse.session``); the amended
    session's vials stay as recorded until the amendment is signed, which settles them all again.
    """
    locked = lock_draft(session, actor, Perm.SESSION_CHART)
    locked_vial = Vial.objects.select_for_update().select_related("lot").get(pk=vial.pk)
    if reconstituted_at > locked.performed_at:
        raise ValidationError(
            {"reconstituted_at": ["Reconstitution must be before the injections."]}
        )
    vials = session_vials(locked)
    use = reconstitute_for_session(
        vial=locked_vial,
        session=locked,
        actor=actor,
        diluent_ml=diluent_ml,
        reconstituted_at=reconstituted_at,
    )
    guard_dose_check(
        actor=actor,
        session=locked,
        injections=list(locked.injections.all()),
        vials=[*vials, use],
        override_reason=override_reason,
    )
    audit_record(
        actor,
        "update",
        locked_vial,
        locked.patient,
        f"Opened vial {locked_vial.pk} (lot {locked_vial.lot.lot_number}) for session {locked.pk}",
        {
            "status": ["in_stock", locked_vial.status],
            "diluent_ml": [None, diluent_ml],
            "reconstituted_at": [None, reconstituted_at],
            "session": [None, locked.pk],
        },
    )
    return use


def units_text(units: Decimal) -> str:
    return str(Decimal(units).quantize(Decimal("0.01")))


def record_resettled(
    actor: User,
    amendment: TreatmentSession,
    settled: list[tuple[VialUse, Decimal, Decimal]],
    before: dict[int, tuple[str, str, str]],
) -> None:
    """Audit each vial whose use or waste the signed amendment changed (before -> after)."""
    for use, used, waste in settled:
        vial = use.vial
        status, used_before, waste_before = before[vial.pk]
        changes = audit.diff(
            {"status": status, "units_used": used_before, "units_wasted": waste_before},
            {
                "status": vial.status,
                "units_used": units_text(used),
                "units_wasted": units_text(waste),
            },
        )
        if changes:
            audit_record(
                actor,
                "update",
                vial,
                amendment.patient,
                f"Vial {vial.pk} settled again by amendment {amendment.pk}: {used} U used,"
                f" {waste} U wasted",
                changes,
            )


def reconstitute_for_session(
    *,
    vial: Vial,
    session: TreatmentSession,
    actor: User,
    diluent_ml: Decimal,
    reconstituted_at: datetime,
) -> VialUse:
    """Reconstitute a stocked vial for one session (inside the caller's transaction): the vial
    leaves stock for the patient, and a VialUse row links it to the session."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reconstitute_for_session runs inside a treatments action transaction")
    errors: dict[str, list[str]] = {}
    if vial.status != VialStatus.IN_STOCK:
        raise Conflict("This vial is not in stock.", field="vial_id")
    if vial.clinic_id != session.clinic_id:
        errors["vial_id"] = ["Choose a vial stocked in this session's clinic."]
    local_day = timezone.localtime(
        session.performed_at, zoneinfo.ZoneInfo(session.clinic.time_zone)
    ).date()
    if vial.lot.expiry < local_day or vial.lot.expiry < timezone.localdate():
        errors["vial_id"] = [f"Lot {vial.lot.lot_number} expired on {vial.lot.expiry:%Y-%m-%d}."]
    if vial.lot.recalled_at is not None:
        errors["vial_id"] = [f"Lot {vial.lot.lot_number} has been recalled; do not use it."]
    if vial.patient_id is not None and vial.patient_id != session.patient_id:
        errors["vial_id"] = ["This vial was dispensed for another patient; it cannot be used here."]
    if diluent_ml <= 0:
        errors["diluent_ml"] = ["Enter the diluent volume in mL."]
    if reconstituted_at > timezone.now():
        errors["reconstituted_at"] = ["Reconstitution cannot be in the future."]
    elif session.performed_at - reconstituted_at > timedelta(hours=facts.recon_max_hours()):
        # BTX-RECON-24H (S25): a reconstituted vial is usable for its use window only.
        errors["reconstituted_at"] = [
            f"A vial reconstituted more than {facts.recon_max_hours()} hours before the "
            "injections cannot be used; discard it."
        ]
    if errors:
        raise ValidationError(errors)
    # Conditional update: of two sessions reaching for the last vial, one wins (the other gets
    # 0 rows and a conflict), on PostgreSQL (with the row lock of open_vial) and on SQLite alike.
    taken = Vial.objects.filter(
        pk=vial.pk,
        status=VialStatus.IN_STOCK,
        lot__recalled_at__isnull=True,
    ).update(
        status=VialStatus.RECONSTITUTED, patient_id=session.patient_id, updated_at=timezone.now()
    )
    if taken != 1:
        raise Conflict("This vial was just taken for another session.", field="vial_id")
    vial.status = VialStatus.RECONSTITUTED
    vial.patient_id = session.patient_id
    return VialUse.objects.create(
        vial=vial,
        session=session,
        diluent_ml=diluent_ml,
        reconstituted_at=reconstituted_at,
        opened_by=actor,
    )


def settle_vials(
    *, vials: list[VialUse], units_given: Decimal
) -> list[tuple[VialUse, Decimal, Decimal]]:
    """At signing: the units given and wasted of each vial, computed by clinic_rules (filled in
    order, the rest of each is waste: POLICY-SINGLE-DOSE-VIAL), stored on the VialUse rows; the
    vials leave stock as used."""
    out = []
    for use, (used, wasted) in zip(vials, facts.vial_use(vials, units_given), strict=True):
        use.units_used = used
        use.units_wasted = wasted
        if wasted > 0 and not use.waste_reason:
            use.waste_reason = WasteReason.SINGLE_DOSE_REMAINDER
        elif wasted == 0:
            use.waste_reason = ""
        use.save(update_fields=["units_used", "units_wasted", "waste_reason", "updated_at"])
        use.vial.status = VialStatus.USED
        out.append((use, used, wasted))
    Vial.objects.filter(pk__in=[u.vial_id for u in vials]).exclude(status=VialStatus.USED).update(
        status=VialStatus.USED, updated_at=timezone.now()
    )
    return out
