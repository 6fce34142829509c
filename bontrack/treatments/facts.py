"""The adapter between ORM rows and clinic_rules JSON documents: the only module knowing both.

Every clinical number the app uses (PREEMPT sites and units, follow-the-pain limits, vial sizes, the
re-treatment interval) is read here from clinic_rules; views and services never type one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from bontrack.patients.models import Patient, PatientFlag, WeightMeasurement
from bontrack.treatments.choices import InjectionStatus, SessionStatus
from clinic_rules import (
    contract,
    follow_the_pain_limits,
    preempt_template,
    protocol,
    protocols,
    retreatment_interval,
)
from clinic_rules.data import rule

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
    """mL of diluent giving the chronic migraine concentration (BTX-DIL-CM, BTX-DILUTION-ARITH)."""
    per_tenth = Decimal(str(rule("BTX-DIL-CM").nums("units_per_tenth_ml")[0]))
    tenths_per_ml = Decimal(str(rule("BTX-DILUTION-ARITH").num("tenths_per_ml")))
    return (Decimal(size_units) / (per_tenth * tenths_per_ml)).quantize(Decimal("0.01"))


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


def muscle_labels() -> dict[str, str]:
    return {m["code"]: m["label"] for m in contract.vocabulary()["muscles"]}  # type: ignore[index]


# ---- protocols (one per indication) ---------------------------------------------------------

# Template kinds the clinician may start a session from (a muscle guide is advice, not sites).
_CHARTED_KINDS = ("fixed", "follow_the_pain", "starting_pattern", "empty")


def follow_the_pain_indication() -> str:
    """The indication whose protocol has PREEMPT follow-the-pain plans (response reviews adjust
    them): the one protocol with a follow-the-pain template."""
    return next(
        str(p.indication)
        for p in protocols()
        if any(str(t.kind) == "follow_the_pain" for t in p.templates)
    )


def indication_codes() -> tuple[str, ...]:
    return tuple(str(p.indication) for p in protocols())


def indication_label(code: str) -> str:
    try:
        return protocol(code).label
    except KeyError:
        return code


def indication_labels(codes: Iterable[str]) -> list[str]:
    return [indication_label(c) for c in codes]


def treated_indications(conditions: Iterable[tuple[str, str]]) -> list[str]:
    """Indications (protocol order) a patient's active conditions ``(indication, icd10_code)``
    call for: a condition's ICD-10-CM code in a protocol's billing codes, or its recorded
    indication. Spasticity codes name both limb protocols (an arm, a leg or both)."""
    pairs = list(conditions)
    out = []
    for p in protocols():
        codes = set(p.billing.icd10_codes)
        if any(code in codes or ind == p.indication for ind, code in pairs):
            out.append(str(p.indication))
    return out


def session_templates(indication: str, *, pediatric: bool) -> list[dict[str, str]]:
    """The templates a session of this indication may start from: code, label, kind."""
    population = "pediatric" if pediatric else "adult"
    return [
        {"code": t.code, "label": t.label, "kind": str(t.kind)}
        for t in protocol(indication).templates
        if str(t.kind) in _CHARTED_KINDS and str(t.population) in ("all", population)
    ]


def is_fixed_template(indication: str, code: str) -> bool:
    """PREEMPT-like: fixed sites that are skipped, never removed."""
    return str(protocol(indication).template(code).kind) in ("fixed", "follow_the_pain")


def has_fixed_template(indication: str) -> bool:
    return any(str(t.kind) == "fixed" for t in protocol(indication).templates)


def template_site_rows(indication: str, code: str) -> list[dict[str, Any]]:
    """One row per site of a template (muscle, side, units): the fixed dose, or the low end of a
    starting pattern's labelled range; an empty template has none."""
    t = protocol(indication).template(code)
    out: list[dict[str, Any]] = []
    for site in t.sites:
        if site.side is None or site.units_per_site is None:
            continue
        for _ in range(site.sites):
            units = Decimal(str(site.units_per_site[0]))
            out.append({"muscle": site.muscle, "side": str(site.side), "units": units})
    return out


def is_pediatric(indication: str, birth_date: date, on: date) -> bool:
    """Younger than the protocol's adult age on that day (BTX-PEDIATRIC-AGE)."""
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return years < protocol(indication).ages.adult_age


def protocol_muscles(indication: str) -> set[str]:
    return {m.muscle for m in protocol(indication).muscles}


def protocol_muscle_choices(indication: str) -> list[tuple[str, str]]:
    return [(m.muscle, m.label) for m in protocol(indication).muscles]


def protocol_sides(indication: str, muscle: str) -> tuple[str, ...]:
    try:
        return tuple(str(s) for s in protocol(indication).muscle(muscle).sides)
    except KeyError:
        return ()


def fixed_units_per_site(indication: str) -> Decimal | None:
    """The one per-site dose of the protocol's fixed template (None when it has none)."""
    for t in protocol(indication).templates:
        if str(t.kind) != "fixed":
            continue
        doses = {s.units_per_site for s in t.sites if s.units_per_site}
        if len(doses) == 1:
            low, high = next(iter(doses))  # type: ignore[misc]
            if low == high:
                return Decimal(str(low))
    return None


# ---- dose-check ----------------------------------------------------------------------------


def practice_policy(practice_id: int) -> dict[str, object]:
    """The practice's policy knobs (diaries.ProgramPolicy when that app provides it)."""
    try:
        from bontrack.diaries.facts import policy_document
    except ImportError:  # pragma: no cover - the diaries app is optional for this adapter
        return {}
    return policy_document(practice_id)


def _num(value: Decimal | float | int) -> float | int:
    f = float(value)
    return int(f) if f.is_integer() else f


def patient_document(patient: Patient, on: date) -> dict[str, object]:
    flags = sorted(
        set(PatientFlag.objects.filter(patient=patient, active=True).values_list("flag", flat=True))
    )
    weight = (
        WeightMeasurement.objects.filter(patient=patient, measured_on__lte=on)
        .order_by("-measured_on", "-id")
        .values_list("weight_kg", flat=True)
        .first()
    )
    doc: dict[str, object] = {"birth_date": patient.date_of_birth.isoformat(), "flags": flags}
    if weight is not None:
        doc["weight_kg"] = _num(weight)
    return doc


def history_documents(patient: Patient, *, exclude: Iterable[int]) -> list[dict]:
    """Every current (signed) session with its total, one query: those dated after the session
    being checked count too (clinic_rules checks every window that contains the session, so a
    session charted late, or an amendment, sees the doses already on file after it)."""
    from bontrack.treatments.models import TreatmentSession

    rows = (
        TreatmentSession.objects.filter(patient=patient, status=SessionStatus.SIGNED)
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
            status=SessionStatus.SIGNED,
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
    start = dates[0] - timedelta(days=baseline_days + 120)  # room for the "low months" rules
    try:
        from bontrack.diaries.facts import diary_documents, score_series
    except ImportError:  # pragma: no cover
        days: list[dict[str, object]] = []
        scores: list[dict[str, object]] = []
    else:
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
