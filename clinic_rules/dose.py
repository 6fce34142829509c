"""``dose-check``: one session against the BOTOX label rules, the patient and the history.

Cumulative limits hold in every window that contains the session: an N-day window is N
inclusive calendar days, and the session date may be anywhere in it, so doses dated before
and after the session both count (a session charted late, or an amendment, sees the doses
already on file after it). Two doses share an N-day window when they are at most N-1 days
apart (84-day window: 83 days apart share one, 84 days apart do not). The totals report the
window with the most units (the earliest such window on a tie, which is the window ending on
the session date when nothing later is on file). Re-treatment intervals compare the session
date with the most recent earlier BOTOX session for the same indication in ``history`` (which
must not contain the session being checked).

Treatment outside a labelled age (clinical facts §8) is off-label: a warning that only a
physician acknowledges, with a reason (``ack_by: "physician"``); the practice policy
``off_label_age`` may make it a block. A child without a weight stays a block.

Pediatric limb limits apply per limb treated: the limb is the indication (upper limb: arm,
lower limb: leg) and the side, a bilateral row counting half on each side. Two or more limbs
are bounded by the pediatric cumulative limit (lower of 10 U/kg or 340 U in the window).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from .data import Rule, rule_set
from .intervals import retreatment_rule
from .model import (
    BOTOX,
    SPASTICITY,
    DoseCheckInput,
    Finding,
    Flag,
    Indication,
    Injection,
    Session,
    Severity,
    Side,
    Vial,
    age_on,
    findings_json,
    num,
)
from .vocabulary import MUSCLE_INDICATIONS

EPS = 1e-9
CM, CD, BLEPH = Indication.CHRONIC_MIGRAINE, Indication.CERVICAL_DYSTONIA, Indication.BLEPHAROSPASM
ULS, LLS = Indication.UPPER_LIMB_SPASTICITY, Indication.LOWER_LIMB_SPASTICITY
LIMB_NAMES: dict[Indication, str] = {ULS: "arm", LLS: "leg"}

FLAG_RULES: dict[Flag, str] = {
    Flag.BOTULINUM_HYPERSENSITIVITY: "BTX-CONTRA-HYPERSENSITIVITY",
    Flag.INJECTION_SITE_INFECTION: "BTX-CONTRA-SITE-INFECTION",
    Flag.NEUROMUSCULAR_DISORDER: "BTX-WARN-NEUROMUSCULAR",
    Flag.PREGNANCY_OR_BREASTFEEDING: "BTX-WARN-PREGNANCY",
    Flag.AMINOGLYCOSIDE_USE: "BTX-WARN-AMINOGLYCOSIDE",
    Flag.DYSPHAGIA_OR_BREATHING: "BTX-WARN-DYSPHAGIA",
    Flag.OTHER_TOXIN_LAST_4_MONTHS: "BTX-WARN-OTHER-TOXIN",
}
AGE_RULES: dict[Indication, str] = {
    CM: "BTX-CM-AGE-18",
    CD: "BTX-CD-AGE-18",
    BLEPH: "BTX-BLEPH-AGE-12",
}
DILUTION_RULES: dict[Indication, str] = {
    CM: "BTX-DIL-CM",
    CD: "BTX-DIL-CD",
    BLEPH: "BTX-DIL-BLEPH",
}


def u(value: float) -> str:
    return str(num(value))


def _r(rule_id: str) -> Rule:
    return rule_set("botox-us")[rule_id]


def flag_findings(flags: frozenset[Flag]) -> list[Finding]:
    out = []
    for flag in flags:
        r = _r(FLAG_RULES[flag])
        out.append(r.finding(f"{flag.value.replace('_', ' ')}: {r.description}"))
    return out


def is_pediatric(age: int) -> bool:
    return age < _r("BTX-PEDIATRIC-AGE").int_("adult_age")


def age_findings(
    indications: set[Indication], age: int, off_label: Severity = Severity.WARN
) -> list[Finding]:
    """Treatment outside a labelled age (clinical facts §8) is off-label: legal, and a
    physician's call. The finding is a warning only a physician acknowledges, with a reason
    (the rule's ``ack_by``), unless the practice policy ``off_label_age`` makes it a block."""
    out = []
    for ind in sorted(indications):
        r = _r("BTX-SPAS-PEDS-AGE-2") if ind in SPASTICITY else _r(AGE_RULES[ind])
        if age < r.int_("min_age"):
            out.append(
                r.finding(
                    f"{ind.value}: patient is {age} on the session date; {r.description}",
                    severity=off_label,
                )
            )
    return out


def _split(inj: Injection) -> list[tuple[Side, float, float]]:
    """(side, sites, units) per side; a bilateral row counts half on each side."""
    if inj.side is Side.BILATERAL:
        return [
            (Side.LEFT, inj.sites / 2, inj.units / 2),
            (Side.RIGHT, inj.sites / 2, inj.units / 2),
        ]
    return [(inj.side, float(inj.sites), inj.units)]


def limb_units(injections: list[Injection]) -> dict[tuple[Indication, Side], float]:
    """Units per limb (spasticity indication, left or right side); bilateral rows count half on
    each side. A midline limb row (refused by the contract) would count fully on both sides."""
    out: dict[tuple[Indication, Side], float] = defaultdict(float)
    for inj in injections:
        if inj.indication not in SPASTICITY:
            continue
        if inj.side is Side.MIDLINE:
            out[(inj.indication, Side.LEFT)] += inj.units
            out[(inj.indication, Side.RIGHT)] += inj.units
            continue
        for side, _sites, units in _split(inj):
            out[(inj.indication, side)] += units
    return out


def worst_window(dated: list[tuple[date, float]], day: date, days: int) -> tuple[date, float]:
    """The ``days``-day window containing ``day`` with the most units of ``dated`` (the earliest
    such window on a tie): its first day and those units."""
    first = day - timedelta(days=days - 1)
    per_day = [0.0] * (2 * days - 1)
    for when, units in dated:
        offset = (when - first).days
        if 0 <= offset < len(per_day):
            per_day[offset] += units
    best_offset, best = 0, math.fsum(per_day[:days])
    for offset in range(1, days):
        total = math.fsum(per_day[offset : offset + days])
        if total > best + EPS:
            best_offset, best = offset, total
    return first + timedelta(days=best_offset), best


def _peds_limb_cap(r: Rule, weight: float | None) -> tuple[float, str]:
    cap = r.num("max_units")
    if weight is None:
        return cap, f"{u(cap)} U"
    cap = min(cap, r.num("units_per_kg") * weight)
    return cap, (
        f"min({u(r.num('units_per_kg'))} U/kg x {u(weight)} kg, "
        f"{u(r.num('max_units'))} U) = {u(cap)} U"
    )


def _preempt(injections: list[Injection]) -> list[Finding]:
    sites_rule, per_site_rule = _r("BTX-CM-PREEMPT-SITES"), _r("BTX-CM-5U-PER-SITE")
    ftp_muscles_rule, ceil_rule = _r("BTX-CM-FTP-MUSCLES"), _r("BTX-CM-FTP-MUSCLE-MAX")
    total_rule = _r("BTX-CM-FTP-TOTAL-195")
    fixed = sites_rule.table("sites")
    per_site = per_site_rule.num("units_per_site")
    ftp_muscles = set(ftp_muscles_rule.strs("muscles"))
    out: list[Finding] = []
    acc: dict[tuple[str, str], float] = defaultdict(float)
    muscle_units: dict[str, float] = defaultdict(float)
    muscle_sites: dict[str, float] = defaultdict(float)
    for inj in injections:
        where = f"{inj.muscle} ({inj.side.value})"
        if abs(inj.units - per_site * inj.sites) > EPS:
            out.append(
                per_site_rule.finding(
                    f"{where}: {u(inj.units)} U over {inj.sites} site(s) is "
                    f"{u(inj.units / inj.sites)} U per site; the protocol fixes {u(per_site)} U"
                )
            )
        sides = fixed.get(inj.muscle)
        if not isinstance(sides, dict):
            out.append(sites_rule.finding(f"{where}: not a PREEMPT muscle area"))
            continue
        muscle_units[inj.muscle] += inj.units
        muscle_sites[inj.muscle] += inj.sites
        for side, sites, _units in _split(inj):
            if side.value not in sides:
                expected = " or ".join(sides)
                out.append(
                    sites_rule.finding(f"{where}: PREEMPT injects this muscle {expected} only")
                )
                break
            acc[(inj.muscle, side.value)] += sites
    extra_units = 0.0
    extra_sites = 0.0
    for muscle, sides in fixed.items():
        assert isinstance(sides, dict)
        for side, expected in sides.items():
            got = acc[(muscle, side)]
            if got < expected - EPS:
                out.append(
                    sites_rule.finding(f"{muscle} ({side}): {u(got)} of {expected} PREEMPT sites")
                )
            elif got > expected + EPS:
                if muscle in ftp_muscles:
                    extra_sites += got - expected
                else:
                    out.append(
                        ftp_muscles_rule.finding(
                            f"{muscle} ({side}): {u(got)} sites where PREEMPT fixes {expected}; "
                            "extra sites belong only in temporalis, occipitalis or trapezius"
                        )
                    )
    ftp_warned = False
    ceilings = ceil_rule.table("ceilings")
    for muscle in sorted(ftp_muscles):
        ceiling = ceilings[muscle]
        assert isinstance(ceiling, dict)
        units, sites = muscle_units[muscle], muscle_sites[muscle]
        fixed_units = per_site * sum(_fixed_sites(fixed, muscle))
        extra_units += max(0.0, units - fixed_units)
        if units > ceiling["units"] + EPS or sites > ceiling["sites"] + EPS:
            ftp_warned = True
            out.append(
                ceil_rule.finding(
                    f"{muscle}: {u(units)} U in {u(sites)} sites exceeds the follow-the-pain "
                    f"ceiling of {ceiling['units']} U / {ceiling['sites']} sites"
                )
            )
    total_units = sum(i.units for i in injections)
    total_sites = sum(i.sites for i in injections)
    if (
        total_units > total_rule.num("max_units") + EPS
        or total_sites > total_rule.num("max_sites") + EPS
    ):
        ftp_warned = True
        out.append(
            total_rule.finding(
                f"chronic migraine total {u(total_units)} U in {total_sites} sites exceeds "
                f"{u(total_rule.num('max_units'))} U / {u(total_rule.num('max_sites'))} sites"
            )
        )
    if extra_sites > EPS and not ftp_warned:
        out.append(
            _r("BTX-CM-FTP-USED").finding(
                f"follow-the-pain: +{u(extra_units)} U / +{u(extra_sites)} sites beyond the "
                "31 fixed sites, within the limits"
            )
        )
    return out


def _fixed_sites(fixed: object, muscle: str) -> list[int]:
    assert isinstance(fixed, dict)
    sides = fixed[muscle]
    assert isinstance(sides, dict)
    return [int(v) for v in sides.values()]


def _site_caps(
    injections: list[Injection], pediatric: bool, has_prior_bleph: bool
) -> list[Finding]:
    out: list[Finding] = []
    cd_site, spas_site = _r("BTX-CD-SITE-50"), _r("BTX-SPAS-ADULT-SITE-50")
    bleph_site, bleph_initial = _r("BTX-BLEPH-SITE-5"), _r("BTX-BLEPH-INITIAL-SITE")
    for inj in injections:
        per = inj.units / inj.sites
        where = f"{inj.muscle} ({inj.side.value}): {u(per)} U per site"
        cap: Rule | None = None
        if inj.indication is CD:
            cap = cd_site
        elif inj.indication in SPASTICITY and not pediatric:
            cap = spas_site
        elif inj.indication is BLEPH:
            cap = bleph_site
            limit = bleph_initial.num("max_initial_units_per_site")
            if not has_prior_bleph and per > limit + EPS:
                out.append(
                    bleph_initial.finding(
                        f"{where}; no earlier blepharospasm session on record and the initial "
                        f"dose is 1.25-{u(limit)} U per site"
                    )
                )
        if cap is not None and per > cap.num("max_units_per_site") + EPS:
            out.append(
                cap.finding(f"{where} exceeds {u(cap.num('max_units_per_site'))} U per site")
            )
        if inj.indication is not CM and inj.indication not in MUSCLE_INDICATIONS[inj.muscle]:
            out.append(
                _r("BTX-MUSCLE-INDICATION").finding(
                    f"{inj.muscle} is not in the muscle list for {inj.indication.value}"
                )
            )
    return out


def _limb_and_session(
    by_ind: dict[Indication, float],
    injections: list[Injection],
    pediatric: bool,
    weight: float | None,
) -> list[Finding]:
    out: list[Finding] = []
    cd_units = by_ind.get(CD, 0.0)
    scm = _r("BTX-CD-SCM-100")
    scm_units = sum(
        i.units for i in injections if i.indication is CD and i.muscle == scm.str_("muscle")
    )
    if scm_units > scm.num("max_units") + EPS:
        out.append(
            scm.finding(
                f"sternocleidomastoid {u(scm_units)} U (both sides) exceeds "
                f"{u(scm.num('max_units'))} U; higher doses raise dysphagia risk"
            )
        )
    cd_cap = _r("BTX-CD-SESSION-300")
    if cd_units > cd_cap.num("max_units") + EPS:
        out.append(
            cd_cap.finding(
                f"cervical dystonia {u(cd_units)} U exceeds the ex-US {u(cd_cap.num('max_units'))} U "
                "per sitting (US cap unconfirmed)"
            )
        )
    if pediatric:
        limbs = limb_units(injections)
        for rid in ("BTX-PEDS-ULS-6UKG-200", "BTX-PEDS-LLS-8UKG-300"):
            r = _r(rid)
            ind = Indication(r.str_("indication"))
            cap, basis = _peds_limb_cap(r, weight)
            for side in (Side.LEFT, Side.RIGHT):
                units = limbs.get((ind, side), 0.0)
                if units > cap + EPS:
                    out.append(
                        r.finding(
                            f"{ind.value}: {side.value} {LIMB_NAMES[ind]} {u(units)} U exceeds "
                            f"{basis} for one {LIMB_NAMES[ind]}"
                        )
                    )
    for rid_adult in ("BTX-ULS-ADULT-RANGE", "BTX-LLS-ADULT-RANGE"):
        r = _r(rid_adult)
        ind = Indication(r.str_("indication"))
        if pediatric or ind not in by_ind:
            continue
        total = by_ind[ind]
        if total > r.num("max_units") + EPS:
            out.append(r.finding(f"{ind.value} {u(total)} U exceeds {u(r.num('max_units'))} U"))
        elif total < r.num("min_units") - EPS:
            out.append(
                r.finding(
                    f"{ind.value} {u(total)} U is below the labelled "
                    f"{u(r.num('min_units'))}-{u(r.num('max_units'))} U range",
                    severity=r.alt("below"),
                )
            )
    if pediatric and weight is not None and ULS in by_ind:
        r = _r("BTX-PEDS-ULS-MUSCLE-UKG")
        maxima = r.num_table("max_units_per_kg")
        per_muscle: dict[tuple[str, Side], float] = defaultdict(float)
        for inj in injections:
            if inj.indication is ULS and inj.muscle in maxima:
                for side, _sites, units in _split(inj):
                    per_muscle[(inj.muscle, side)] += units
        for (muscle, side), units in sorted(per_muscle.items()):
            if units / weight > maxima[muscle] + EPS:
                out.append(
                    r.finding(
                        f"{muscle} ({side.value}): {u(units / weight)} U/kg exceeds "
                        f"{u(maxima[muscle])} U/kg"
                    )
                )
    return out


def _dilution(session: Session, indications: set[Indication], pediatric: bool) -> list[Finding]:
    out: list[Finding] = []
    tenths = _r("BTX-DILUTION-ARITH").num("tenths_per_ml")
    odd = _r("BTX-DIL-ODD")
    known = odd.nums("units_per_tenth_ml")
    relevant: list[tuple[Indication, Rule]] = [
        (ind, _r(rid)) for ind, rid in DILUTION_RULES.items() if ind in indications
    ]
    if not pediatric:
        relevant += [(ind, _r("BTX-DIL-SPAS-ADULT")) for ind in sorted(indications & SPASTICITY)]
    accepted = {c for _, r in relevant for c in r.nums("units_per_tenth_ml")}
    sizes = _r("BTX-VIAL-SIZES")
    for i, vial in enumerate(session.vials):
        conc = vial.size_units / (vial.diluent_ml * tenths)
        label = f"vial {i + 1}: {u(vial.size_units)} U in {u(vial.diluent_ml)} mL = {u(conc)} U per 0.1 mL"
        if vial.size_units not in sizes.nums("sizes"):
            out.append(
                sizes.finding(
                    f"vial {i + 1}: {u(vial.size_units)} U is not a BOTOX vial size "
                    f"({' or '.join(f'{u(z)} U' for z in sizes.nums('sizes'))})"
                )
            )
        if not any(abs(conc - k) < EPS for k in known):
            out.append(odd.finding(f"{label} is not a sourced dilution"))
            continue
        if any(abs(conc - k) < EPS for k in accepted):
            continue
        for ind, r in relevant:
            expected = " or ".join(u(c) for c in r.nums("units_per_tenth_ml"))
            out.append(r.finding(f"{label}; {ind.value} expects {expected} U per 0.1 mL"))
    return out


def _vial_expiry(session: Session) -> list[Finding]:
    r = _r("BTX-RECON-24H")
    limit = timedelta(hours=r.num("max_hours"))
    out: list[Finding] = []
    for i, vial in enumerate(session.vials):
        out.extend(_one_vial(i, vial, session, r, limit))
    return out


def _one_vial(i: int, vial: Vial, session: Session, r: Rule, limit: timedelta) -> list[Finding]:
    recon = vial.reconstituted_at
    if session.performed_at is not None:
        elapsed = session.performed_at - recon
        if elapsed > limit:
            return [
                r.finding(
                    f"vial {i + 1}: reconstituted {recon.isoformat()}, used "
                    f"{_hours(elapsed)} h later (limit {u(r.num('max_hours'))} h)"
                )
            ]
        return []
    day_start = datetime.combine(session.date, time.min, tzinfo=recon.tzinfo)
    if day_start - recon > limit:
        return [
            r.finding(
                f"vial {i + 1}: reconstituted {recon.isoformat()}, more than "
                f"{u(r.num('max_hours'))} h before the session day began"
            )
        ]
    if day_start + timedelta(days=1) - recon > limit:
        return [
            r.finding(
                f"vial {i + 1}: reconstituted {recon.isoformat()}; without performed_at the "
                f"{u(r.num('max_hours'))} h limit cannot be verified",
                severity=r.alt("indeterminate"),
            )
        ]
    return []


def _hours(delta: timedelta) -> str:
    return u(delta.total_seconds() / 3600)


def evaluate(inp: DoseCheckInput) -> dict[str, object]:
    s = inp.session
    findings: list[Finding] = flag_findings(inp.patient.flags)
    age = age_on(inp.patient.birth_date, s.date)
    pediatric = is_pediatric(age)
    weight = inp.patient.weight_kg
    days = inp.policy.window_days
    reach = timedelta(days=days - 1)
    others: dict[str, float] = defaultdict(float)
    for h in inp.history:
        if h.product is not BOTOX and s.date - reach <= h.date <= s.date + reach:
            others[h.product.value] += h.total_units
    for product, units in sorted(others.items()):
        findings.append(
            _r("BTX-UNITS-NOT-CONVERTIBLE").finding(
                f"{u(units)} U of {product} in the windows around the session were not counted: "
                "units are product-specific and never converted to BOTOX units"
            )
        )
    window_start, history_units = worst_window(
        [(h.date, h.total_units) for h in inp.history if h.product is BOTOX], s.date, days
    )
    window_end = window_start + reach
    by_ind: dict[Indication, float] = defaultdict(float)
    for inj in s.injections:
        by_ind[inj.indication] += inj.units
    session_units = sum(by_ind.values())
    indications = set(by_ind)
    window_units = history_units
    cap: float | None = None
    if s.product is not BOTOX:
        findings.append(
            _r("BTX-PRODUCT-NOT-BOTOX").finding(
                f"session product {s.product.value}: no BOTOX rule set applies and its units "
                "are not comparable with BOTOX units"
            )
        )
    else:
        window_units += session_units
        detail = (
            f"{u(window_units)} U in the {days}-day window {window_start.isoformat()} to "
            f"{window_end.isoformat()} ({u(history_units)} U charted in that window + "
            f"{u(session_units)} U this session)"
        )
        cap = _cumulative(findings, pediatric, weight, window_units, detail)
        findings += age_findings(indications, age, inp.policy.off_label_age)
        findings += _retreatment(inp, indications, pediatric)
        findings += _bleph_30(inp, by_ind)
        if CM in indications:
            findings += _preempt([i for i in s.injections if i.indication is CM])
        has_prior_bleph = any(
            h.product is BOTOX and h.indication is BLEPH and h.date <= s.date for h in inp.history
        )
        findings += _site_caps(list(s.injections), pediatric, has_prior_bleph)
        findings += _limb_and_session(by_ind, list(s.injections), pediatric, weight)
        findings += _dilution(s, indications, pediatric)
        findings += _vial_expiry(s)
        if pediatric and indications & SPASTICITY:
            r = _r("BTX-WARN-DISTANT-SPREAD-PEDS")
            findings.append(r.finding(r.description))
    return {
        "rule_set": rule_set("botox-us").label,
        "rule_sets": [rule_set("botox-us").label, rule_set("policy").label],
        "patient": {"age": age, "pediatric": pediatric},
        "totals": {
            "product": s.product.value,
            "session_units": num(session_units),
            "by_indication": {i.value: num(v) for i, v in sorted(by_ind.items())},
            "window_units": num(window_units),
            "window_history_units": num(history_units),
            "window_start": window_start.isoformat(),
            "window_end": window_end.isoformat(),
            "window_days": days,
            "window_cap_units": None if cap is None else num(cap),
        },
        "findings": findings_json(findings),
    }


def _cumulative(
    findings: list[Finding],
    pediatric: bool,
    weight: float | None,
    window_units: float,
    detail: str,
) -> float:
    if not pediatric:
        r = _r("BTX-CUM-ADULT-400")
        cap = r.num("max_units")
        basis = f"{u(cap)} U"
    else:
        r = _r("BTX-CUM-PEDS-10UKG-340")
        cap = r.num("max_units")
        basis = f"{u(cap)} U"
        if weight is None:
            wr = _r("BTX-PEDS-WEIGHT-REQUIRED")
            findings.append(
                wr.finding("pediatric session without weight_kg: the per-kg caps cannot be checked")
            )
        else:
            cap = min(cap, r.num("units_per_kg") * weight)
            basis = f"min({u(r.num('units_per_kg'))} U/kg x {u(weight)} kg, {u(r.num('max_units'))} U) = {u(cap)} U"
    if window_units > cap + EPS:
        findings.append(r.finding(f"{detail} exceeds {basis}"))
    return cap


def _retreatment(
    inp: DoseCheckInput, indications: set[Indication], pediatric: bool
) -> list[Finding]:
    out: list[Finding] = []
    s = inp.session
    for ind in sorted(indications):
        earlier = [
            h.date
            for h in inp.history
            if h.product is BOTOX and h.indication is ind and h.date <= s.date
        ]
        if not earlier:
            continue
        days = (s.date - max(earlier)).days
        r = retreatment_rule(ind, pediatric=pediatric)
        severity = inp.policy.early_cm_retreatment if ind is CM else None
        if days < r.int_("min_days"):
            out.append(
                r.finding(
                    f"{ind.value}: {days} days since the last BOTOX session "
                    f"({max(earlier).isoformat()}); {r.description}",
                    severity=severity,
                )
            )
    return out


def _bleph_30(inp: DoseCheckInput, by_ind: dict[Indication, float]) -> list[Finding]:
    if BLEPH not in by_ind:
        return []
    r = _r("BTX-BLEPH-200-30D")
    s = inp.session
    days = r.int_("window_days")
    start, charted = worst_window(
        [
            (h.date, h.total_units)
            for h in inp.history
            if h.product is BOTOX and h.indication is BLEPH
        ],
        s.date,
        days,
    )
    total = charted + by_ind[BLEPH]
    if total > r.num("max_units") + EPS:
        end = start + timedelta(days=days - 1)
        return [
            r.finding(
                f"blepharospasm {u(total)} U from {start.isoformat()} to {end.isoformat()} "
                f"({u(charted)} U charted in that period + {u(by_ind[BLEPH])} U this session) "
                f"exceeds {u(r.num('max_units'))} U in {days} days"
            )
        ]
    return []
