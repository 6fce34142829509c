"""``eligibility``: chronic-migraine BOTOX eligibility from a headache diary.

Diary months are ``period_days`` long (default 30) and counted back from ``as_of``; ">3
months" needs ``periods_required`` (4) consecutive periods all meeting the thresholds.
A period count is *met* when the recorded days reach the threshold, *not met* when even
counting every missing day could not reach it, and *undecided* (null) otherwise.
"""

from __future__ import annotations

from .data import rule_set
from .diary import Diary, PeriodStats, completeness_findings, medication_overuse
from .dose import flag_findings
from .model import (
    FAILED_OUTCOMES,
    EligibilityInput,
    Finding,
    Flag,
    age_on,
    findings_json,
)
from .wording import FLAG_SENTENCES, PREVENTIVE_LABELS, day, listing, percent, plural, span

CONTRAINDICATIONS = frozenset({Flag.BOTULINUM_HYPERSENSITIVITY, Flag.INJECTION_SITE_INFECTION})


def _tri(count: int, missing: int, threshold: int) -> bool | None:
    if count >= threshold:
        return True
    if count + missing < threshold:
        return False
    return None


def _combine(values: list[bool | None]) -> bool | None:
    if all(v is True for v in values):
        return True
    if any(v is False for v in values):
        return False
    return None


def evaluate(inp: EligibilityInput) -> dict[str, object]:
    btx, ichd, resp, pol = (
        rule_set("botox-us"),
        rule_set("ichd3"),
        rule_set("response"),
        rule_set("policy"),
    )
    policy = inp.policy
    findings: list[Finding] = flag_findings(inp.patient.flags)
    criteria: list[dict[str, object]] = []

    age = age_on(inp.patient.birth_date, inp.as_of)
    age_rule = btx["BTX-CM-AGE-18"]
    age_ok = age >= age_rule.int_("min_age")
    criteria.append(
        {
            "id": "age",
            "label": "Adult",
            "rule_id": age_rule.id,
            "met": age_ok,
            "detail": f"{age} years old on {day(inp.as_of)}; the label covers adults "
            f"{age_rule.int_('min_age')} and older.",
        }
    )
    if not age_ok:
        findings.append(
            age_rule.finding(
                f"The patient is {age}; BOTOX for chronic migraine is labelled for adults "
                f"{age_rule.int_('min_age')} and older.",
                severity=policy.off_label_age,
            )
        )
    contra = sorted(inp.patient.flags & CONTRAINDICATIONS)
    criteria.append(
        {
            "id": "no_contraindication",
            "label": "No contraindication",
            "rule_id": "BTX-CONTRA-HYPERSENSITIVITY",
            "met": not contra,
            "detail": " ".join(FLAG_SENTENCES[f] for f in contra)
            or "No contraindication recorded.",
        }
    )

    h_rule, m_rule = ichd["ICHD-CM-HEADACHE-15"], ichd["ICHD-CM-MIGRAINE-8"]
    need = h_rule.int_("periods_required")
    h_min, m_min = h_rule.int_("min_days"), m_rule.int_("min_days")
    diary = Diary(inp.days)
    periods = diary.periods(inp.as_of, inp.period_days, need)
    h_status = [_tri(p.headache_counted(policy), p.missing, h_min) for p in periods]
    m_status = [_tri(p.migraine_counted(policy), p.missing, m_min) for p in periods]
    incomplete = [p for p in periods if p.completeness < policy.min_diary_completeness]
    h_met, m_met = _combine(h_status), _combine(m_status)
    hd_label = (
        "headache days of 4 h or more" if policy.require_4h_for_headache_day else "headache days"
    )
    criteria += [
        {
            "id": "diary_completeness",
            "label": "Diary complete enough",
            "rule_id": "POLICY-DIARY-COMPLETENESS",
            "met": not incomplete,
            "detail": f"Each of the {need} periods of {inp.period_days} days needs at least "
            f"{percent(policy.min_diary_completeness)} of its days recorded (practice policy).",
        },
        {
            "id": "headache_days",
            "label": "Headache days",
            "rule_id": h_rule.id,
            "met": h_met,
            "detail": f"{hd_label.capitalize()} per {inp.period_days}-day period, oldest first: "
            f"{listing([p.headache_counted(policy) for p in reversed(periods)])}; {h_min} or "
            f"more are needed in each of the {need} periods (more than 3 months).",
        },
        {
            "id": "migraine_days",
            "label": "Migraine days",
            "rule_id": m_rule.id,
            "met": m_met,
            "detail": f"Migraine days per {inp.period_days}-day period, oldest first: "
            f"{listing([p.migraine_counted(policy) for p in reversed(periods)])}; {m_min} or "
            "more are needed in each.",
        },
    ]

    failed = sorted({p.drug_class for p in inp.prior_preventives if p.outcome in FAILED_OUTCOMES})
    required = policy.failed_preventive_classes_required
    prev_rule = resp["NICE-START-PREVENTIVES"]
    criteria.append(
        {
            "id": "preventive_classes_failed",
            "label": "Preventive treatments tried",
            "rule_id": prev_rule.id,
            "met": len(failed) >= required,
            "detail": f"{_failed_classes(len(failed))} failed"
            + (f" ({', '.join(PREVENTIVE_LABELS[c] for c in failed)})" if failed else "")
            + f"; the practice requires {required}.",
        }
    )

    moh, moh_findings = medication_overuse(periods, diary)
    findings += moh_findings
    if moh["flags"]:
        r = resp["NICE-MANAGE-OVERUSE"]
        findings.append(r.finding("Medication overuse should be managed before starting BOTOX."))

    status, extra = _status(
        inp, age_ok, bool(contra), h_status, m_status, incomplete, periods, len(failed)
    )
    findings += extra
    evidence = {
        "period_days": inp.period_days,
        "months": [
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "recorded_days": p.recorded,
                "completeness": round(p.completeness, 4),
                "headache_days": p.headache_days,
                "headache_days_counted": p.headache_counted(policy),
                "migraine_days": p.migraine_counted(policy),
                "days_4h_or_more": p.days_4h_or_more,
            }
            for p in reversed(periods)
        ],
        "medication_overuse": moh,
    }
    return {
        "rule_set": ichd.label,
        "rule_sets": [ichd.label, btx.label, resp.label, pol.label],
        "status": status,
        "criteria": criteria,
        "evidence": evidence,
        "findings": findings_json(findings),
    }


def _status(
    inp: EligibilityInput,
    age_ok: bool,
    contra: bool,
    h_status: list[bool | None],
    m_status: list[bool | None],
    incomplete: list[PeriodStats],
    periods: list[PeriodStats],
    failed_classes: int,
) -> tuple[str, list[Finding]]:
    btx, ichd, pol = rule_set("botox-us"), rule_set("ichd3"), rule_set("policy")
    policy = inp.policy
    recent = periods[0]
    window = span(recent.start, recent.end)
    if contra or not age_ok:
        return "not_eligible", []
    if h_status[0] is False:
        r = btx["BTX-ELIG-EPISODIC-14"]
        return "not_eligible", [
            r.finding(
                f"{plural(recent.headache_counted(policy), 'headache day', 'headache days')} "
                f"{window} (at most {recent.headache_counted(policy) + recent.missing} counting "
                "the days not recorded): an episodic pattern, and BOTOX is not established for "
                "episodic migraine."
            )
        ]
    if m_status[0] is False:
        r = ichd["ICHD-CM-MIGRAINE-8"]
        return "not_eligible", [
            r.finding(
                f"{plural(recent.migraine_counted(policy), 'migraine day', 'migraine days')} "
                f"{window}: fewer than {r.int_('min_days')}."
            )
        ]
    if incomplete or None in h_status or None in m_status:
        found = completeness_findings(periods, policy)
        if not found:
            found = [
                pol["POLICY-DIARY-COMPLETENESS"].finding(
                    "Days missing from the diary leave the headache-day or migraine-day "
                    "criteria undecided."
                )
            ]
        return "not_yet", found
    if False in h_status or False in m_status:
        r = ichd["ICHD-CM-HEADACHE-15"] if False in h_status else ichd["ICHD-CM-MIGRAINE-8"]
        return "not_yet", [
            r.finding("The chronic pattern is present recently but not yet for more than 3 months.")
        ]
    required = policy.failed_preventive_classes_required
    if failed_classes < required:
        r = rule_set("response")["NICE-START-PREVENTIVES"]
        return "not_yet", [
            r.finding(
                f"{_failed_classes(failed_classes)} failed; the practice requires {required}."
            )
        ]
    return "eligible", []


def _failed_classes(n: int) -> str:
    """``1 preventive drug class``, ``2 preventive drug classes``."""
    return plural(n, "preventive drug class", "preventive drug classes")
