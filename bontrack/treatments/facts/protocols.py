"""The treatments app's protocol facts: indications, templates, muscles and sides per protocol, read
from clinic_rules' protocol data (`clinic_rules.protocol`, `protocols`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from clinic_rules import contract, protocol, protocols


@functools.cache
def muscle_labels() -> Mapping[str, str]:
    """{muscle code: label}, built once per process (read-only): the vocabulary is fixed data, and
    building it deep-copies every protocol (about 0.2 ms per call, once per site in a template)."""
    return MappingProxyType(
        {m["code"]: m["label"] for m in contract.vocabulary()["muscles"]}  # type: ignore[index]
    )


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


# ---- clinic-defined, off-label protocols (facial pain and other conditions) -----------------


def is_off_label(indication: str) -> bool:
    """A protocol the BOTOX label gives no indication for: only the class-wide rules check it
    (cumulative window, re-treatment interval, contraindications, product)."""
    try:
        return protocol(indication).off_label
    except KeyError:
        return False


def off_label_retreatment_days(indication: str) -> int:
    """The class-wide re-treatment interval of an off-label protocol (BTX-CLASS-RETREAT-84)."""
    return int(protocol(indication).retreatment()["min_days"])  # type: ignore[call-overload]


# ---- figures the patient education pages quote (issue 10 item 10) ---------------------------


def _weeks(days: int) -> int | None:
    return days // 7 if days % 7 == 0 else None


@functools.cache
def education_figures() -> Mapping[str, Any]:
    """The few numbers the patient pages quote, each from the rules (never typed in a template):
    PREEMPT units and sites, the blepharospasm sites per eye of its labelled starting pattern, and
    the re-treatment intervals of each protocol."""
    from clinic_rules import preempt_template

    rows = preempt_template()
    bleph = next(
        t for t in protocol("blepharospasm").templates if str(t.kind) == "starting_pattern"
    )
    per_eye = sum(s.sites for s in bleph.sites if s.side is not None and str(s.side) == "left")

    def interval(code: str, *, pediatric: bool = False) -> dict[str, Any]:
        days = int(protocol(code).retreatment(pediatric=pediatric)["min_days"])  # type: ignore[call-overload]
        return {"days": days, "weeks": _weeks(days)}

    return MappingProxyType(
        {
            "cm_units": sum(int(r["units"]) for r in rows),  # type: ignore[call-overload]
            "cm_sites": sum(int(r["sites"]) for r in rows),  # type: ignore[call-overload]
            "bleph_sites_per_eye": per_eye,
            "interval": {
                "chronic_migraine": interval("chronic_migraine"),
                "blepharospasm": interval("blepharospasm"),
                "spasticity_adult": interval("upper_limb_spasticity"),
                "spasticity_child": interval("upper_limb_spasticity", pediatric=True),
                "class_wide": interval("facial_pain"),
            },
        }
    )


def protocol_instruments(indication: str) -> list[dict[str, str]]:
    """The outcome instruments of an indication's protocol: code and label."""
    try:
        return [{"code": i.code, "label": i.label} for i in protocol(indication).instruments]
    except KeyError:
        return []
