"""Clinic templates per indication, and where a new plan or session starts from.

A clinic administrator or a physician saves the clinic's own templates (units per muscle and side)
for an indication; each change is one durable transaction with its audit row. A new plan or
session of an indication starts from, in order: the patient's last given session of that
indication (signed or awaiting co-signature), the clinic's template, the protocol's labelled
template (``starting_point``). No clinical number is typed here: the dose check judges the units
when the session is charted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.core.models import Clinic
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.actions.plans import Line
from bontrack.treatments.choices import GIVEN_STATUSES, InjectionStatus
from bontrack.treatments.models import ClinicTemplate, TreatmentSession

MAX_LINES = 40  # sanity bound on one template's rows (not a clinical limit)
NAME_MAX = 120


@dataclass(frozen=True)
class Start:
    """Where a new plan or session of one indication starts: ``kind`` is ``last_session``,
    ``clinic_template`` or ``protocol``; ``label`` is a sentence part for the screen."""

    kind: str
    label: str
    lines: list[Line] = field(default_factory=list)
    session: TreatmentSession | None = None
    template: ClinicTemplate | None = None
    protocol_code: str = ""


def template_lines(template: ClinicTemplate) -> list[Line]:
    return [
        Line(str(r["muscle"]), str(r["side"]), int(r["sites"]), Decimal(str(r["units"])))
        for r in template.lines
    ]


def template_units(template: ClinicTemplate) -> Decimal:
    return sum((ln.units for ln in template_lines(template)), Decimal(0))


def last_given_session(patient: Patient, indication: str) -> TreatmentSession | None:
    """The patient's last given session (signed or awaiting co-signature) with sites done in
    that indication."""
    return (
        TreatmentSession.objects.filter(
            patient=patient,
            status__in=GIVEN_STATUSES,
            injections__indication=indication,
            injections__status=InjectionStatus.DONE,
        )
        .order_by("-performed_at", "-id")
        .first()
    )


def last_given_dates(patient: Patient) -> dict[str, Any]:
    """{indication: when its last given session was performed} (one query)."""
    from django.db.models import Max

    rows = (
        TreatmentSession.objects.filter(
            patient=patient,
            status__in=GIVEN_STATUSES,
            injections__status=InjectionStatus.DONE,
        )
        .values("injections__indication")
        .annotate(last=Max("performed_at"))
    )
    return {r["injections__indication"]: r["last"] for r in rows}


def session_lines(session: TreatmentSession, indication: str) -> list[Line]:
    """The session's done sites of one indication as lines, one per charted row."""
    return [
        Line(i.muscle, i.side, int(i.sites), i.units, i.follow_the_pain)
        for i in session.injections.all()
        if i.indication == indication and i.status == InjectionStatus.DONE
    ]


def active_clinic_template(clinic_id: int, indication: str) -> ClinicTemplate | None:
    return (
        ClinicTemplate.objects.filter(clinic_id=clinic_id, indication=indication, active=True)
        .order_by("name", "id")
        .first()
    )


def starting_point(
    patient: Patient, indication: str, *, clinic_id: int | None = None, pediatric: bool = False
) -> Start:
    """The last given session of the indication, else the clinic's template (adults only), else
    the protocol's first labelled template for the patient's population."""
    last = last_given_session(patient, indication)
    if last is not None:
        lines = session_lines(last, indication)
        if lines:
            return Start(
                "last_session",
                f"the last session of {last.performed_at:%Y-%m-%d}",
                lines,
                session=last,
            )
    # Clinic templates hold units, not units per kg: a child starts from the labelled template
    # (per-kg guidance) until their own last session.
    template = (
        None if pediatric else active_clinic_template(clinic_id or patient.clinic_id, indication)
    )
    if template is not None:
        return Start(
            "clinic_template",
            f"the clinic template “{template.name}”",
            template_lines(template),
            template=template,
        )
    offered = facts.session_templates(indication, pediatric=pediatric)
    code = offered[0]["code"]
    rows = facts.template_site_rows(indication, code)
    merged: dict[tuple[str, str], Line] = {}
    for r in rows:
        key = (r["muscle"], r["side"])
        have = merged.get(key)
        merged[key] = Line(
            key[0],
            key[1],
            (have.sites if have else 0) + 1,
            (have.units if have else Decimal(0)) + Decimal(str(r["units"])),
        )
    return Start(
        "protocol",
        f"the labelled template “{offered[0]['label']}”",
        list(merged.values()),
        protocol_code=code,
    )


# ---- managing clinic templates -------------------------------------------------------------------


def _clean_lines(indication: str, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    muscles = facts.protocol_muscles(indication)
    rows = list(rows)
    if not rows:
        errors["lines"] = ["Add at least one muscle with its units."]
    if len(rows) > MAX_LINES:
        errors["lines"] = [f"A template holds at most {MAX_LINES} rows."]
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows[:MAX_LINES]):
        muscle, side = str(row.get("muscle", "")), str(row.get("side", ""))
        if muscle not in muscles:
            errors[f"lines.{i}.muscle"] = [
                f"Choose a muscle used for {facts.indication_label(indication)}."
            ]
        elif side not in facts.protocol_sides(indication, muscle):
            errors[f"lines.{i}.side"] = ["Choose a side this muscle is injected on."]
        elif (muscle, side) in seen:
            errors[f"lines.{i}.muscle"] = ["This muscle and side is already in the template."]
        seen.add((muscle, side))
        try:
            sites = int(row.get("sites", 0))
        except (TypeError, ValueError):
            sites = 0
        if not 1 <= sites <= 100:
            errors[f"lines.{i}.sites"] = ["Enter 1 to 100 sites."]
        try:
            units = Decimal(str(row.get("units", "")))
        except InvalidOperation:
            units = Decimal(0)
        if not (units.is_finite() and Decimal(0) < units <= Decimal(1000)):
            errors[f"lines.{i}.units"] = ["Enter the units (more than 0, at most 1000)."]
        else:
            units = units.quantize(Decimal("0.01"))
        out.append({"muscle": muscle, "side": side, "sites": sites, "units": str(units)})
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic(durable=True)
def save_template(
    *,
    actor: User,
    clinic: Clinic,
    indication: str,
    name: str,
    lines: Iterable[Mapping[str, Any]],
    note: str = "",
    template: ClinicTemplate | None = None,
) -> ClinicTemplate:
    """Create a clinic template, or change one (a new version of its rows; audited)."""
    _require(actor, Perm.TEMPLATE_MANAGE, clinic.pk)
    if template is not None:
        _require(actor, Perm.TEMPLATE_MANAGE, template.clinic_id)
        template = ClinicTemplate.objects.select_for_update().get(pk=template.pk)
        if not template.active:
            raise Conflict("This template was retired; save a new one instead.")
        indication = template.indication
        clinic = template.clinic
    errors: dict[str, list[str]] = {}
    if indication not in facts.indication_codes():
        errors["indication"] = ["Choose an indication from the list."]
    name = " ".join(name.split())
    if not name:
        errors["name"] = ["Name the template."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"Use at most {NAME_MAX} characters."]
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_lines(indication, lines)
    clash = ClinicTemplate.objects.filter(
        clinic=clinic, indication=indication, name=name, active=True
    )
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise Conflict("This clinic already has a template of that name.", field="name")
    if template is None:
        template = ClinicTemplate.objects.create(
            clinic=clinic,
            indication=indication,
            name=name,
            note=note.strip(),
            lines=cleaned,
            created_by=actor,
            updated_by=actor,
        )
        changes: dict[str, list[Any]] = {
            "indication": [None, indication],
            "name": [None, name],
            "lines": [None, cleaned],
        }
        action, verb = "create", "Saved"
    else:
        before = {"name": template.name, "note": template.note, "lines": template.lines}
        template.name, template.note, template.lines = name, note.strip(), cleaned
        template.updated_by = actor
        template.save(update_fields=["name", "note", "lines", "updated_by", "updated_at"])
        after = {"name": template.name, "note": template.note, "lines": template.lines}
        changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        action, verb = "update", "Changed"
    units = sum(Decimal(r["units"]) for r in cleaned)
    audit.record(
        actor=actor,
        action=action,
        obj=template,
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
        changes=changes,
        summary=f"{verb} clinic template “{name}” for {facts.indication_label(indication)}: "
        f"{units} U in {sum(int(r['sites']) for r in cleaned)} sites",
    )
    return template


@transaction.atomic(durable=True)
def retire_template(*, actor: User, template: ClinicTemplate) -> ClinicTemplate:
    """Retire a template: new plans and sessions no longer start from it (audited)."""
    _require(actor, Perm.TEMPLATE_MANAGE, template.clinic_id)
    locked = ClinicTemplate.objects.select_for_update().select_related("clinic").get(pk=template.pk)
    if not locked.active:
        raise Conflict("This template is already retired.")
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
        summary=f"Retired clinic template “{locked.name}”",
    )
    return locked
