"""Treatment plans: the PREEMPT template, follow-the-pain adjustments, creating a plan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record, muscle_errors
from bontrack.treatments.models import (
    PlanLine,
    ResponseReview,
    TreatmentPlan,
)


@dataclass(frozen=True)
class Line:
    muscle: str
    side: str
    sites: int
    units: Decimal
    follow_the_pain: bool = False


def template_lines() -> list[Line]:
    return [
        Line(str(r["muscle"]), str(r["side"]), int(r["sites"]), Decimal(str(r["units"])))
        for r in facts.preempt_rows()
    ]


def apply_adjustments(lines: list[Line], adjustments: Iterable[dict[str, Any]]) -> list[Line]:
    """Set each adjusted (muscle, side) line to its new sites and units; new pairs are added."""
    by_key = {(ln.muscle, ln.side): ln for ln in lines}
    order = [(ln.muscle, ln.side) for ln in lines]
    template = {(ln.muscle, ln.side): ln for ln in template_lines()}
    for adj in adjustments:
        key = (adj["muscle"], adj["side"])
        sites, units = int(adj["sites"]), Decimal(str(adj["units"]))
        if sites == 0:
            by_key.pop(key, None)
            continue
        base = template.get(key)
        extra = base is None or sites > base.sites
        by_key[key] = Line(key[0], key[1], sites, units, follow_the_pain=extra)
        if key not in order:
            order.append(key)
    return [by_key[k] for k in order if k in by_key]


def validate_lines(lines: Iterable[Line], field: str) -> None:
    errors: dict[str, list[str]] = {}
    for i, ln in enumerate(lines):
        for key, msgs in muscle_errors(ln.muscle, ln.side).items():
            errors[f"{field}.{i}.{key}"] = msgs
        if ln.sites < 1 or ln.sites > 100:
            errors[f"{field}.{i}.sites"] = ["Enter 1 to 100 sites."]
        if ln.units <= 0 or ln.units > 1000:
            errors[f"{field}.{i}.units"] = ["Enter the units (more than 0)."]
    if errors:
        raise ValidationError(errors)


def new_plan(
    *,
    actor: User,
    patient: Patient,
    lines: list[Line],
    based_on: TreatmentPlan | None,
    review: ResponseReview | None,
    note: str,
    indication: str | None = None,
    source: str = "",
) -> TreatmentPlan:
    indication = indication or facts.follow_the_pain_indication()
    TreatmentPlan.objects.filter(patient=patient, indication=indication, active=True).update(
        active=False
    )
    # A physician's plan is the order; anyone else's is a draft until a physician signs it.
    ordered = actor.has_clinic_perm(Perm.SESSION_COSIGN, patient.clinic_id)
    plan = TreatmentPlan.objects.create(
        ordered_by=actor if ordered else None,
        ordered_at=timezone.now() if ordered else None,
        patient=patient,
        indication=indication,
        clinic_id=patient.clinic_id,
        based_on=based_on,
        review=review,
        note=note,
        created_by=actor,
    )
    PlanLine.objects.bulk_create(
        [
            PlanLine(
                plan=plan,
                muscle=ln.muscle,
                side=ln.side,
                sites=ln.sites,
                units=ln.units,
                follow_the_pain=ln.follow_the_pain,
                position=i,
            )
            for i, ln in enumerate(lines)
        ]
    )
    audit_record(
        actor,
        "create",
        plan,
        patient,
        ("Ordered treatment plan " if ordered else "Draft treatment plan (awaits a physician) ")
        + f"for {facts.indication_label(indication)}: "
        + f"{sum(ln.units for ln in lines)} U in {sum(ln.sites for ln in lines)} sites"
        + (f", starting from {source}" if source else ""),
        {
            "indication": [None, indication],
            "lines": [None, [[ln.muscle, ln.side, ln.sites, str(ln.units)] for ln in lines]],
            "based_on": [None, based_on.pk if based_on else None],
            "ordered_by": [None, actor.pk if ordered else None],
        },
    )
    return plan


def plan_lines(plan: TreatmentPlan) -> list[Line]:
    return [
        Line(pl.muscle, pl.side, pl.sites, pl.units, pl.follow_the_pain) for pl in plan.lines.all()
    ]


def plan_start(patient: Patient, indication: str) -> tuple[str, list[Line], TreatmentPlan | None]:
    """What a new plan of the indication starts from: the active plan (the order being
    adjusted), else the last given session of the indication, else the clinic's template, else
    the protocol's labelled template. (label, lines, the active plan or None)."""
    from bontrack.treatments.actions.templates import starting_point

    last = active_plan(patient, indication)
    if last is not None:
        return "the active plan", plan_lines(last), last
    pediatric = facts.is_pediatric(indication, patient.date_of_birth, timezone.localdate())
    start = starting_point(patient, indication, pediatric=pediatric)
    return (
        start.label,
        [Line(ln.muscle, ln.side, ln.sites, ln.units, ln.follow_the_pain) for ln in start.lines],
        None,
    )


@transaction.atomic(durable=True)
def create_plan(
    *,
    actor: User,
    patient: Patient,
    additions: Iterable[dict[str, Any]] = (),
    note: str = "",
    indication: str | None = None,
) -> TreatmentPlan:
    """A new active plan of an indication (chronic migraine when none is named): it starts from
    ``plan_start`` (the active plan, the last given session, the clinic template, the labelled
    template); chronic migraine plans take follow-the-pain additions."""
    _require(actor, Perm.SESSION_CHART, patient.clinic_id)
    ftp_indication = facts.follow_the_pain_indication()
    indication = indication or ftp_indication
    if indication not in facts.indication_codes():
        raise ValidationError({"indication": ["Choose an indication from the list."]})
    from bontrack.treatments.actions.charting import treated_indications

    if indication != ftp_indication and indication not in treated_indications(patient):
        raise ValidationError({"indication": ["Choose an indication the patient is treated for."]})
    additions = list(additions)
    if additions and indication != ftp_indication:
        raise ValidationError(
            {"additions": ["Follow-the-pain additions belong to chronic migraine plans only."]}
        )
    source, lines, last = plan_start(patient, indication)
    adjustments = []
    current = {(ln.muscle, ln.side): ln for ln in lines}
    ftp = set(facts.ftp_limits()["muscles"])
    errors: dict[str, list[str]] = {}
    for i, add in enumerate(additions):
        if add.get("muscle") not in ftp:
            errors[f"additions.{i}.muscle"] = [
                "Follow-the-pain sites go in " + ", ".join(sorted(ftp)) + "."
            ]
            continue
        key = (add["muscle"], add["side"])
        have = current.get(key)
        sites = int(add.get("sites", 1))
        units = Decimal(str(add.get("units", facts.units_per_site() * sites)))
        adjustments.append(
            {
                "muscle": key[0],
                "side": key[1],
                "sites": (have.sites if have else 0) + sites,
                "units": (have.units if have else Decimal(0)) + units,
            }
        )
    if errors:
        raise ValidationError(errors)
    if adjustments:
        lines = apply_adjustments(lines, adjustments)
    validate_lines(lines, "additions")
    return new_plan(
        actor=actor,
        patient=patient,
        lines=lines,
        based_on=last,
        review=None,
        note=note.strip(),
        indication=indication,
        source=source,
    )


def active_plan(patient: Patient, indication: str | None = None) -> TreatmentPlan | None:
    """The active plan of an indication (the follow-the-pain protocol's when none is named)."""
    indication = indication or facts.follow_the_pain_indication()
    return (
        TreatmentPlan.objects.filter(patient=patient, indication=indication, active=True)
        .select_related("ordered_by")
        .prefetch_related("lines")
        .first()
    )
