"""``diary-summary``: ICHD-3 day classification, diary periods and medication overuse.

Severity scale of a diary day: 0 none, 1 mild, 2 moderate, 3 severe. A day without an
entry is ``missing``, never headache-free. Periods are counted back from ``as_of``:
period 0 is [as_of - P + 1, as_of], period 1 the P days before it, and so on.
"More than 3 months" is read as 4 consecutive periods (ICHD-CM-*, ICHD-MOH-CRITERIA).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from .data import rule_set
from .model import (
    AcuteClass,
    DayClass,
    DiaryDay,
    DiaryInput,
    Finding,
    Policy,
    findings_json,
    num,
)
from .wording import ACUTE_LABELS, listing, percent, span

SEVERITY_SCALE = {0: "none", 1: "mild", 2: "moderate", 3: "severe"}
TRIPTAN_ERGOT = frozenset({AcuteClass.TRIPTAN, AcuteClass.ERGOT})


@dataclass(frozen=True, slots=True)
class _Params:
    min_c: int
    moderate: int
    aura_min: int
    aura_max: int
    probable_hours: float
    four_hours: float


@functools.cache
def _params() -> _Params:
    ichd = rule_set("ichd3")
    return _Params(
        min_c=ichd["ICHD-MIGRAINE-DAY"].int_("min_c_features"),
        moderate=ichd["ICHD-MIGRAINE-DAY"].int_("moderate_severity"),
        aura_min=ichd["ICHD-AURA-DAY"].int_("min_minutes"),
        aura_max=ichd["ICHD-AURA-DAY"].int_("max_minutes"),
        probable_hours=ichd["ICHD-PROBABLE-MIGRAINE"].num("min_hours"),
        four_hours=rule_set("botox-us")["BTX-ELIG-HEADACHE-4H"].num("min_hours"),
    )


def classify(day: DiaryDay) -> DayClass:
    """Day class per fact sheet 2.6 (rule IDs ICHD-MIGRAINE-DAY, -AURA-DAY, -TRIPTAN-ERGOT-RELIEF,
    -PROBABLE-MIGRAINE). Criterion B (duration) counts as met when acute medication was taken,
    since ICHD-3 defines it for untreated or unsuccessfully treated attacks."""
    if not day.headache:
        return DayClass.HEADACHE_FREE
    p = _params()
    features = (
        day.unilateral + day.pulsating + day.worse_with_activity + (day.severity >= p.moderate)
    )
    c_met = features >= p.min_c
    d_met = day.nausea or day.vomiting or (day.photophobia and day.phonophobia)
    if c_met and d_met:
        return DayClass.MIGRAINE
    if day.aura and day.aura_minutes is not None and p.aura_min <= day.aura_minutes <= p.aura_max:
        return DayClass.MIGRAINE
    if day.triptan_or_ergot_relief and day.acute_medications & TRIPTAN_ERGOT:
        return DayClass.MIGRAINE
    b_met = day.hours >= p.probable_hours or bool(day.acute_medications)
    if day.aura or (b_met and (c_met or d_met)):
        return DayClass.PROBABLE_MIGRAINE
    return DayClass.HEADACHE


@dataclass(slots=True)
class PeriodStats:
    index: int
    start: date
    end: date
    length: int
    recorded: int = 0
    headache_days: int = 0
    days_4h_or_more: int = 0
    migraine_days: int = 0
    probable_days: int = 0
    moderate_or_severe_days: int = 0
    medication_days: dict[AcuteClass, int] = field(default_factory=dict)
    any_medication_days: int = 0

    @property
    def missing(self) -> int:
        return self.length - self.recorded

    @property
    def completeness(self) -> float:
        return self.recorded / self.length

    def migraine_counted(self, policy: Policy) -> int:
        return self.migraine_days + (self.probable_days if policy.count_probable_as_migraine else 0)

    def headache_counted(self, policy: Policy) -> int:
        return self.days_4h_or_more if policy.require_4h_for_headache_day else self.headache_days

    def to_json(self, policy: Policy) -> dict[str, object]:
        counts: dict[str, int] = {
            "headache_days": self.headache_days,
            "migraine_days": self.migraine_counted(policy),
            "definite_migraine_days": self.migraine_days,
            "probable_migraine_days": self.probable_days,
            "moderate_or_severe_days": self.moderate_or_severe_days,
            "days_4h_or_more": self.days_4h_or_more,
        }
        normalised: dict[str, object] = {
            k: (None if not self.recorded else num(v * self.length / self.recorded))
            for k, v in counts.items()
        }
        return {
            "index": self.index,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.length,
            "recorded_days": self.recorded,
            "missing_days": self.missing,
            "completeness": round(self.completeness, 4),
            **counts,
            "acute_medication_days": {c.value: self.medication_days.get(c, 0) for c in AcuteClass},
            "any_acute_medication_days": self.any_medication_days,
            "normalised": normalised,
        }


class Diary:
    """Days indexed by date with their classes (built once per evaluation)."""

    def __init__(self, days: Iterable[DiaryDay]) -> None:
        self.days: dict[date, DiaryDay] = {d.date: d for d in days}
        self.classes: dict[date, DayClass] = {d: classify(x) for d, x in self.days.items()}
        self.four_hours = _params().four_hours
        self.moderate = _params().moderate

    def earliest(self) -> date | None:
        return min(self.days) if self.days else None

    def stats(self, index: int, start: date, end: date) -> PeriodStats:
        st = PeriodStats(index, start, end, (end - start).days + 1)
        meds: dict[AcuteClass, int] = {}
        day = start
        one = timedelta(days=1)
        while day <= end:
            entry = self.days.get(day)
            if entry is not None:
                st.recorded += 1
                cls = self.classes[day]
                if entry.headache:
                    st.headache_days += 1
                    st.days_4h_or_more += entry.hours >= self.four_hours
                    st.moderate_or_severe_days += entry.severity >= self.moderate
                    st.migraine_days += cls is DayClass.MIGRAINE
                    st.probable_days += cls is DayClass.PROBABLE_MIGRAINE
                for med in entry.acute_medications:
                    meds[med] = meds.get(med, 0) + 1
                st.any_medication_days += bool(entry.acute_medications)
            day += one
        st.medication_days = meds
        return st

    def periods(self, as_of: date, length: int, count: int) -> list[PeriodStats]:
        """``count`` periods, most recent first."""
        out = []
        for k in range(count):
            end = as_of - timedelta(days=k * length)
            out.append(self.stats(k, end - timedelta(days=length - 1), end))
        return out

    def day_classes(self, start: date, end: date) -> list[dict[str, str]]:
        out = []
        day = start
        while day <= end:
            cls = self.classes.get(day, DayClass.MISSING)
            out.append({"date": day.isoformat(), "class": cls.value})
            day += timedelta(days=1)
        return out


def completeness_findings(periods: list[PeriodStats], policy: Policy) -> list[Finding]:
    r = rule_set("policy")["POLICY-DIARY-COMPLETENESS"]
    return [
        r.finding(
            f"Diary {span(p.start, p.end)}: {p.recorded} of {p.length} days recorded; the "
            f"practice asks for at least {percent(policy.min_diary_completeness)}."
        )
        for p in periods
        if p.completeness < policy.min_diary_completeness
    ]


MOH_RULES = (
    "ICHD-MOH-ERGOT",
    "ICHD-MOH-TRIPTAN",
    "ICHD-MOH-SIMPLE-ANALGESIC",
    "ICHD-MOH-OPIOID",
    "ICHD-MOH-COMBINATION",
)


def medication_overuse(
    periods: list[PeriodStats], diary: Diary
) -> tuple[dict[str, object], list[Finding]]:
    """ICHD-3 8.2 over the most recent ``periods_required`` periods (most recent first)."""
    ichd = rule_set("ichd3")
    crit = ichd["ICHD-MOH-CRITERIA"]
    need = crit.int_("periods_required")
    min_headache = crit.int_("min_headache_days")
    window = periods[:need]
    earliest = diary.earliest()
    evaluable = len(window) == need and earliest is not None and earliest <= window[-1].end
    result: dict[str, object] = {
        "evaluated": evaluable,
        "periods_required": need,
        "headache_criterion_met": None,
        "flags": [],
    }
    if not evaluable:
        return result, []
    headache_ok = all(p.headache_days >= min_headache for p in window)
    result["headache_criterion_met"] = headache_ok
    flags: list[dict[str, object]] = []
    findings: list[Finding] = []

    def flag(rule_id: str, label: str, words: str, per_period: list[int]) -> None:
        r = ichd[rule_id]
        flags.append(
            {
                "rule_id": rule_id,
                "subtype": r.str_("subtype"),
                "class": label,
                "days_per_period": per_period,
                "confirmed": r.confirmed,
            }
        )
        findings.append(
            r.finding(
                f"Possible medication-overuse headache (ICHD-3 {r.str_('subtype')}): {words} on "
                f"{listing(per_period)} days in the last {need} periods (threshold "
                f"{r.int_('min_days')} in each), with headache on {min_headache} or more days."
            )
        )

    if headache_ok:
        for rid in MOH_RULES:
            r = ichd[rid]
            cls = AcuteClass(r.str_("class"))
            per = [p.medication_days.get(cls, 0) for p in window]
            if all(n >= r.int_("min_days") for n in per):
                flag(rid, cls.value, ACUTE_LABELS[cls] + " medicines", per)
        if not flags:
            multi = ichd["ICHD-MOH-MULTIPLE"]
            classes = frozenset(AcuteClass(c) for c in multi.strs("classes"))
            per = [_days_with_any(diary, p, classes) for p in window]
            used = {c for p in window for c, n in p.medication_days.items() if n and c in classes}
            if len(used) >= 2 and all(n >= multi.int_("min_days") for n in per):
                names = [ACUTE_LABELS[c] for c in sorted(used)]
                flag(
                    "ICHD-MOH-MULTIPLE",
                    "+".join(sorted(c.value for c in used)),
                    f"{listing(names)} medicines together",
                    per,
                )
    result["flags"] = flags
    return result, findings


def _days_with_any(diary: Diary, p: PeriodStats, classes: frozenset[AcuteClass]) -> int:
    count = 0
    day = p.start
    while day <= p.end:
        entry = diary.days.get(day)
        count += entry is not None and bool(entry.acute_medications & classes)
        day += timedelta(days=1)
    return count


def period_count(as_of: date, earliest: date | None, length: int, minimum: int = 1) -> int:
    if earliest is None:
        return minimum
    span = (as_of - earliest).days + 1
    return max(minimum, -(-span // length))


def summarize(inp: DiaryInput) -> dict[str, object]:
    diary = Diary(inp.days)
    n = period_count(inp.as_of, diary.earliest(), inp.period_days)
    periods = diary.periods(inp.as_of, inp.period_days, n)
    moh, findings = medication_overuse(periods, diary)
    findings += completeness_findings(periods, inp.policy)
    chronological = list(reversed(periods))
    return {
        "rule_set": rule_set("ichd3").label,
        "rule_sets": [rule_set("ichd3").label, rule_set("policy").label],
        "as_of": inp.as_of.isoformat(),
        "period_days": inp.period_days,
        "severity_scale": {str(k): v for k, v in SEVERITY_SCALE.items()},
        "counting": _counting(inp.policy),
        "days": diary.day_classes(chronological[0].start, inp.as_of),
        "periods": [p.to_json(inp.policy) for p in chronological],
        "medication_overuse": moh,
        "findings": findings_json(findings),
    }


def _counting(policy: Policy) -> Mapping[str, object]:
    return {
        "count_probable_as_migraine": policy.count_probable_as_migraine,
        "min_diary_completeness": policy.min_diary_completeness,
    }
