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
    OFF_LABEL,
    SPASTICITY,
    DoseCheckInput,
    Finding,
    Flag,
    Indication,
    Injection,
    Product,
    Session,
    Severity,
    Side,
    Vial,
    age_on,
    findings_json,
    num,
)
from .vocabulary import MUSCLE_INDICATIONS
from .wording import (
    FLAG_SENTENCES,
    SIDE_PLACES,
    day,
    indication,
    indication_label,
    muscle,
    plural,
    product,
    span,
    units,
    where,
)

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
        out.append(r.finding(FLAG_SENTENCES[flag]))
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
    for ind in sorted(indications - OFF_LABEL):  # no labelled age for a clinic-defined protocol
        r = _r("BTX-SPAS-PEDS-AGE-2") if ind in SPASTICITY else _r(AGE_RULES[ind])
        if age < r.int_("min_age"):
            out.append(
                r.finding(
                    f"{indication_label(ind)}: the patient is {age} on the session date; the "
                    f"label covers patients aged {r.int_('min_age')} and older.",
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
        for side, _sites, share in _split(inj):
            out[(inj.indication, side)] += share
    return out


def worst_window(dated: list[tuple[date, float]], day: date, days: int) -> tuple[date, float]:
    """The ``days``-day window containing ``day`` with the most units of ``dated`` (the earliest
    such window on a tie): its first day and those units."""
    first = day - timedelta(days=days - 1)
    per_day = [0.0] * (2 * days - 1)
    for when, amount in dated:
        offset = (when - first).days
        if 0 <= offset < len(per_day):
            per_day[offset] += amount
    best_offset, best = 0, math.fsum(per_day[:days])
    for offset in range(1, days):
        total = math.fsum(per_day[offset : offset + days])
        if total > best + EPS:
            best_offset, best = offset, total
    return first + timedelta(days=best_offset), best


def _peds_limb_cap(r: Rule, weight: float | None) -> tuple[float, str]:
    cap = r.num("max_units")
    if weight is None:
        return cap, units(cap)
    cap = min(cap, r.num("units_per_kg") * weight)
    return cap, _per_kg_basis(r, weight, cap)


def _per_kg_basis(r: Rule, weight: float, cap: float) -> str:
    """``150 U (6 U/kg for 25 kg, at most 200 U)``."""
    return (
        f"{units(cap)} ({u(r.num('units_per_kg'))} U/kg for {u(weight)} kg, "
        f"at most {units(r.num('max_units'))})"
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
        at = where(inj.muscle, inj.side)
        if abs(inj.units - per_site * inj.sites) > EPS:
            out.append(
                per_site_rule.finding(
                    f"{at}: {units(inj.units)} in {plural(inj.sites, 'site', 'sites')} is "
                    f"{units(inj.units / inj.sites)} per site; PREEMPT uses {units(per_site)} "
                    "per site."
                )
            )
        sides = fixed.get(inj.muscle)
        if not isinstance(sides, dict):
            out.append(sites_rule.finding(f"{at} is not one of the PREEMPT injection areas."))
            continue
        muscle_units[inj.muscle] += inj.units
        muscle_sites[inj.muscle] += inj.sites
        for side, sites, _units in _split(inj):
            if side.value not in sides:
                expected = " or ".join(SIDE_PLACES[s] for s in sides)
                out.append(
                    sites_rule.finding(f"{at}: PREEMPT injects this muscle {expected} only.")
                )
                break
            acc[(inj.muscle, side.value)] += sites
    extra_units = 0.0
    extra_sites = 0.0
    for code, sides in fixed.items():
        assert isinstance(sides, dict)
        for side, expected in sides.items():
            got = acc[(code, side)]
            if got < expected - EPS:
                out.append(
                    sites_rule.finding(
                        f"{where(code, side)}: {u(got)} of the {expected} PREEMPT sites charted."
                    )
                )
            elif got > expected + EPS:
                if code in ftp_muscles:
                    extra_sites += got - expected
                else:
                    out.append(
                        ftp_muscles_rule.finding(
                            f"{where(code, side)}: {u(got)} sites where PREEMPT uses "
                            f"{expected}; extra follow-the-pain sites belong only in the "
                            "temporalis, occipitalis or trapezius."
                        )
                    )
    ftp_warned = False
    ceilings = ceil_rule.table("ceilings")
    for code in sorted(ftp_muscles):
        ceiling = ceilings[code]
        assert isinstance(ceiling, dict)
        given, sites = muscle_units[code], muscle_sites[code]
        fixed_units = per_site * sum(_fixed_sites(fixed, code))
        extra_units += max(0.0, given - fixed_units)
        if given > ceiling["units"] + EPS or sites > ceiling["sites"] + EPS:
            ftp_warned = True
            out.append(
                ceil_rule.finding(
                    f"{muscle(code)}: {units(given)} in {u(sites)} sites is above the "
                    f"follow-the-pain ceiling of {ceiling['units']} U in {ceiling['sites']} sites."
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
                f"Chronic migraine total of {units(total_units)} in {total_sites} sites is above "
                f"the follow-the-pain maximum of {units(total_rule.num('max_units'))} in "
                f"{u(total_rule.num('max_sites'))} sites."
            )
        )
    if extra_sites > EPS and not ftp_warned:
        out.append(
            _r("BTX-CM-FTP-USED").finding(
                f"Follow-the-pain: {units(extra_units)} in {plural(extra_sites, 'extra site', 'extra sites')} "
                "beyond the 31 fixed sites, within the limits."
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
        at = f"{where(inj.muscle, inj.side)}: {units(per)} per site"
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
                        f"{at}, and no earlier blepharospasm session is on record: a first "
                        f"treatment starts at 1.25 to {units(limit)} per site."
                    )
                )
        if cap is not None and per > cap.num("max_units_per_site") + EPS:
            out.append(cap.finding(f"{at}, above {units(cap.num('max_units_per_site'))} per site."))
        if inj.indication is not CM and inj.indication not in MUSCLE_INDICATIONS[inj.muscle]:
            out.append(
                _r("BTX-MUSCLE-INDICATION").finding(
                    f"{muscle(inj.muscle)} is not in the usual muscle list for "
                    f"{indication(inj.indication)}."
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
                f"Sternocleidomastoid: {units(scm_units)} (both sides together) is above "
                f"{units(scm.num('max_units'))}; higher doses raise the risk of trouble swallowing."
            )
        )
    cd_cap = _r("BTX-CD-SESSION-300")
    if cd_units > cd_cap.num("max_units") + EPS:
        out.append(
            cd_cap.finding(
                f"Cervical dystonia: {units(cd_units)} in one sitting is above the "
                f"{units(cd_cap.num('max_units'))} that labels outside the US allow (no US limit "
                "is confirmed)."
            )
        )
    if pediatric:
        limbs = limb_units(injections)
        for rid in ("BTX-PEDS-ULS-6UKG-200", "BTX-PEDS-LLS-8UKG-300"):
            r = _r(rid)
            ind = Indication(r.str_("indication"))
            cap, basis = _peds_limb_cap(r, weight)
            for side in (Side.LEFT, Side.RIGHT):
                given = limbs.get((ind, side), 0.0)
                if given > cap + EPS:
                    out.append(
                        r.finding(
                            f"{side.value.capitalize()} {LIMB_NAMES[ind]}: {units(given)} would "
                            f"exceed the limit for one {LIMB_NAMES[ind]}, {basis}."
                        )
                    )
    for rid_adult in ("BTX-ULS-ADULT-RANGE", "BTX-LLS-ADULT-RANGE"):
        r = _r(rid_adult)
        ind = Indication(r.str_("indication"))
        if pediatric or ind not in by_ind:
            continue
        total = by_ind[ind]
        if total > r.num("max_units") + EPS:
            out.append(
                r.finding(
                    f"{indication_label(ind)}: {units(total)} in this session is above the "
                    f"labelled maximum of {units(r.num('max_units'))}."
                )
            )
        elif total < r.num("min_units") - EPS:
            out.append(
                r.finding(
                    f"{indication_label(ind)}: {units(total)} in this session is below the "
                    f"labelled range of {u(r.num('min_units'))} to {units(r.num('max_units'))}.",
                    severity=r.alt("below"),
                )
            )
    if pediatric and weight is not None and ULS in by_ind:
        r = _r("BTX-PEDS-ULS-MUSCLE-UKG")
        maxima = r.num_table("max_units_per_kg")
        per_muscle: dict[tuple[str, Side], float] = defaultdict(float)
        for inj in injections:
            if inj.indication is ULS and inj.muscle in maxima:
                for side, _sites, share in _split(inj):
                    per_muscle[(inj.muscle, side)] += share
        for (code, side), given in sorted(per_muscle.items()):
            if given / weight > maxima[code] + EPS:
                out.append(
                    r.finding(
                        f"{where(code, side)}: {u(given / weight)} U/kg is above the labelled "
                        f"{u(maxima[code])} U/kg."
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
        label = (
            f"Vial {i + 1}: {units(vial.size_units)} in {u(vial.diluent_ml)} mL gives "
            f"{units(conc)} per 0.1 mL"
        )
        if vial.size_units not in sizes.nums("sizes"):
            out.append(
                sizes.finding(
                    f"Vial {i + 1}: {units(vial.size_units)} is not a BOTOX vial size "
                    f"({' or '.join(units(z) for z in sizes.nums('sizes'))})."
                )
            )
        if not any(abs(conc - k) < EPS for k in known):
            out.append(odd.finding(f"{label}, which is not a dilution in the reference table."))
            continue
        if any(abs(conc - k) < EPS for k in accepted):
            continue
        for ind, r in relevant:
            expected = " or ".join(u(c) for c in r.nums("units_per_tenth_ml"))
            out.append(r.finding(f"{label}; {indication(ind)} uses {expected} U per 0.1 mL."))
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
                    f"Vial {i + 1} was used {_hours(elapsed)} hours after it was reconstituted; "
                    f"the limit is {u(r.num('max_hours'))} hours."
                )
            ]
        return []
    day_start = datetime.combine(session.date, time.min, tzinfo=recon.tzinfo)
    if day_start - recon > limit:
        return [
            r.finding(
                f"Vial {i + 1} was reconstituted on {day(recon.date())}, more than "
                f"{u(r.num('max_hours'))} hours before the session day began."
            )
        ]
    if day_start + timedelta(days=1) - recon > limit:
        return [
            r.finding(
                f"Vial {i + 1} was reconstituted on {day(recon.date())}; without the time of "
                f"the injection the {u(r.num('max_hours'))}-hour limit cannot be checked.",
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
    weight, stale_since = current_weight(inp, pediatric)
    days = inp.policy.window_days
    reach = timedelta(days=days - 1)
    others: dict[Product, float] = defaultdict(float)
    for h in inp.history:
        if h.product is not BOTOX and s.date - reach <= h.date <= s.date + reach:
            others[h.product] += h.total_units
    for other, given in sorted(others.items()):
        findings.append(
            _r("BTX-UNITS-NOT-CONVERTIBLE").finding(
                f"{units(given)} of {product(other)} given around this session were not counted: "
                "units of other products are never converted to BOTOX units."
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
                f"This session uses {product(s.product)}: the BOTOX dose rules do not apply and "
                "its units are not comparable with BOTOX units."
            )
        )
    else:
        window_units += session_units
        detail = (
            f"Total for the {days} days {span(window_start, window_end)} would be "
            f"{units(window_units)} ({units(history_units)} already charted and "
            f"{units(session_units)} in this session)"
        )
        cap = _cumulative(findings, pediatric, weight, window_units, detail, stale_since)
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
            findings.append(
                r.finding(
                    "Boxed warning: the toxin can spread beyond the injection site, a risk "
                    "probably greatest in children treated for spasticity."
                )
            )
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


def weight_max_age_days() -> int:
    """Program policy (issue 10): a child's weight counts for this many days."""
    return rule_set("policy")["POLICY-PEDS-WEIGHT-MAX-AGE"].int_("default")


def current_weight(inp: DoseCheckInput, pediatric: bool) -> tuple[float | None, date | None]:
    """(the weight the per-kg limits use, the date of a weight too old to count). A child's
    weight measured more than ``weight_max_age_days`` before the session does not count: the
    per-kg limits are then unchecked and BTX-PEDS-WEIGHT-REQUIRED blocks, as with no weight."""
    p = inp.patient
    if not pediatric or p.weight_kg is None or p.weight_measured_on is None:
        return p.weight_kg, None
    if (inp.session.date - p.weight_measured_on).days > weight_max_age_days():
        return None, p.weight_measured_on
    return p.weight_kg, None


def _cumulative(
    findings: list[Finding],
    pediatric: bool,
    weight: float | None,
    window_units: float,
    detail: str,
    stale_since: date | None = None,
) -> float:
    if not pediatric:
        r = _r("BTX-CUM-ADULT-400")
        cap = r.num("max_units")
        basis = units(cap)
    else:
        r = _r("BTX-CUM-PEDS-10UKG-340")
        cap = r.num("max_units")
        basis = units(cap)
        if weight is None:
            wr = _r("BTX-PEDS-WEIGHT-REQUIRED")
            if stale_since is not None:
                message = (
                    f"This child's last weight was measured on {day(stale_since)}, more than "
                    f"{weight_max_age_days()} days before the session: the per-kg limits cannot "
                    "be checked. Weigh the child and record it before treating."
                )
            else:
                message = (
                    "This child's weight is not on file: the per-kg limits cannot be checked. "
                    "Record the weight before treating."
                )
            findings.append(wr.finding(message))
        else:
            cap = min(cap, r.num("units_per_kg") * weight)
            basis = _per_kg_basis(r, weight, cap)
    if window_units > cap + EPS:
        findings.append(r.finding(f"{detail}; the limit is {basis}."))
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
                    f"{indication_label(ind)}: {plural(days, 'day', 'days')} since the last "
                    f"BOTOX session on {day(max(earlier))}; re-treatment is not sooner than "
                    f"{r.int_('min_days')} days.",
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
                f"Blepharospasm total {span(start, end)} would be {units(total)} "
                f"({units(charted)} already charted and {units(by_ind[BLEPH])} in this session); "
                f"the limit is {units(r.num('max_units'))} in {days} days."
            )
        ]
    return []
