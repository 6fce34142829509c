"""The adapter between ORM rows and clinic_rules JSON documents: the only module knowing both.

Every clinical number the app uses (PREEMPT sites and units, follow-the-pain limits, vial sizes, the
re-treatment interval) is read here from clinic_rules; views and services never type one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from bontrack.patients.models import Patient, PatientFlag, WeightMeasurement
from bontrack.treatments.choices import GIVEN_STATUSES, InjectionStatus
from bontrack.treatments.facts.protocols import (
    fixed_units_per_site as fixed_units_per_site,
)
from bontrack.treatments.facts.protocols import (
    follow_the_pain_indication as follow_the_pain_indication,
)
from bontrack.treatments.facts.protocols import (
    has_fixed_template as has_fixed_template,
)
from bontrack.treatments.facts.protocols import (
    indication_codes as indication_codes,
)
from bontrack.treatments.facts.protocols import (
    indication_label as indication_label,
)
from bontrack.treatments.facts.protocols import (
    indication_labels as indication_labels,
)
from bontrack.treatments.facts.protocols import (
    is_fixed_template as is_fixed_template,
)
from bontrack.treatments.facts.protocols import (
    is_off_label as is_off_label,
)
from bontrack.treatments.facts.protocols import (
    is_pediatric as is_pediatric,
)
from bontrack.treatments.facts.protocols import (  # the protocol half of this adapter
    muscle_labels as muscle_labels,
)
from bontrack.treatments.facts.protocols import (
    off_label_retreatment_days as off_label_retreatment_days,
)
from bontrack.treatments.facts.protocols import (
    protocol_instruments as protocol_instruments,
)
from bontrack.treatments.facts.protocols import (
    protocol_muscle_choices as protocol_muscle_choices,
)
from bontrack.treatments.facts.protocols import (
    protocol_muscles as protocol_muscles,
)
from bontrack.treatments.facts.protocols import (
    protocol_sides as protocol_sides,
)
from bontrack.treatments.facts.protocols import (
    session_templates as session_templates,
)
from bontrack.treatments.facts.protocols import (
    template_site_rows as template_site_rows,
)
from bontrack.treatments.facts.protocols import (
    treated_indications as treated_indications,
)
from clinic_rules import (
    contract,
    follow_the_pain_limits,
    preempt_template,
    retreatment_interval,
)
from clinic_rules.data import rule
from clinic_rules.reconstitution import diluent_ml_for
from clinic_rules.reconstitution import vial_use as _vial_use

# ---- reference data --------------------------------------------------------------------


def preempt_rows() -> list[dict[str, Any]]:
    """PREEMPT template rows: muscle, label, side, sites, units_per_site, units, follow_the_pain."""
    return [dict(r) for r in preempt_template()]


def preempt_site_rows() -> list[dict[str, Any]]:
    """The template expanded to one row per site (what a session charts): 31 rows."""
    out = []
    for row in preempt_template():
        for index in range(int(row["sites"])):  # type: ignore[call-overload]
            out.append(
                {
                    "muscle": row["muscle"],
                    "side": row["side"],
                    "index": index,
                    "sites": 1,
                    "units": Decimal(str(row["units_per_site"])),
                }
            )
    return out


def ftp_limits() -> dict[str, Any]:
    return follow_the_pain_limits()


def units_per_site() -> Decimal:
    return Decimal(str(rule("BTX-CM-5U-PER-SITE").num("units_per_site")))


def vial_sizes() -> tuple[int, ...]:
    """Therapeutic vial sizes (BTX-VIAL-SIZES)."""
    return tuple(int(s) for s in rule("BTX-VIAL-SIZES").nums("sizes"))


def cm_diluent_ml(size_units: int) -> Decimal:
    """mL of diluent giving the chronic migraine concentration (BTX-DIL-CM: S10, S10b), computed by
    clinic_rules' ``reconstitution`` rule (BTX-DILUTION-ARITH: S10, S20, S24)."""
    per_tenth = rule("BTX-DIL-CM").nums("units_per_tenth_ml")[0]
    return Decimal(str(diluent_ml_for(size_units, per_tenth))).quantize(Decimal("0.01"))


def vial_use(vials: Sequence[Any], units_given: Decimal) -> list[tuple[Decimal, Decimal]]:
    """Units given from and wasted of each vial, in order (clinic_rules ``vial_use``)."""
    sizes = [int(v.lot.size_units) for v in vials]
    return [
        (Decimal(str(used)), Decimal(str(wasted)))
        for used, wasted in _vial_use(sizes, float(units_given))
    ]


def recon_max_hours() -> int:
    return int(rule("BTX-RECON-24H").num("max_hours"))


def retreatment_interval_days(indication: str) -> int:
    """Days from a session to the next one: the program's 12-week rhythm (the chronic-migraine label
    schedule), never shorter than the indication's own minimum interval."""
    rhythm = int(retreatment_interval("chronic_migraine")["min_days"])  # type: ignore[call-overload]
    try:
        own = int(retreatment_interval(indication)["min_days"])  # type: ignore[call-overload]
    except KeyError:
        own = rhythm
    return max(rhythm, own)


def review_min_cycles() -> int:
    """Cycles before the continuation decision (RESP-AHS-ASSESS-2-CYCLES)."""
    return rule("RESP-AHS-ASSESS-2-CYCLES").int_("min_cycles")


def retreatment_rule_id() -> str:
    return "BTX-CM-RETREAT-84"


def practice_policy(practice_id: int) -> dict[str, object]:
    """The practice's policy knobs (core.ProgramPolicy)."""
    from bontrack.core.policy.facts import policy_document

    return policy_document(practice_id)


def _num(value: Decimal | float | int) -> float | int:
    f = float(value)
    return int(f) if f.is_integer() else f


def patient_document(patient: Patient, on: date) -> dict[str, object]:
    flags = sorted(
        set(PatientFlag.objects.filter(patient=patient, active=True).values_list("flag", flat=True))
    )
    row = (
        WeightMeasurement.objects.filter(patient=patient, measured_on__lte=on)
        .order_by("-measured_on", "-id")
        .values_list("weight_kg", "measured_on")
        .first()
    )
    doc: dict[str, object] = {"birth_date": patient.date_of_birth.isoformat(), "flags": flags}
    if row is not None:
        doc["weight_kg"] = _num(row[0])
        doc["weight_measured_on"] = row[1].isoformat()
    return doc


def limb_names() -> dict[str, str]:
    """{spasticity indication: the limb it treats} ("arm", "leg"), as the limb limits name them."""
    from clinic_rules.dose import LIMB_NAMES

    return {str(ind.value): name for ind, name in LIMB_NAMES.items()}


def weight_max_age_days() -> int:
    """Days a child's weight counts for the per-kg limits (program policy from issue 10,
    POLICY-PEDS-WEIGHT-MAX-AGE in clinic_rules' policy data)."""
    from clinic_rules.dose import weight_max_age_days as _days

    return _days()


@dataclass(frozen=True)
class Weight:
    """The weight that counts on a day: the last measured on or before it."""

    kg: Decimal | None
    measured_on: date | None
    on: date
    pediatric: bool
    max_age_days: int

    @property
    def age_days(self) -> int | None:
        return None if self.measured_on is None else (self.on - self.measured_on).days

    @property
    def current(self) -> bool:
        """Measured, and no more than ``max_age_days`` before the day."""
        return self.age_days is not None and self.age_days <= self.max_age_days

    @property
    def needs_measurement(self) -> bool:
        """A child whose weight is missing or too old for the per-kg limits."""
        return self.pediatric and not self.current

    def per_kg(self, units: Decimal | int | float) -> Decimal | None:
        """Units per kilogram (two decimals) when the weight counts, else None."""
        if self.kg is None or not self.current or not self.kg:
            return None
        return (Decimal(str(units)) / self.kg).quantize(Decimal("0.01"))


def weight_on(patient: Patient, on: date) -> Weight:
    """The patient's weight for a session (or plan) on ``on`` (one query)."""
    from clinic_rules.dose import is_pediatric as _is_pediatric
    from clinic_rules.model import age_on

    row = (
        WeightMeasurement.objects.filter(patient=patient, measured_on__lte=on)
        .order_by("-measured_on", "-id")
        .values_list("weight_kg", "measured_on")
        .first()
    )
    kg, measured = row if row else (None, None)
    return Weight(
        kg=kg,
        measured_on=measured,
        on=on,
        pediatric=_is_pediatric(age_on(patient.date_of_birth, on)),
        max_age_days=weight_max_age_days(),
    )


def history_documents(patient: Patient, *, exclude: Iterable[int]) -> list[dict]:
    """Every current (signed) session with its total, one query: those dated after the session
    being checked count too (clinic_rules checks every window that contains the session, so a
    session charted late, or an amendment, sees the doses already on file after it)."""
    from bontrack.treatments.models import TreatmentSession

    rows = (
        TreatmentSession.objects.filter(patient=patient, status__in=GIVEN_STATUSES)
        .exclude(pk__in=list(exclude))
        .values("pk", "performed_at", "product", "injections__indication", "clinic__time_zone")
        .annotate(total=Sum("injections__units", filter=_done_filter()))
    )
    out = []
    for r in rows:
        if not r["total"]:
            continue
        local = timezone.localtime(r["performed_at"], _zone(r["clinic__time_zone"]))
        out.append(
            {
                "date": local.date().isoformat(),
                "product": r["product"],
                "indication": r["injections__indication"],
                "total_units": _num(r["total"]),
            }
        )
    return out


def _done_filter():  # type: ignore[no-untyped-def]
    from django.db.models import Q

    return Q(injections__status=InjectionStatus.DONE)


def _zone(name: str):  # type: ignore[no-untyped-def]
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def injection_documents(injections: Sequence[Any]) -> list[dict[str, object]]:
    """Each injection with its own indication (a session may hold several protocols)."""
    return [
        {
            "indication": i.indication,
            "muscle": i.muscle,
            "side": i.side,
            "sites": int(i.sites),
            "units": _num(i.units),
        }
        for i in injections
        if i.status == InjectionStatus.DONE
    ]


def vial_documents(vials: Sequence[Any], zone: Any) -> list[dict[str, object]]:
    out = []
    for v in vials:
        if v.reconstituted_at is None or not v.diluent_ml:
            continue
        out.append(
            {
                "size_units": int(v.lot.size_units),
                "diluent_ml": _num(v.diluent_ml),
                "reconstituted_at": timezone.localtime(v.reconstituted_at, zone).isoformat(),
            }
        )
    return out


def dose_check_document(
    session: Any, injections: Sequence[Any], vials: Sequence[Any]
) -> dict[str, object] | None:
    """The ``dose-check`` input for a session as charted (None when nothing is injected)."""
    zone = _zone(session.clinic.time_zone)
    performed = timezone.localtime(session.performed_at, zone)
    injected = injection_documents(injections)
    if not injected:
        return None
    exclude = [session.pk] if session.pk else []
    if session.amends_id:
        exclude.append(session.amends_id)
    history = history_documents(session.patient, exclude=exclude)
    doc: dict[str, object] = {
        "as_of": max([performed.date().isoformat(), *(str(h["date"]) for h in history)]),
        "patient": patient_document(session.patient, performed.date()),
        "history": history,
        "session": {
            "date": performed.date().isoformat(),
            "performed_at": performed.isoformat(),
            "product": session.product,
            "injections": injected,
            "vials": vial_documents(vials, zone),
        },
    }
    policy = practice_policy(session.patient.practice_id)
    if policy:
        doc["policy"] = policy
    return doc


def run_dose_check(session: Any, injections: Sequence[Any], vials: Sequence[Any]) -> dict[str, Any]:
    """Findings for the session as charted; an empty result when nothing is injected."""
    doc = dose_check_document(session, injections, vials)
    if doc is None:
        return {"rule_set": "", "findings": [], "totals": {"session_units": 0}}
    try:
        return contract.run("dose-check", doc)
    except contract.InputError as exc:
        # The charting data could not be checked: a blocking finding, never a silent pass.
        return {
            "rule_set": "",
            "totals": {},
            "findings": [
                {
                    "code": "input",
                    "rule_id": "INPUT",
                    "severity": "block",
                    "message": "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items()),
                    "source": "",
                    "confirmed": True,
                }
            ],
        }


@dataclass(frozen=True)
class DoseCheck:
    """One run of ``dose-check`` on a session as charted: what the charting action stores.

    ``totals`` are ``Decimal`` (units, days); ``rule_set`` names every rule set that ran
    (``botox-us@2,policy@1``), empty when nothing was injected or the input could not be checked.
    """

    findings: tuple[Mapping[str, Any], ...]
    totals: Mapping[str, Any] = field(default_factory=dict)
    rule_set: str = ""

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> DoseCheck:
        rule_sets = result.get("rule_sets") or [result.get("rule_set", "")]
        return cls(
            findings=tuple(dict(f) for f in result.get("findings", [])),
            totals={k: _dec(v) for k, v in (result.get("totals") or {}).items()},
            rule_set=",".join(str(r) for r in rule_sets if r),
        )

    @classmethod
    def stored(cls, session: Any) -> DoseCheck:
        """The value the charting action (or signing) stored on the session."""
        return cls.from_result(
            {"findings": session.findings, "totals": session.totals, "rule_set": session.rule_set}
        )

    def stored_totals(self) -> dict[str, Any]:
        """The totals as JSON numbers (the stored form, as clinic_rules returned them)."""
        return {k: _json(v) for k, v in self.totals.items()}

    def as_result(self) -> dict[str, Any]:
        """The plain form the templates and the API render."""
        return {
            "findings": [dict(f) for f in self.findings],
            "totals": self.stored_totals(),
            "rule_set": self.rule_set,
        }


def _dec(value: Any) -> Any:
    """Numbers as Decimal (exact, from their JSON text); nested totals alike; the rest as is."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _dec(v) for k, v in value.items()}
    return value


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _num(value)
    if isinstance(value, Mapping):
        return {k: _json(v) for k, v in value.items()}
    return value


def dose_check(session: Any, injections: Sequence[Any], vials: Sequence[Any]) -> DoseCheck:
    """The dose check of a session as charted, as a typed value (one rules run)."""
    return DoseCheck.from_result(run_dose_check(session, injections, vials))


# ---- response --------------------------------------------------------------------------------


def response_indication() -> str:
    """The indication the response rules measure (monthly headache days from the diary: the
    migraine-only part of the program)."""
    return "chronic_migraine"


def response_document(patient: Patient, as_of: date) -> dict[str, object] | None:
    """The ``response`` input: the signed sessions, the diary from the baseline on, the scores."""
    from bontrack.treatments.models import TreatmentSession

    rows = list(
        TreatmentSession.objects.filter(
            patient=patient,
            status__in=GIVEN_STATUSES,
            injections__indication=response_indication(),
        )
        .distinct()
        .order_by("performed_at")
        .values_list("performed_at", "clinic__time_zone")
    )
    dates = sorted({timezone.localtime(at, _zone(tz)).date() for at, tz in rows})
    dates = [d for d in dates if d <= as_of]
    if not dates:
        return None
    baseline_days = rule("RESP-WINDOW-28").int_("baseline_days")
    start = dates[0] - timedelta(days=baseline_days + low_months_horizon_days())
    from bontrack.diaries.facts import diary_documents, score_series

    days = diary_documents(patient, start, as_of)
    scores = [
        {"date": s["date"].isoformat(), "instrument": s["instrument"], "score": s["score"]}
        for s in score_series(patient)
        if s.get("valid") and s.get("score") is not None and s["date"] <= as_of
    ]
    doc: dict[str, object] = {
        "as_of": as_of.isoformat(),
        "sessions": [{"date": d.isoformat(), "indication": response_indication()} for d in dates],
        "days": [_iso_day(d) for d in days],
        "scores": scores,
    }
    policy = practice_policy(patient.practice_id)
    if policy:
        doc["policy"] = policy
    return doc


def low_months_horizon_days() -> int:
    """Diary days read before the baseline for the "low months" stopping rules: one diary month
    (POLICY-PERIOD-DAYS, S3) more than the longest run of low months they look at
    (RESP-NICE-EPISODIC, S1; RESP-EHF-LOW-10, S2): (3 + 1) x 30 = 120 days."""
    months = max(rule(r).int_("months") for r in ("RESP-NICE-EPISODIC", "RESP-EHF-LOW-10"))
    return (months + 1) * rule("POLICY-PERIOD-DAYS").int_("default")


def _iso_day(day: dict[str, object]) -> dict[str, object]:
    d = dict(day)
    if isinstance(d.get("date"), date):
        d["date"] = d["date"].isoformat()  # type: ignore[union-attr]
    return d


def run_response(patient: Patient, as_of: date) -> dict[str, Any] | None:
    doc = response_document(patient, as_of)
    if doc is None:
        return None
    try:
        return contract.run("response", doc)
    except contract.InputError as exc:
        return {"error": exc.errors, "cycles": [], "findings": []}


def vial_concentration(vial: Any) -> dict[str, object] | None:
    """The reconstituted vial's concentration (clinic_rules' `reconstitution` rule); None when the
    vial has no valid dilution yet."""
    try:
        return contract.run(
            "reconstitution",
            {"size_units": vial.lot.size_units, "diluent_ml": float(vial.diluent_ml or 0)},
        )
    except contract.InputError:
        return None


# ---- adverse effects ----------------------------------------------------------------------------


def urgent_effect_kinds(kinds: Iterable[str]) -> list[str]:
    """The reported kinds the label's distant-spread warning makes urgent (clinic_rules
    ``adverse-effect-triage``, BTX-SPREAD-URGENT-SYMPTOMS)."""
    result = contract.run("adverse-effect-triage", {"symptoms": sorted(set(kinds))})
    return [str(k) for k in result["urgent_symptoms"]]  # type: ignore[attr-defined]


def urgent_effect_rule_id() -> str:
    return "BTX-SPREAD-URGENT-SYMPTOMS"
