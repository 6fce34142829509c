"""Demo history for the recall list: signed sessions across indications, 4 to 20 weeks ago.

Split from ``bontrack.ops.demo.treatments`` (which calls ``seed_history``).
"""

from __future__ import annotations

import random
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bontrack.core.models import Clinic, Practice
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Vial
from bontrack.ops.demo.treatments import _at, _physician
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.choices import SessionStatus
from bontrack.treatments.models import (
    Injection,
    TreatmentSession,
    VialUse,
)

# ---- history for the recall list ---------------------------------------------------------------
#
# ~60 patients across indications with signed sessions whose last one is 4 to 20 weeks ago, so the
# scheduling recall list shows not-yet-due, due and overdue patients. Every number of a dose comes
# from clinic_rules data (per-site and session caps, dilution) and each generated session is run
# through ``dose-check``: a session with a block is scaled down and re-checked, or dropped.

HISTORY_PATIENTS = 60
HISTORY_WEEKS = (4, 20)  # the last session this many weeks ago (a spread for the recall list)
HISTORY_INDICATIONS = (
    "chronic_migraine",
    "cervical_dystonia",
    "blepharospasm",
    "upper_limb_spasticity",
    "lower_limb_spasticity",
)
# Rule IDs holding each indication's caps (the numbers are read from them).
_SITE_CAP = {
    "cervical_dystonia": ("BTX-CD-SITE-50", "max_units_per_site"),
    "blepharospasm": ("BTX-BLEPH-INITIAL-SITE", "max_initial_units_per_site"),
    "upper_limb_spasticity": ("BTX-SPAS-ADULT-SITE-50", "max_units_per_site"),
    "lower_limb_spasticity": ("BTX-SPAS-ADULT-SITE-50", "max_units_per_site"),
}
_SESSION_RANGE = {
    "cervical_dystonia": ("BTX-CD-SESSION-300", None, "max_units"),
    "upper_limb_spasticity": ("BTX-ULS-ADULT-RANGE", "min_units", "max_units"),
    "lower_limb_spasticity": ("BTX-LLS-ADULT-RANGE", "min_units", "max_units"),
}
_PEDS_CAP = {
    "upper_limb_spasticity": "BTX-PEDS-ULS-6UKG-200",
    "lower_limb_spasticity": "BTX-PEDS-LLS-8UKG-300",
}
_DILUTION = {
    "chronic_migraine": "BTX-DIL-CM",
    "cervical_dystonia": "BTX-DIL-CD",
    "blepharospasm": "BTX-DIL-BLEPH",
    "upper_limb_spasticity": "BTX-DIL-SPAS-ADULT",
    "lower_limb_spasticity": "BTX-DIL-SPAS-ADULT",
}
_SCALE_STEPS = 6  # times a blocked session is scaled down before it is dropped
# How the demo's injectors place the needle, per indication (one modality per session, taken in
# turn): the localization the fact sheet names for each (EMG may help for cervical dystonia, S24;
# EMG, nerve stimulation or ultrasound for spasticity, S21, S23d, S18; blepharospasm without EMG,
# S20). Chronic migraine's fixed PREEMPT sites record none.
_GUIDANCE = {
    "cervical_dystonia": ("emg", "emg", "ultrasound"),
    "blepharospasm": ("landmarks",),
    "upper_limb_spasticity": ("ultrasound", "estim", "emg"),
    "lower_limb_spasticity": ("ultrasound", "emg", "estim"),
}


def _per_tenth_ml(indication: str) -> Decimal:
    """The indication's first labelled concentration, in units per 0.1 mL."""
    from bontrack.ops.facts import rule

    return Decimal(str(rule(_DILUTION[indication]).nums("units_per_tenth_ml")[0]))


def _diluent_ml(indication: str, size: int) -> Decimal:
    from bontrack.ops.facts import rule

    per_tenth = _per_tenth_ml(indication)
    tenths_per_ml = Decimal(str(rule("BTX-DILUTION-ARITH").num("tenths_per_ml")))
    return (Decimal(size) / (per_tenth * tenths_per_ml)).quantize(Decimal("0.01"))


def _round_units(value: Decimal) -> Decimal:
    return max(value.quantize(Decimal("0.01")), Decimal("0.01"))


def _candidate(
    indication: str, muscles: list[str], rng: random.Random, pediatric: bool, weight: float | None
) -> list[tuple[str, str, int, Decimal]]:
    """(muscle, side, sites, units) rows for one session, sized from rule data."""
    from bontrack.ops.facts import rule

    if facts.has_fixed_template(indication):
        return [
            (str(r["muscle"]), str(r["side"]), 1, Decimal(str(r["units"])))
            for r in facts.preempt_site_rows()
        ]
    site_rule, site_key = _SITE_CAP[indication]
    site_cap = Decimal(str(rule(site_rule).num(site_key)))
    if indication == "blepharospasm":
        return [(m, side, 1, site_cap) for m in muscles for side in ("left", "right")]
    lo, hi = Decimal(0), None
    if indication in _SESSION_RANGE:
        rid, lo_key, hi_key = _SESSION_RANGE[indication]
        hi = Decimal(str(rule(rid).num(hi_key)))
        lo = Decimal(str(rule(rid).num(lo_key))) if lo_key else Decimal(0)
    if pediatric and indication in _PEDS_CAP and weight:
        r = rule(_PEDS_CAP[indication])
        hi = min(
            Decimal(str(r.num("max_units"))), Decimal(str(r.num("units_per_kg"))) * Decimal(weight)
        )
        lo = Decimal(0)
    if hi is None:
        hi = site_cap * len(muscles)
    target = lo + (hi - lo) * Decimal(rng.randint(1, 9)) / 10
    chosen = rng.sample(muscles, k=min(len(muscles), rng.randint(2, 4)))
    side = rng.choice(["left", "right"])
    per_muscle = target / len(chosen)
    rows = []
    for m in chosen:
        sites = max(1, int((per_muscle / site_cap).to_integral_value(rounding="ROUND_CEILING")))
        rows.append((m, side, sites, min(site_cap, _round_units(per_muscle / sites))))
    return rows


def _check(doc: dict) -> dict:
    from bontrack.ops.facts import contract

    try:
        return contract.run("dose-check", doc)
    except contract.InputError:
        return {"findings": [{"severity": "block", "rule_id": "INPUT"}]}


Row = tuple[str, str, int, Decimal]  # muscle, side, sites, units per site


@dataclass
class CheckedSession:
    """A session from a template that the dose check lets through (rows as finally scaled)."""

    rows: list[Row]
    result: dict[str, Any]
    size: int  # the vial size used
    n_vials: int
    total: Decimal
    performed: datetime


def session_from_template(
    indication: str,
    rows: list[Row],
    *,
    day: date,
    performed_at: Callable[[], datetime],
    patient: dict[str, Any],
    history: list[dict[str, Any]],
    sizes: Sequence[int],
) -> CheckedSession | None:
    """The dose-check document of a session of ``rows`` on ``day`` (the smallest vial size of
    ``sizes`` that holds it, else the largest, as many vials as needed, each reconstituted 30
    minutes before), checked by ``clinic_rules``; while a finding blocks it, every dose is scaled
    down by a quarter and checked again, up to ``_SCALE_STEPS`` times (None: still blocked).
    ``performed_at`` is called once per attempt. Used by the demo history and the large seed."""
    for _ in range(_SCALE_STEPS):
        total = sum((u * n for _, _, n, u in rows), Decimal(0))
        size = next((z for z in sizes if z >= total), sizes[-1])
        n_vials = int((total / size).to_integral_value(rounding="ROUND_CEILING"))
        performed = performed_at()
        doc = {
            "as_of": day.isoformat(),
            "patient": patient,
            "history": history,
            "session": {
                "date": day.isoformat(),
                "performed_at": performed.isoformat(),
                "product": "onabotulinumtoxinA",
                "injections": [
                    {
                        "indication": indication,
                        "muscle": m,
                        "side": sd,
                        "sites": n,
                        "units": float(u * n),
                    }
                    for m, sd, n, u in rows
                ],
                "vials": [
                    {
                        "size_units": size,
                        "diluent_ml": float(_diluent_ml(indication, size)),
                        "reconstituted_at": (performed - timedelta(minutes=30)).isoformat(),
                    }
                ]
                * n_vials,
            },
        }
        result = _check(doc)
        if not any(f["severity"] == "block" for f in result["findings"]):
            return CheckedSession(rows, result, size, n_vials, total, performed)
        rows = [(m, sd, n, _round_units(u * 3 / 4)) for m, sd, n, u in rows]
    return None


def seed_history(
    *, practice: Practice, rng: random.Random, today: date, exclude: set[str], lot_by_size: dict
) -> int:
    from bontrack.ops.facts import contract, retreatment_interval
    from bontrack.patients.models import Condition, PatientFlag, WeightMeasurement

    vocab = contract.vocabulary()
    ind_info = {i["code"]: i for i in vocab["indications"]}  # type: ignore[index]
    muscles_for = {
        ind: [m["code"] for m in vocab["muscles"] if ind in m["indications"]]  # type: ignore[index]
        for ind in HISTORY_INDICATIONS
    }
    per_ind = HISTORY_PATIENTS // len(HISTORY_INDICATIONS)
    picked: list[tuple[Patient, str]] = []
    taken: set[int] = set(
        TreatmentSession.objects.filter(patient__practice=practice).values_list(
            "patient_id", flat=True
        )
    )
    conditions = (
        Condition.objects.filter(
            patient__practice=practice,
            patient__status="active",
            active=True,
            indication__in=HISTORY_INDICATIONS,
        )
        .exclude(patient__mrn__in=exclude)
        .select_related("patient", "patient__clinic")
        .order_by("patient_id", "id")
    )
    pool: dict[str, list[Patient]] = {ind: [] for ind in HISTORY_INDICATIONS}
    for c in conditions:
        if c.patient_id not in taken:
            pool[c.indication].append(c.patient)
            taken.add(c.patient_id)
    for ind in HISTORY_INDICATIONS:
        # A few more candidates than needed: contraindicated patients drop out below.
        picked += [(p, ind) for p in pool[ind][: per_ind + 4]]
    ids = [p.pk for p, _ in picked]
    flags: dict[int, list[str]] = {}
    for pid, flag in PatientFlag.objects.filter(patient_id__in=ids, active=True).values_list(
        "patient_id", "flag"
    ):
        flags.setdefault(pid, []).append(flag)
    weights: dict[int, float] = {}
    for pid, kg in (
        WeightMeasurement.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "measured_on")
        .values_list("patient_id", "weight_kg")
    ):
        weights[pid] = float(kg)
    doctors = {c.pk: _physician(practice, c) for c in Clinic.objects.filter(practice=practice)}
    sizes = sorted(lot_by_size)
    sessions: list[TreatmentSession] = []
    planned: list[tuple[TreatmentSession, list[tuple[str, str, int, Decimal]], dict]] = []
    made = dict.fromkeys(HISTORY_INDICATIONS, 0)
    for patient, ind in picked:
        if made[ind] >= per_ind:
            continue
        zone = zoneinfo.ZoneInfo(patient.clinic.time_zone)
        age = (today - patient.date_of_birth).days // 365
        pediatric = age < int(ind_info[ind]["adult_age"])  # type: ignore[call-overload]
        if age < int(ind_info[ind]["min_age"]):  # type: ignore[call-overload]
            continue
        interval = int(retreatment_interval(ind, pediatric=pediatric)["min_days"])  # type: ignore[call-overload]
        last_day = today - timedelta(days=7 * rng.randint(*HISTORY_WEEKS) + rng.randint(0, 6))
        days = [
            last_day - timedelta(days=interval * k + rng.randint(0, 10))
            for k in range(rng.randint(1, 3))
        ]
        days = sorted(d for d in days if d >= patient.date_of_birth)
        history: list[dict] = []
        patient_doc: dict = {
            "birth_date": patient.date_of_birth.isoformat(),
            "flags": sorted(flags.get(patient.pk, [])),
        }
        if patient.pk in weights:
            patient_doc["weight_kg"] = weights[patient.pk]
        ok = True
        rows_by_day = []
        for day in days:
            rows = _candidate(ind, muscles_for[ind], rng, pediatric, weights.get(patient.pk))

            def performed_at(day: date = day, zone: zoneinfo.ZoneInfo = zone) -> datetime:
                return _at(day, zone, 9 + rng.randint(0, 7))

            checked = session_from_template(
                ind,
                rows,
                day=day,
                performed_at=performed_at,
                patient=patient_doc,
                history=history,
                sizes=sizes,
            )
            if checked is None:
                ok = False
                break
            rows, result, size = checked.rows, checked.result, checked.size
            n_vials, total, performed = checked.n_vials, checked.total, checked.performed
            history.append(
                {
                    "date": day.isoformat(),
                    "product": "onabotulinumtoxinA",
                    "indication": ind,
                    "total_units": float(total),
                }
            )
            rows_by_day.append((day, performed, rows, result, size, n_vials, total))
        if not ok or not rows_by_day:
            continue
        made[ind] += 1
        doctor = doctors.get(patient.clinic_id)
        for _day, performed, rows, result, size, n_vials, total in rows_by_day:
            s = TreatmentSession(
                patient=patient,
                clinic=patient.clinic,
                indication=ind,
                indications=[ind],
                performed_at=performed,
                consent_obtained=True,
                medication_guide_offered=True,
                created_by=doctor,
            )
            sessions.append(s)
            planned.append(
                (
                    s,
                    rows,
                    {
                        "result": result,
                        "size": size,
                        "n": n_vials,
                        "total": total,
                        "doctor": doctor,
                    },
                )
            )
    TreatmentSession.objects.bulk_create(sessions)
    injections: list[Injection] = []
    vials: list[Vial] = []
    uses: list[VialUse] = []
    for n, (s, rows, meta) in enumerate(planned):
        pos = 0
        ways = _GUIDANCE.get(s.indication)
        guidance = ways[n % len(ways)] if ways else ""
        dilution = _per_tenth_ml(s.indication) if ways else None
        for m, sd, sites, u in rows:
            # One row per site (units per site), as charting does.
            for _ in range(sites):
                injections.append(
                    Injection(
                        session=s,
                        indication=s.indication,
                        muscle=m,
                        side=sd,
                        units=u,
                        position=pos,
                        guidance=guidance,
                        dilution=dilution,
                    )
                )
                pos += 1
        remaining = meta["total"]
        for _ in range(meta["n"]):
            used = min(Decimal(meta["size"]), remaining)
            remaining -= used
            vial = Vial(
                lot=lot_by_size[meta["size"]],
                clinic=s.clinic,
                status=VialStatus.USED,
                patient=s.patient,
            )
            vials.append(vial)
            uses.append(
                VialUse(
                    vial=vial,
                    session=s,
                    reconstituted_at=s.performed_at - timedelta(minutes=30),
                    diluent_ml=_diluent_ml(s.indication, meta["size"]),
                    units_used=used,
                    units_wasted=Decimal(meta["size"]) - used,
                    opened_by=meta["doctor"],
                )
            )
    Injection.objects.bulk_create(injections, batch_size=2000)
    Vial.objects.bulk_create(vials, batch_size=2000)
    for use in uses:
        use.vial_id = use.vial.pk
    VialUse.objects.bulk_create(uses, batch_size=2000)
    for s, _rows, meta in planned:
        result = meta["result"]
        s.status = SessionStatus.SIGNED
        s.signed_at = s.performed_at + timedelta(minutes=30)
        s.signed_by = meta["doctor"]
        s.findings = result["findings"]
        s.totals = result.get("totals", {})
        s.rule_set = ",".join(result.get("rule_sets") or [result.get("rule_set", "")]) or "botox-us"
    TreatmentSession.objects.bulk_update(
        [s for s, _, _ in planned],
        ["status", "signed_at", "signed_by", "findings", "totals", "rule_set"],
        batch_size=500,
    )
    return len(planned)


# ---- sessions awaiting a physician's co-signature -----------------------------------------------
#
# One per clinic: a nurse injector charted the physician's PREEMPT order with one deviation (the
# left corrugator given 10 U where 5 U were ordered) and signed yesterday; the session waits on the
# clinic physician's worklist. The deviation text comes from ``treatments.actions.orders``.

COSIGN_DEVIATION = ("corrugator", "left", Decimal(10))


def _nurse(clinic: Clinic):  # type: ignore[no-untyped-def]
    from bontrack.accounts.models import User
    from bontrack.accounts.roles import Role

    return (
        User.objects.filter(memberships__role=Role.NURSE, memberships__clinic=clinic)
        .order_by("pk")
        .first()
    )


def seed_awaiting_cosign(*, practice: Practice, today: date, exclude: set[str], lot) -> int:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from bontrack.treatments.actions.orders import order_deviations
    from bontrack.treatments.models import PlanLine, TreatmentPlan

    made = 0
    cm = facts.follow_the_pain_indication()
    recent = today - timedelta(days=facts.retreatment_interval_days(cm) + 7)
    for clinic in Clinic.objects.filter(practice=practice).order_by("pk"):
        doctor, nurse = _physician(practice, clinic), _nurse(clinic)
        if doctor is None or nurse is None:
            continue
        patient = (
            Patient.objects.filter(
                clinic=clinic, conditions__indication=cm, conditions__active=True
            )
            .exclude(mrn__in=exclude)
            .exclude(treatment_sessions__performed_at__date__gte=recent)
            .exclude(treatment_plans__active=True)
            .order_by("pk")
            .first()
        )
        if patient is None:
            continue
        zone = zoneinfo.ZoneInfo(clinic.time_zone)
        plan = TreatmentPlan.objects.create(
            patient=patient,
            clinic=clinic,
            indication=cm,
            created_by=doctor,
            note="PREEMPT",
            ordered_by=doctor,
            ordered_at=timezone.now() - timedelta(days=7),
        )
        rows = facts.preempt_rows()
        PlanLine.objects.bulk_create(
            [
                PlanLine(
                    plan=plan,
                    muscle=r["muscle"],
                    side=r["side"],
                    sites=r["sites"],
                    units=Decimal(str(r["units"])),
                    position=i,
                )
                for i, r in enumerate(rows)
            ]
        )
        performed = _at(today - timedelta(days=1), zone, 11)
        session = TreatmentSession.objects.create(
            patient=patient,
            clinic=clinic,
            indication=cm,
            indications=[cm],
            performed_at=performed,
            plan=plan,
            consent_obtained=True,
            medication_guide_offered=True,
            created_by=nurse,
        )
        muscle, side, units = COSIGN_DEVIATION
        Injection.objects.bulk_create(
            [
                Injection(
                    session=session,
                    indication=cm,
                    muscle=r["muscle"],
                    side=r["side"],
                    units=units
                    if (r["muscle"], r["side"]) == (muscle, side)
                    else facts.units_per_site(),
                    position=i,
                )
                for i, r in enumerate(facts.preempt_site_rows())
            ]
        )
        injections = list(session.injections.all())
        total = sum((i.units for i in injections), Decimal(0))
        VialUse.objects.create(
            vial=Vial.objects.create(
                lot=lot, clinic=clinic, status=VialStatus.USED, patient=patient
            ),
            session=session,
            reconstituted_at=performed - timedelta(minutes=40),
            diluent_ml=facts.cm_diluent_ml(lot.size_units),
            units_used=total,
            units_wasted=Decimal(lot.size_units) - total,
            opened_by=nurse,
        )
        result = facts.run_dose_check(
            session, injections, list(session.vial_uses.select_related("vial__lot"))
        )
        session.plan = plan
        reasons = [r.as_dict() for r in order_deviations(session, injections)]
        TreatmentSession.objects.filter(pk=session.pk).update(
            status=SessionStatus.AWAITING_COSIGN,
            signed_at=performed + timedelta(minutes=30),
            signed_by=nurse,
            cosign_reasons=reasons,
            findings=result["findings"],
            totals=result.get("totals", {}),
            rule_set=",".join(result.get("rule_sets") or [result.get("rule_set", "")]),
        )
        made += 1
    return made
