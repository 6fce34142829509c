"""Clinic-defined, off-label protocols (issue 10 item 11): a physician builds one from the
vocabulary's muscles of the head, face and neck, and orders a plan from it for a patient.

The plan and its sessions go through the ordinary plan, session and dose-check machinery under
the off-label protocol's indication, which clinic_rules checks with the class-wide rules only
(cumulative window, re-treatment interval, contraindications, product)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.core.models import Clinic
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.models import (
    OFF_LABEL_INDICATION,
    ClinicProtocol,
    ClinicProtocolLine,
    PlanLine,
    TreatmentPlan,
)

MAX_LINES = 40
TEXT_FIELDS = {"name": 120, "condition": 200, "rationale": 2000}


def _lines(raw: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validated lines: a head, face or neck muscle of the off-label protocol, a side it takes,
    1-100 sites and some units. No labelled dose exists: the dose check judges the session."""
    muscles = facts.protocol_muscles(OFF_LABEL_INDICATION)
    out: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for i, line in enumerate(raw):
        muscle, side = str(line.get("muscle", "")), str(line.get("side", ""))
        sites, units = line.get("sites"), line.get("units")
        if muscle not in muscles:
            errors[f"lines.{i}.muscle"] = ["Choose a muscle of the head, face or neck."]
        elif side not in facts.protocol_sides(OFF_LABEL_INDICATION, muscle):
            errors[f"lines.{i}.side"] = ["Choose a side this muscle takes."]
        elif (muscle, side) in seen:
            errors[f"lines.{i}.muscle"] = ["This muscle and side are already in the protocol."]
        if not isinstance(sites, int) or isinstance(sites, bool) or not 1 <= sites <= 100:
            errors[f"lines.{i}.sites"] = ["Enter 1 to 100 sites."]
        if not isinstance(units, Decimal) or not Decimal(0) < units <= Decimal(1000):
            errors[f"lines.{i}.units"] = ["Enter the units (more than 0)."]
        seen.add((muscle, side))
        out.append({"muscle": muscle, "side": side, "sites": sites, "units": units})
    if not out:
        errors["lines"] = ["Add at least one muscle."]
    elif len(out) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines."]
    if errors:
        raise ValidationError(errors)
    return out


def _texts(fields: dict[str, str]) -> dict[str, str]:
    clean = {k: (fields.get(k) or "").strip() for k in TEXT_FIELDS}
    errors = {k: [f"At most {n} characters."] for k, n in TEXT_FIELDS.items() if len(clean[k]) > n}
    for k in ("name", "condition"):
        if not clean[k]:
            errors[k] = ["Required."]
    if errors:
        raise ValidationError(errors)
    return clean


def _snapshot(lines: Iterable[Any]) -> list[list[str]]:
    return [[str(_get(ln, k)) for k in ("muscle", "side", "sites", "units")] for ln in lines]


def _get(ln: Any, key: str) -> Any:
    return ln[key] if isinstance(ln, dict) else getattr(ln, key)


@transaction.atomic(durable=True)
def save_clinic_protocol(
    *,
    actor: User,
    clinic: Clinic,
    lines: Iterable[dict[str, Any]],
    protocol: ClinicProtocol | None = None,
    **fields: str,
) -> ClinicProtocol:
    """Create (``protocol=None``) or replace a clinic-defined protocol: physician only."""
    _require(actor, Perm.CLINIC_PROTOCOL_MANAGE, clinic.pk)
    unknown = set(fields) - set(TEXT_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in unknown})
    texts = _texts(fields)
    clean = _lines(lines)
    if protocol is not None:
        protocol = ClinicProtocol.objects.select_for_update().get(pk=protocol.pk)
        if protocol.clinic_id != clinic.pk:
            raise ValidationError({"clinic": ["This protocol belongs to another clinic."]})
    duplicate = ClinicProtocol.objects.filter(clinic=clinic, name=texts["name"], active=True)
    if protocol is not None:
        duplicate = duplicate.exclude(pk=protocol.pk)
    if duplicate.exists():
        raise Conflict("The clinic already has an active protocol of this name.", field="name")
    created = protocol is None
    before: dict[str, Any] = {}
    if protocol is None:
        protocol = ClinicProtocol(clinic=clinic, created_by=actor)
    else:
        before = audit.snapshot(protocol, list(TEXT_FIELDS))
        before["lines"] = _snapshot(protocol.lines.all())
        protocol.updated_by = actor
        protocol.lines.all().delete()
    for k, v in texts.items():
        setattr(protocol, k, v)
    protocol.save()
    ClinicProtocolLine.objects.bulk_create(
        ClinicProtocolLine(protocol=protocol, position=i, **ln) for i, ln in enumerate(clean)
    )
    after = audit.snapshot(protocol, list(TEXT_FIELDS))
    after["lines"] = _snapshot(clean)
    audit.record(
        actor=actor,
        action="create" if created else "update",
        obj=protocol,
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
        changes=audit.diff(before, after) if before else {k: [None, v] for k, v in after.items()},
        summary=f"Clinic-defined off-label protocol {'created' if created else 'changed'}: "
        f"{protocol.name}",
    )
    return protocol


@transaction.atomic(durable=True)
def retire_clinic_protocol(*, actor: User, protocol: ClinicProtocol) -> ClinicProtocol:
    """An inactive protocol is no longer offered; plans ordered from it stay as they are."""
    _require(actor, Perm.CLINIC_PROTOCOL_MANAGE, protocol.clinic_id)
    locked = ClinicProtocol.objects.select_for_update().get(pk=protocol.pk)
    if not locked.active:
        raise Conflict("This protocol is already retired.", field="active")
    locked.active = False
    locked.updated_by = actor
    locked.save(update_fields=["active", "updated_by", "updated_at"])
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        clinic_id=locked.clinic_id,
        practice_id=locked.clinic.practice_id,
        changes={"active": [True, False]},
        summary=f"Clinic-defined off-label protocol retired: {locked.name}",
    )
    return locked


@transaction.atomic(durable=True)
def order_plan(
    *, actor: User, patient: Patient, protocol: ClinicProtocol, note: str = ""
) -> TreatmentPlan:
    """The physician's order for this patient from a clinic-defined protocol: an active plan of
    the off-label indication with the protocol's lines (the previous one is replaced)."""
    _require(actor, Perm.CLINIC_PROTOCOL_MANAGE, patient.clinic_id)
    protocol = ClinicProtocol.objects.select_for_update().get(pk=protocol.pk)
    if protocol.clinic.practice_id != patient.practice_id:
        raise ValidationError({"protocol": ["Choose a protocol of this practice."]})
    if not protocol.active:
        raise Conflict("This protocol is retired.", field="protocol")
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": ["At most 1000 characters."]})
    lines = list(protocol.lines.all())
    previous = (
        TreatmentPlan.objects.select_for_update()
        .filter(patient=patient, indication=protocol.indication, active=True)
        .first()
    )
    if previous is not None:
        previous.active = False
        previous.save(update_fields=["active", "updated_at"])
    plan = TreatmentPlan.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        indication=protocol.indication,
        clinic_protocol=protocol,
        based_on=previous,
        note=note,
        created_by=actor,
        ordered_by=actor,
        ordered_at=timezone.now(),
    )
    PlanLine.objects.bulk_create(
        PlanLine(
            plan=plan,
            muscle=ln.muscle,
            side=ln.side,
            sites=ln.sites,
            units=ln.units,
            position=i,
        )
        for i, ln in enumerate(lines)
    )
    audit_record(
        actor,
        "create",
        plan,
        patient,
        f"Off-label plan ordered from the clinic protocol {protocol.name}: "
        f"{sum(ln.units for ln in lines)} U in {sum(ln.sites for ln in lines)} sites",
        {
            "clinic_protocol": [None, protocol.pk],
            "lines": [None, _snapshot(lines)],
            "based_on": [None, previous.pk if previous else None],
        },
    )
    return plan
