"""``response``: per-cycle change vs baseline and the continuation recommendation.

Baseline = the 28 days before the first session. Cycle N = the 28 days before session N+1,
or the 28 days before ``as_of`` for the last session; a cycle whose window would start
before its own session is ``too_early``. Rates use recorded days only (missing days are
never headache-free): change % = (cycle rate - baseline rate) / baseline rate x 100, so a
reduction is negative. Headache days here are any-headache days (ICHD counting). A cycle compared
with its baseline says whether the patient responded under the rule set (``responder``; absent
when the window is not complete or the diary data are insufficient).
"""

from __future__ import annotations

from datetime import date, timedelta

from .data import Rule, rule_set
from .diary import Diary, PeriodStats
from .model import (
    DatedScore,
    Finding,
    Recommendation,
    ResponseInput,
    ResponseRuleSet,
    ScoreInstrument,
    findings_json,
    num,
)
from .wording import span


def _rate(count: int, stats: PeriodStats) -> float | None:
    return None if not stats.recorded else count / stats.recorded


def _change(base: float | None, now: float | None) -> float | None:
    if base is None or now is None or base == 0:
        return None
    return round((now - base) / base * 100, 2)


def _latest(
    scores: tuple[DatedScore, ...], inst: ScoreInstrument, lo: date | None, hi: date
) -> float | None:
    hits = [
        s for s in scores if s.instrument is inst and s.date <= hi and (lo is None or s.date > lo)
    ]
    return max(hits, key=lambda s: s.date).score if hits else None


def _window_json(st: PeriodStats, policy_counts: dict[str, int]) -> dict[str, object]:
    return {
        "start": st.start.isoformat(),
        "end": st.end.isoformat(),
        "recorded_days": st.recorded,
        "completeness": round(st.completeness, 4),
        **policy_counts,
    }


class _Rules:
    def __init__(self) -> None:
        r = rule_set("response")
        self.window = r["RESP-WINDOW-28"]
        self.ahs50, self.ahs_midas, self.ahs_hit6 = (
            r["RESP-AHS-HEADACHE-50"],
            r["RESP-AHS-MIDAS"],
            r["RESP-AHS-HIT6"],
        )
        self.ahs_cycles = r["RESP-AHS-ASSESS-2-CYCLES"]
        self.nice30, self.nice_epi = r["RESP-NICE-30-2-CYCLES"], r["RESP-NICE-EPISODIC"]
        self.ehf30, self.ehf_stop, self.ehf_low = (
            r["RESP-EHF-30"],
            r["RESP-EHF-STOP-CYCLES"],
            r["RESP-EHF-LOW-10"],
        )


def _low_months(diary: Diary, end: date, first: date, rule: Rule, policy_min: float) -> bool:
    """True when each of ``months`` consecutive diary months (POLICY-PERIOD-DAYS) ending at ``end`` (all after the
    first session) is complete and certainly below ``below_days`` headache days."""
    months = rule.int_("months")
    month = rule_set("policy")["POLICY-PERIOD-DAYS"].int_("default")
    periods = diary.periods(end, month, months)
    if periods[-1].start < first:
        return False
    return all(
        p.completeness >= policy_min and p.headache_days + p.missing < rule.int_("below_days")
        for p in periods
    )


def evaluate(inp: ResponseInput) -> dict[str, object]:
    rules = _Rules()
    policy = inp.policy
    diary = Diary(inp.days)
    base_len = rules.window.int_("baseline_days")
    cyc_len = rules.window.int_("cycle_days")
    dates = sorted({s.date for s in inp.sessions})
    first = dates[0]
    findings: list[Finding] = []
    completeness = rule_set("policy")["POLICY-DIARY-COMPLETENESS"]

    def counts(st: PeriodStats) -> dict[str, int]:
        return {
            "headache_days": st.headache_days,
            "migraine_days": st.migraine_counted(policy),
            "moderate_or_severe_days": st.moderate_or_severe_days,
        }

    baseline = diary.stats(0, first - timedelta(days=base_len), first - timedelta(days=1))
    base_ok = baseline.completeness >= policy.min_diary_completeness
    if not base_ok:
        findings.append(
            completeness.finding(
                f"Baseline diary {span(baseline.start, baseline.end)}: {baseline.recorded} of "
                f"{baseline.length} days recorded."
            )
        )
    base_scores = {i.value: _latest(inp.scores, i, None, first) for i in ScoreInstrument}
    cycles: list[dict[str, object]] = []
    streak = 0
    for n, session in enumerate(dates, start=1):
        nxt = dates[n] if n < len(dates) else None
        end = (nxt or inp.as_of) - timedelta(days=1)
        start = end - timedelta(days=cyc_len - 1)
        st = diary.stats(n, start, end)
        entry: dict[str, object] = {
            "cycle": n,
            "session_date": session.isoformat(),
            "window": _window_json(st, counts(st)),
        }
        if start < session:
            entry.update(
                recommendation=Recommendation.TOO_EARLY.value,
                reason=f"The {cyc_len} days after this session are not over yet.",
                rule_ids=[rules.window.id],
            )
            cycles.append(entry)
            continue
        ok = st.completeness >= policy.min_diary_completeness
        if not ok:
            findings.append(
                completeness.finding(
                    f"Cycle {n} diary {span(start, end)}: {st.recorded} of {st.length} days "
                    "recorded."
                )
            )
        hd = _change(_rate(baseline.headache_days, baseline), _rate(st.headache_days, st))
        md = _change(
            _rate(baseline.migraine_counted(policy), baseline),
            _rate(st.migraine_counted(policy), st),
        )
        ms = _change(
            _rate(baseline.moderate_or_severe_days, baseline), _rate(st.moderate_or_severe_days, st)
        )
        score_hi = nxt or inp.as_of
        scores: dict[str, object] = {}
        for inst in ScoreInstrument:
            current = _latest(inp.scores, inst, session, score_hi)
            base = base_scores[inst.value]
            scores[inst.value] = {
                "baseline": None if base is None else num(base),
                "current": None if current is None else num(current),
                "change": None if base is None or current is None else num(current - base),
            }
        entry.update(
            headache_day_change_pct=hd,
            migraine_day_change_pct=md,
            moderate_or_severe_day_change_pct=ms,
            scores=scores,
        )
        if not (ok and base_ok) or hd is None:
            entry.update(
                recommendation=Recommendation.TOO_EARLY.value,
                reason="Not enough diary days to compare with the baseline.",
                rule_ids=[completeness.id],
            )
            cycles.append(entry)
            continue
        rec, reason, ids, responder = _decide(
            inp, rules, diary, n, end, first, hd, ms, scores, streak
        )
        streak = 0 if responder else streak + 1
        entry.update(recommendation=rec.value, reason=reason, rule_ids=ids, responder=responder)
        cycles.append(entry)
    return {
        "rule_set": rule_set("response").label,
        "rule_sets": [
            rule_set("response").label,
            rule_set("ichd3").label,
            rule_set("policy").label,
        ],
        "response_rule_set": inp.rule_set.value,
        "baseline": {
            "window": _window_json(baseline, counts(baseline)),
            "scores": {k: (None if v is None else num(v)) for k, v in base_scores.items()},
        },
        "cycles": cycles,
        "findings": findings_json(findings),
    }


def _score_response(rules: _Rules, scores: dict[str, object]) -> list[str]:
    hits = []
    midas = scores[ScoreInstrument.MIDAS.value]
    hit6 = scores[ScoreInstrument.HIT6.value]
    assert isinstance(midas, dict) and isinstance(hit6, dict)
    m = rules.ahs_midas
    if midas["change"] is not None:
        base = float(midas["baseline"])
        drop = -float(midas["change"])
        if (
            m.num("band_low") <= base <= m.num("band_high")
            and drop >= m.num("min_points")
            or base > m.num("band_high")
            and drop >= base * m.num("min_pct") / 100
        ):
            hits.append(m.id)
    if hit6["change"] is not None and -float(hit6["change"]) >= rules.ahs_hit6.num("min_points"):
        hits.append(rules.ahs_hit6.id)
    return hits


def _decide(
    inp: ResponseInput,
    rules: _Rules,
    diary: Diary,
    n: int,
    end: date,
    first: date,
    hd: float,
    ms: float | None,
    scores: dict[str, object],
    streak: int,
) -> tuple[Recommendation, str, list[str], bool]:
    reduction = -hd
    pmin = inp.policy.min_diary_completeness
    if inp.rule_set is ResponseRuleSet.AHS:
        ids = []
        if reduction >= rules.ahs50.num("min_reduction_pct") or (
            ms is not None and -ms >= rules.ahs50.num("min_reduction_pct")
        ):
            ids.append(rules.ahs50.id)
        ids += _score_response(rules, scores)
        responder = bool(ids)
        if n < rules.ahs_cycles.int_("min_cycles"):
            return (
                Recommendation.TOO_EARLY,
                f"AHS guidance assesses the treatment after {rules.ahs_cycles.int_('min_cycles')} "
                "cycles (6 months).",
                [rules.ahs_cycles.id, *ids],
                responder,
            )
        if responder:
            return Recommendation.CONTINUE, "Meets an AHS benefit criterion.", ids, True
        return (
            Recommendation.CONSIDER_STOPPING,
            f"Headache days changed by {hd}% (a 50% reduction is needed) and no MIDAS or HIT-6 "
            "criterion is met.",
            [rules.ahs50.id, rules.ahs_midas.id, rules.ahs_hit6.id],
            False,
        )
    if inp.rule_set is ResponseRuleSet.NICE:
        r30 = rules.nice30
        responder = reduction >= r30.num("min_reduction_pct")
        if _low_months(diary, end, first, rules.nice_epi, pmin):
            return (
                Recommendation.STOP,
                "Migraine has become episodic: under 15 headache days a month for 3 months in a "
                "row.",
                [rules.nice_epi.id],
                responder,
            )
        if n < r30.int_("after_cycles"):
            return (
                Recommendation.TOO_EARLY,
                f"NICE guidance assesses the treatment after {r30.int_('after_cycles')} cycles.",
                [r30.id],
                responder,
            )
        if responder:
            return (
                Recommendation.CONTINUE,
                f"Headache days fell by {reduction}% (30% or more).",
                [r30.id],
                True,
            )
        return (
            Recommendation.STOP,
            f"Headache days fell by {reduction}%: less than 30% after {n} cycles.",
            [r30.id],
            False,
        )
    responder = reduction >= rules.ehf30.num("min_reduction_pct")
    if _low_months(diary, end, first, rules.ehf_low, pmin):
        return (
            Recommendation.STOP,
            "Under 10 headache days a month for 3 months: stop and re-evaluate 4 to 5 months "
            "later.",
            [rules.ehf_low.id],
            responder,
        )
    if responder:
        return (
            Recommendation.CONTINUE,
            f"Responder: headache days fell by {reduction}%.",
            [rules.ehf30.id],
            True,
        )
    misses = streak + 1
    stop = rules.ehf_stop
    if misses >= stop.int_("stop_after"):
        return (
            Recommendation.STOP,
            f"{misses} cycles in a row without response.",
            [rules.ehf30.id, stop.id],
            False,
        )
    if misses >= stop.int_("consider_after"):
        return (
            Recommendation.CONSIDER_STOPPING,
            f"{misses} cycles in a row without response.",
            [rules.ehf30.id, stop.id],
            False,
        )
    return (
        Recommendation.TOO_EARLY,
        "No response after 1 cycle; EHF guidance judges after 2 to 3 cycles.",
        [rules.ehf30.id, stop.id],
        False,
    )
