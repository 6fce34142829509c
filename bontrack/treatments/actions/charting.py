"""Charting a draft session: create it from the plan, edit its details and injection sites.

Each use case is one durable transaction with its audit row(s) inside; the actor's permission is
checked for the patient's clinic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
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
from bontrack.patients.models import Condition, Patient
from bontrack.treatments import facts
from bontrack.treatments.actions import templates as template_actions
from bontrack.treatments.actions.common import audit_record, lock_draft, muscle_errors
from bontrack.treatments.actions.dose_guard import guard_dose_check
from bontrack.treatments.actions.plans import Line, active_plan, plan_lines
from bontrack.treatments.actions.vials import session_vials
from bontrack.treatments.choices import (
    Guidance,
    InjectionStatus,
    SessionStatus,
)
from bontrack.treatments.models import (
    ClinicTemplate,
    Injection,
    TreatmentPlan,
    TreatmentSession,
)

MAX_FTP_ADDITIONS = 20  # sanity bound on rows added to one session (not a clinical limit)
MAX_SITES = 200  # the dose-check contract's bound on injections in one session
# Sanity bound on a site's recorded dilution (units per 0.1 mL), not a clinical limit: a whole
# 200 U vial in 0.1 mL is more than any reconstitution gives.
MAX_DILUTION = Decimal(200)


class _Unset:
    """A site field the caller leaves as it is."""


UNSET = _Unset()


def site_field_errors(
    *, sites: int | None, dilution: Decimal | None | _Unset, guidance: str | None
) -> dict[str, list[str]]:
    """The number of sites, the dilution and the guidance of a charted site, checked."""
    errors: dict[str, list[str]] = {}
    if sites is not None and not 1 <= sites <= 100:
        errors["sites"] = ["Enter 1 to 100 sites."]
    if isinstance(dilution, Decimal) and not Decimal(0) < dilution <= MAX_DILUTION:
        errors["dilution"] = [
            f"Enter the dilution in units per 0.1 mL (more than 0, at most {MAX_DILUTION})."
        ]
    if guidance is not None and guidance not in ("", *Guidance.values):
        errors["guidance"] = [
            "Choose the guidance: needle EMG, electrical stimulation, ultrasound or landmarks."
        ]
    return errors


# ---- sessions ----------------------------------------------------------------------------------


def _expand(lines: list[Line]) -> list[tuple[Line, Decimal]]:
    """One charted injection per site: a line of N sites and U units gives N rows of U/N."""
    out = []
    for ln in lines:
        per = (ln.units / ln.sites).quantize(Decimal("0.01"))
        out += [(ln, per)] * ln.sites
    return out


def treated_indications(patient: Patient) -> list[str]:
    """The indications the patient is treated for: active conditions (ICD-10-CM codes through
    the protocols' billing codes) plus indications with an active plan, in protocol order."""
    conditions = Condition.objects.filter(patient=patient, active=True).values_list(
        "indication", "icd10_code"
    )
    treated = set(facts.treated_indications(conditions))
    treated |= set(
        TreatmentPlan.objects.filter(patient=patient, active=True).values_list(
            "indication", flat=True
        )
    )
    return [c for c in facts.indication_codes() if c in treated]


def start_offers(patient: Patient) -> list[dict[str, Any]]:
    """What the chart offers: a session for each treated indication, with what it may start from:
    the active plan, the patient's last given session of the indication, the clinic's templates,
    then the protocol's labelled templates."""
    today = timezone.localdate()
    offers = []
    clinic_templates: dict[str, list[ClinicTemplate]] = {}
    for t in ClinicTemplate.objects.filter(clinic_id=patient.clinic_id, active=True):
        clinic_templates.setdefault(t.indication, []).append(t)
    last_dates = template_actions.last_given_dates(patient)
    for ind in treated_indications(patient):
        pediatric = facts.is_pediatric(ind, patient.date_of_birth, today)
        templates = facts.session_templates(ind, pediatric=pediatric)
        mine = [
            {"code": f"{CLINIC_PREFIX}{t.pk}", "label": t.name, "kind": "clinic"}
            for t in ([] if pediatric else clinic_templates.get(ind, []))
        ]
        last = last_dates.get(ind)
        if last is not None:
            mine.insert(
                0,
                {
                    "code": LAST_SESSION,
                    "label": f"as the last session ({timezone.localtime(last):%Y-%m-%d})",
                    "kind": "last",
                },
            )
        templates = [*mine, *templates]
        if active_plan(patient, ind) is not None:
            templates = [{"code": "", "label": "The active plan", "kind": "plan"}, *templates]
        offers.append({"code": ind, "label": facts.indication_label(ind), "templates": templates})
    return offers


LAST_SESSION = "last"
CLINIC_PREFIX = "clinic-"
Row = tuple[str, str, int, Decimal, bool]  # muscle, side, sites, units, follow_the_pain


def _line_rows(lines: list[Line], *, per_site: bool) -> list[Row]:
    if per_site:
        return [(ln.muscle, ln.side, 1, per, ln.follow_the_pain) for ln, per in _expand(lines)]
    return [(ln.muscle, ln.side, ln.sites, ln.units, ln.follow_the_pain) for ln in lines]


def _template_rows(
    patient: Patient,
    indication: str,
    template: str | None,
    plan: TreatmentPlan | None,
    clinic_id: int,
) -> list[Row]:
    """The draft's rows of one indication: the active plan when no template is named, else the
    start chain (last given session, clinic template, labelled template), or the named start:
    ``last``, ``clinic-<id>`` or a protocol template code."""
    pediatric = facts.is_pediatric(indication, patient.date_of_birth, timezone.localdate())
    fixed = facts.has_fixed_template(indication)
    if template is None:
        if plan is not None:
            return _line_rows(plan_lines(plan), per_site=fixed)
        start = template_actions.starting_point(
            patient, indication, clinic_id=clinic_id, pediatric=pediatric
        )
        if start.kind == "protocol":
            template = start.protocol_code
        else:  # a fixed protocol charts one row per site (the head map's sites)
            return _line_rows(start.lines, per_site=fixed and start.kind == "clinic_template")
    if template == LAST_SESSION:
        last = template_actions.last_given_session(patient, indication)
        if last is not None:
            return _line_rows(template_actions.session_lines(last, indication), per_site=False)
    elif template.startswith(CLINIC_PREFIX) and template[len(CLINIC_PREFIX) :].isdigit():
        mine = ClinicTemplate.objects.filter(
            pk=int(template[len(CLINIC_PREFIX) :]),
            clinic_id__in={clinic_id, patient.clinic_id},
            indication=indication,
            active=True,
        ).first()
        if mine is not None:
            return _line_rows(template_actions.template_lines(mine), per_site=fixed)
    offered = facts.session_templates(indication, pediatric=pediatric)
    codes = [t["code"] for t in offered]
    if template not in codes:
        raise ValidationError(
            {
                f"templates.{indication}": [
                    "Choose one of: " + ", ".join(t["label"] for t in offered) + "."
                ]
            }
        )
    return [
        (r["muscle"], r["side"], 1, r["units"], False)
        for r in facts.template_site_rows(indication, template)
    ]


@transaction.atomic(durable=True)
def create_session(
    *,
    actor: User,
    patient: Patient,
    performed_at: datetime | None = None,
    clinic: Clinic | None = None,
    indications: list[str] | None = None,
    templates: dict[str, str] | None = None,
) -> TreatmentSession:
    """A draft session of one or several indications, each from a template of its protocol (a
    fixed protocol's active plan when no template is named).

    ``indications`` defaults to the patient's treated indications; a patient with none on file gets
    no session (422: record the condition first), so nobody is given PREEMPT by default. A fixed
    (PREEMPT) template is refused for a patient whose recorded conditions do not include its
    indication.
    """
    clinic = clinic or patient.clinic
    if clinic.practice_id != patient.practice_id:
        raise ValidationError({"clinic_id": ["Choose a clinic of this practice."]})
    _require(actor, Perm.SESSION_CHART, patient.clinic_id)
    _require(actor, Perm.SESSION_CHART, clinic.pk)
    performed_at = performed_at or timezone.now()
    if performed_at > timezone.now() + timedelta(days=1):
        raise ValidationError({"performed_at": ["A session cannot be charted ahead of time."]})
    templates = dict(templates or {})
    treated = treated_indications(patient)
    if not treated:
        raise ValidationError(
            {
                "indications": [
                    "Record the condition this patient is treated for (with its ICD-10-CM code) "
                    "before starting a session."
                ]
            }
        )
    if indications is None:
        indications = treated
    indications = list(dict.fromkeys(indications))
    known = facts.indication_codes()
    errors: dict[str, list[str]] = {}
    if not indications:
        errors["indications"] = ["Choose at least one indication."]
    unknown = [c for c in indications if c not in known]
    if unknown:
        errors["indications"] = ["Choose indications from the list."]
    elif any(c not in treated for c in indications):
        errors["indications"] = ["Choose indications the patient is treated for."]
    if set(templates) - set(indications):
        errors["templates"] = ["Name a template only for the session's indications."]
    if errors:
        raise ValidationError(errors)
    if TreatmentSession.objects.filter(
        patient=patient, status=SessionStatus.DRAFT, amends__isnull=True
    ).exists():
        raise Conflict("This patient already has a draft session; finish it first.")
    rows: list[tuple[str, Row]] = []
    plans: dict[str, TreatmentPlan] = {}
    for ind in indications:
        plan = active_plan(patient, ind)
        if plan is not None and ind not in templates:
            plans[ind] = plan
        rows += [
            (ind, r)
            for r in _template_rows(patient, ind, templates.get(ind), plans.get(ind), clinic.pk)
        ]
    first_plan = next(iter(plans.values()), None)
    session = TreatmentSession.objects.create(
        patient=patient,
        clinic=clinic,
        indication=indications[0],
        indications=indications,
        performed_at=performed_at,
        plan=first_plan,
        created_by=actor,
    )
    Injection.objects.bulk_create(
        [
            Injection(
                session=session,
                indication=ind,
                muscle=muscle,
                side=side,
                sites=sites,
                units=units,
                follow_the_pain=ftp,
                position=i,
            )
            for i, (ind, (muscle, side, sites, units, ftp)) in enumerate(rows)
        ]
    )
    audit_record(
        actor,
        "create",
        session,
        patient,
        "Draft session for "
        + ", ".join(facts.indication_labels(indications))
        + (f" from plan {first_plan.pk}" if first_plan else ""),
        {
            "performed_at": [None, performed_at],
            "indications": [None, indications],
            "templates": [None, templates or None],
            "plan": [None, first_plan.pk if first_plan else None],
        },
    )
    return session


SESSION_FIELDS = [
    "performed_at",
    "consent_obtained",
    "medication_guide_offered",
    "diluent",
    "note",
]


@transaction.atomic(durable=True)
def update_session(
    *, actor: User, session: TreatmentSession, override_reason: str = "", **fields: Any
) -> TreatmentSession:
    locked = lock_draft(session, actor, Perm.SESSION_CHART)
    unknown = set(fields) - set(SESSION_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in unknown})
    before = audit.snapshot(locked, SESSION_FIELDS)
    for key, value in fields.items():
        setattr(locked, key, value)
    if "performed_at" in fields:
        if locked.performed_at > timezone.now() + timedelta(days=1):
            raise ValidationError({"performed_at": ["A session cannot be charted ahead of time."]})
        vials = session_vials(locked)
        if any(v.reconstituted_at and v.reconstituted_at > locked.performed_at for v in vials):
            raise ValidationError(
                {"performed_at": ["The session cannot be before a vial's reconstitution."]}
            )
        guard_dose_check(
            actor=actor,
            session=locked,
            injections=list(locked.injections.all()),
            vials=vials,
            override_reason=override_reason,
        )
    locked.full_clean(exclude=["findings", "totals"])
    changes = audit.diff(before, audit.snapshot(locked, SESSION_FIELDS))
    if changes:
        locked.save()
        audit_record(actor, "update", locked, locked.patient, "Updated session details", changes)
    return locked


@transaction.atomic(durable=True)
def update_injection(
    *,
    actor: User,
    injection: Injection,
    units: Decimal | None = None,
    status: str | None = None,
    override_reason: str = "",
    sites: int | None = None,
    dilution: Decimal | None | _Unset = UNSET,
    guidance: str | None = None,
) -> Injection:
    """Edit a site of a draft: units, done or skipped, number of sites, dilution (``None``
    clears it), guidance (``""`` clears it); a field left out stays as it is."""
    locked = lock_draft(injection.session, actor, Perm.SESSION_CHART)
    injections = list(locked.injections.all())
    target = next((i for i in injections if i.pk == injection.pk), None)
    if target is None:
        raise ValidationError({"injection": ["This site is not part of the session."]})
    errors = site_field_errors(sites=sites, dilution=dilution, guidance=guidance)
    if units is not None and not Decimal(0) < units <= Decimal(1000):
        errors["units"] = ["Enter the units given at this site (more than 0)."]
    if status is not None and status not in InjectionStatus.values:
        errors["status"] = ["Choose done or skipped."]
    if errors:
        raise ValidationError(errors)
    fields = ["units", "status", "sites", "dilution", "guidance"]
    before = audit.snapshot(target, fields)
    if units is not None:
        target.units = units
    if status is not None:
        target.status = status
    if sites is not None:
        target.sites = sites
    if not isinstance(dilution, _Unset):
        target.dilution = dilution
    if guidance is not None:
        target.guidance = guidance
    changes = audit.diff(before, audit.snapshot(target, fields))
    if not changes:
        return target
    guard_dose_check(
        actor=actor,
        session=locked,
        injections=injections,
        vials=session_vials(locked),
        override_reason=override_reason,
    )
    target.save(update_fields=fields)
    audit_record(
        actor,
        "update",
        target,
        locked.patient,
        f"Site {target.muscle} ({target.side}) on session {locked.pk}",
        changes,
    )
    return target


@transaction.atomic(durable=True)
def add_injection(
    *,
    actor: User,
    session: TreatmentSession,
    muscle: str,
    side: str,
    units: Decimal | None = None,
    sites: int = 1,
    override_reason: str = "",
    indication: str | None = None,
    dilution: Decimal | None = None,
    guidance: str = "",
) -> Injection:
    """A site added to a draft session, in one of its indications' protocols: a follow-the-pain
    addition for a fixed (PREEMPT) protocol, a clinician-built site for the others."""
    locked = lock_draft(session, actor, Perm.SESSION_CHART)
    indications = locked.indications or [locked.indication]
    indication = indication or indications[0]
    errors = muscle_errors(muscle, side)
    if indication not in indications:
        errors["indication"] = ["Choose one of the session's indications."]
    elif "muscle" not in errors and muscle not in facts.protocol_muscles(indication):
        errors["muscle"] = [f"Choose a muscle used for {facts.indication_label(indication)}."]
    elif "side" not in errors and side not in facts.protocol_sides(indication, muscle):
        errors["side"] = ["Choose a side this muscle is injected on."]
    fixed = facts.has_fixed_template(indication) if "indication" not in errors else False
    per_site = facts.fixed_units_per_site(indication) if fixed else None
    if units is None and per_site is not None:
        units = per_site * sites
    if units is None or not Decimal(0) < units <= Decimal(1000):
        errors["units"] = ["Enter the units (more than 0)."]
    errors.update(site_field_errors(sites=sites, dilution=dilution, guidance=guidance))
    injections = list(locked.injections.all())
    if sum(1 for i in injections if i.follow_the_pain) >= MAX_FTP_ADDITIONS and fixed:
        errors["muscle"] = ["Too many additions on one session."]
    if len(injections) >= MAX_SITES:
        errors["muscle"] = ["Too many sites on one session."]
    if errors:
        raise ValidationError(errors)
    assert units is not None
    row = Injection(
        session=locked,
        indication=indication,
        muscle=muscle,
        side=side,
        sites=sites,
        units=units,
        follow_the_pain=fixed,
        position=max((i.position for i in injections), default=0) + 1,
        dilution=dilution,
        guidance=guidance,
    )
    guard_dose_check(
        actor=actor,
        session=locked,
        injections=[*injections, row],
        vials=session_vials(locked),
        override_reason=override_reason,
    )
    row.save()
    audit_record(
        actor,
        "create",
        row,
        locked.patient,
        f"Added {units} U at {muscle} ({side}) on session {locked.pk}",
        {
            "muscle": [None, muscle],
            "side": [None, side],
            "units": [None, units],
            "sites": [None, sites],
            "dilution": [None, dilution],
            "guidance": [None, guidance or None],
        },
    )
    return row


@transaction.atomic(durable=True)
def remove_injection(*, actor: User, injection: Injection) -> None:
    """Remove an added site (fixed template sites are skipped, never removed)."""
    locked = lock_draft(injection.session, actor, Perm.SESSION_CHART)
    row = Injection.objects.filter(pk=injection.pk, session=locked).first()
    if row is None:
        raise ValidationError({"injection": ["This site is not part of the session."]})
    if not row.follow_the_pain and facts.has_fixed_template(row.indication):
        raise ValidationError({"injection": ["Template sites are marked skipped, not removed."]})
    rest = [i for i in locked.injections.all() if i.pk != row.pk]
    guard_dose_check(actor=actor, session=locked, injections=rest, vials=session_vials(locked))
    audit_record(
        actor,
        "delete",
        row,
        locked.patient,
        f"Removed addition {row.muscle} ({row.side}) from session {locked.pk}",
        {"units": [row.units, None]},
    )
    row.delete()
