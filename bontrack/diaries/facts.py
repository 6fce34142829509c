"""The only place that knows both the ORM and clinic_rules' documents for the diary.

Public interface used by other apps:
- ``diary_documents(patient, start, end)``: days in clinic_rules ``diary-summary`` input shape
  (two queries, whatever the length of the diary).
- ``score_series(patient)``: completed MIDAS and HIT-6 scores, oldest first (one query).
- ``eligibility_document(patient, as_of)``: the full ``eligibility`` input.
- ``cached_diary_summary(patient, today, first_session)``: ``diary-summary`` of the staff pages,
  with the baseline period before the first treatment session.
- ``outcome_charts(patient, today)``: the patient's outcome charts (diary page, PDF note).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Sum

from bontrack.core.parsing import printable
from bontrack.core.policy import facts as program_policy
from bontrack.diaries.models import FEATURES, DiaryDay, DiaryMedication, QuestionnaireResponse
from bontrack.patients.models import Patient, PatientFlag, PriorTreatment
from clinic_rules import contract
from clinic_rules.contract import InputError as InputError  # callers catch facts.InputError
from clinic_rules.data import rule

TRIPTAN_ERGOT = frozenset({"triptan", "ergot"})

# patients.PreventiveClass -> clinic_rules PreventiveClass (None: not a preventive class there).
PREVENTIVE_CLASS = {
    "beta_blocker": "beta_blocker",
    "anticonvulsant": "antiepileptic",
    "tricyclic": "tricyclic_antidepressant",
    "snri": "snri",
    "calcium_channel_blocker": "calcium_channel_blocker",
    "arb_ace": "angiotensin_blocker",
    "cgrp_antibody": "cgrp_antibody",
    "gepant": "gepant",
    "other": "other",
    "botulinum_toxin": None,
}

_DAY_FIELDS = ("id", "date", "headache", "hours", "severity", "aura_minutes", *FEATURES)


def day_document(row: dict[str, Any], classes: set[str] | list[str]) -> dict[str, object]:
    """One diary row (a dict of DiaryDay fields) in the clinic_rules day shape."""
    doc: dict[str, object] = {"date": row["date"].isoformat(), "headache": bool(row["headache"])}
    if row["headache"]:
        doc["hours"] = float(row["hours"] or 0)
        doc["severity"] = int(row["severity"])
        for f in FEATURES:
            doc[f] = bool(row[f])
        if row["aura"] and row.get("aura_minutes") is not None:
            doc["aura_minutes"] = int(row["aura_minutes"])
    else:
        for f in FEATURES:
            doc[f] = False
    unique = sorted(set(classes))
    doc["acute_medications"] = [{"class": c} for c in unique]
    doc["triptan_or_ergot_relief"] = bool(
        row.get("triptan_or_ergot_relief") and TRIPTAN_ERGOT & set(unique)
    )
    return doc


def diary_documents(patient: Patient | int, start: date, end: date) -> list[dict[str, object]]:
    """The recorded days in [start, end], oldest first, in ``diary-summary`` day shape."""
    patient_id = patient if isinstance(patient, int) else patient.pk
    rows = list(
        DiaryDay.objects.filter(patient_id=patient_id, date__gte=start, date__lte=end)
        .order_by("date")
        .values(*_DAY_FIELDS, "triptan_or_ergot_relief")
    )
    meds: dict[int, list[str]] = defaultdict(list)
    if rows:
        for day_id, cls in DiaryMedication.objects.filter(
            day__patient_id=patient_id, day__date__gte=start, day__date__lte=end
        ).values_list("day_id", "drug_class"):
            meds[day_id].append(cls)
    return [day_document(r, meds.get(r["id"], [])) for r in rows]


def diary_span(patient: Patient | int) -> tuple[date | None, date | None]:
    from django.db.models import Max, Min

    patient_id = patient if isinstance(patient, int) else patient.pk
    agg = DiaryDay.objects.filter(patient_id=patient_id).aggregate(lo=Min("date"), hi=Max("date"))
    return agg["lo"], agg["hi"]


def score_series(patient: Patient | int) -> list[dict[str, object]]:
    """Completed MIDAS and HIT-6 questionnaires: ``[{date, instrument, score, valid}]``."""
    patient_id = patient if isinstance(patient, int) else patient.pk
    rows = (
        QuestionnaireResponse.objects.filter(patient_id=patient_id, completed_at__isnull=False)
        .order_by("completed_at", "id")
        .values("completed_at", "instrument", "score", "valid")
    )
    from django.utils import timezone

    return [
        {
            "date": timezone.localdate(r["completed_at"]),
            "instrument": r["instrument"],
            "score": float(r["score"]) if r["score"] is not None else None,
            "valid": bool(r["valid"]),
        }
        for r in rows
    ]


def active_flags(patient: Patient) -> list[str]:
    return sorted(
        set(PatientFlag.objects.filter(patient=patient, active=True).values_list("flag", flat=True))
    )


def prior_preventives(patient: Patient) -> list[dict[str, object]]:
    out = []
    for drug, cls, outcome in PriorTreatment.objects.filter(patient=patient).values_list(
        "drug", "drug_class", "outcome"
    ):
        mapped = PREVENTIVE_CLASS.get(cls)
        if mapped is None:
            continue
        # clinic_rules refuses names with control characters; a name stored before input was
        # checked (a line break, U+202E) must not turn the panel and the eligibility API into a 500.
        out.append({"drug": printable(drug)[:100], "class": mapped, "outcome": outcome})
    return out[:50]


def recorded_day_counts(patient_ids: list[int], since: date, until: date) -> dict[int, int]:
    """Number of diary days recorded per patient in [since, until] (one query)."""
    rows = (
        DiaryDay.objects.filter(patient_id__in=patient_ids, date__gte=since, date__lte=until)
        .values("patient_id")
        .annotate(n=Count("id"))
    )
    return {r["patient_id"]: r["n"] for r in rows}


def period_days() -> int:
    """Length of a diary period (the "month" of the rates), the same on every diary screen (diary
    page, chart panel, eligibility): the program policy value POLICY-PERIOD-DAYS (clinic_rules
    policy data; the practice cannot change it yet, so its default)."""
    return int(rule("POLICY-PERIOD-DAYS").params["default"])


def eligibility_lookback(as_of: date) -> date:
    """First day the eligibility rule can look at: its required periods (ICHD-3 chronic migraine,
    clinic_rules data) of the program's diary period, and the day before."""
    periods = int(rule("ICHD-CM-HEADACHE-15").params["periods_required"])
    return as_of - timedelta(days=periods * period_days() + 1)


def eligibility_document(patient: Patient, as_of: date) -> dict[str, object]:
    doc: dict[str, object] = {
        "as_of": as_of.isoformat(),
        "patient": {
            "birth_date": patient.date_of_birth.isoformat(),
            "flags": active_flags(patient),
        },
        "indication": "chronic_migraine",
        "days": diary_documents(patient, eligibility_lookback(as_of), as_of),
        "prior_preventives": prior_preventives(patient),
        "period_days": period_days(),
    }
    policy = program_policy.policy_document(patient.practice_id)
    if policy:
        doc["policy"] = policy
    return doc


def run_eligibility(patient: Patient, as_of: date) -> tuple[dict[str, object], dict[str, Any]]:
    doc = eligibility_document(patient, as_of)
    return contract.run("eligibility", doc), doc


def diary_summary(patient: Patient, start: date, end: date) -> dict[str, object]:
    """clinic_rules ``diary-summary`` over [start, end] (periods counted back from ``end``)."""
    doc: dict[str, object] = {
        "as_of": end.isoformat(),
        "days": diary_documents(patient, start, end),
        "period_days": period_days(),
    }
    policy = program_policy.policy_document(patient.practice_id)
    if policy:
        doc["policy"] = policy
    return contract.run("diary-summary", doc)


# ---- the clinic_rules calls of the diary screens and actions (only this module imports it) ----


def run_diary_summary(doc: dict[str, object]) -> dict[str, Any]:
    """clinic_rules ``diary-summary`` of a prepared document (the staff diary page)."""
    return contract.run("diary-summary", doc)


def score_questionnaire(instrument: str, answers: dict[str, Any]) -> dict[str, Any]:
    """clinic_rules ``questionnaire``: score, band and validity of the answers."""
    return contract.run("questionnaire", {"instrument": instrument, "answers": answers})


def check_policy_document(policy: dict[str, object]) -> None:
    """Let clinic_rules judge a practice policy (raises InputError naming ``policy.<key>``)."""
    contract.parse("diary-summary", {"as_of": "2000-01-01", "days": [], "policy": policy})


def headache_day_min_hours() -> int:
    """Hours a headache must last to count as an eligibility headache day (BTX-ELIG-HEADACHE-4H)."""
    return rule("BTX-ELIG-HEADACHE-4H").int_("min_hours")


def score_scales() -> list[Any]:
    """MIDAS and HIT-6 as the charts draw them: range, unit and bands from SCORE-MIDAS and
    SCORE-HIT6 (HIT-6: items x lowest and highest points; MIDAS has no upper bound but the sum of
    its day counts, so its axis is open-ended)."""
    from bontrack.diaries.charts import Scale

    midas: dict[str, Any] = dict(rule("SCORE-MIDAS").params)
    hit6: dict[str, Any] = dict(rule("SCORE-HIT6").params)
    points = [int(v) for v in hit6["points"].values()]
    n_items = len(hit6["items"])
    midas_max = int(midas["questions"]) * int(midas["max_days"])
    return [
        Scale(
            instrument="midas",
            label="MIDAS",
            unit="days",
            low=0,
            high=None,
            bands=tuple(
                (float(g["min"]), f"Grade {g['grade']}: {g['label']}") for g in midas["grades"]
            ),
            note=f" (days lost in 3 months; the total can reach {midas_max})",
        ),
        Scale(
            instrument="hit6",
            label="HIT-6",
            unit="points",
            low=float(n_items * min(points)),
            high=float(n_items * max(points)),
            bands=tuple((float(b["min"]), str(b["label"]).capitalize()) for b in hit6["bands"]),
        ),
    ]


HISTORY_DAYS = 3650  # the staff page shows up to ten years (clinic_rules accepts 3700 days)
SUMMARY_CACHE_SECONDS = 600


def cached_diary_summary(
    patient: Patient, today: date, first_session: date | None = None
) -> dict[str, Any]:
    """clinic_rules ``diary-summary`` of the staff pages, the few facts they need of the days, and
    the baseline: ``diary-summary`` over the period before ``first_session`` (None without one,
    or when no day of it is recorded).

    Building the input (1,000+ days) and running the rule is most of the page's cost, so the
    result is cached under a fingerprint of the diary (row count, the sum of the days'
    versions, newest id and change time: every save, import or edit bumps one of them),
    the practice policy, the first session and the day. One query decides a hit."""
    start = today - timedelta(days=HISTORY_DAYS)
    policy = program_policy.policy_document(patient.practice_id)
    fp = DiaryDay.objects.filter(patient=patient, date__gte=start, date__lte=today).aggregate(
        n=Count("id"), v=Sum("version"), m=Max("id"), u=Max("updated_at")
    )
    digest = hashlib.sha256(
        json.dumps([fp, policy, first_session], sort_keys=True, default=str).encode()
    ).hexdigest()[:32]
    key = f"diaries:summary:{patient.pk}:{today.isoformat()}:{digest}"
    hit = cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    docs = diary_documents(patient, start, today)
    n = period_days()
    doc: dict[str, object] = {"as_of": today.isoformat(), "days": docs, "period_days": n}
    if policy:
        doc["policy"] = policy
    baseline = None
    if first_session is not None and first_session <= today:
        lo = (first_session - timedelta(days=n)).isoformat()
        base_days = [d for d in docs if lo <= str(d["date"]) < first_session.isoformat()]
        if base_days:
            base_doc = {
                **doc,
                "as_of": (first_session - timedelta(days=1)).isoformat(),
                "days": base_days,
            }
            baseline = contract.run("diary-summary", base_doc)["periods"][-1]  # type: ignore[index]
    value = {
        "summary": contract.run("diary-summary", doc),
        "baseline": baseline,
        "med_dates": sorted(
            date.fromisoformat(str(d["date"])) for d in docs if d["acute_medications"]
        ),
        "first": date.fromisoformat(str(docs[0]["date"])) if docs else None,
        "recorded_days": len(docs),
        "recent": docs[-14:][::-1],
    }
    cache.set(key, value, SUMMARY_CACHE_SECONDS)
    return value


def outcome_charts(patient: Patient, today: date) -> dict[str, Any]:
    """The patient's outcome charts (``periods``, ``cycles``, ``scores``, ``calendar``: core
    ``Chart`` objects) with the figures they show (``summary``, ``baseline``, ``sessions``,
    ``scores``), for the staff diary page and the PDF note."""
    from bontrack.diaries import charts, hooks

    sessions = [s for s in hooks.session_dates(patient) if s <= today]
    data = cached_diary_summary(patient, today, sessions[0] if sessions else None)
    summary = data["summary"]
    classes = {date.fromisoformat(d["date"]): d["class"] for d in summary["days"]}
    scores = score_series(patient)
    first = data["first"] or today - timedelta(days=summary["period_days"] - 1)
    return {
        **data,
        "sessions": sessions,
        "classes": classes,
        "scores": scores,
        "periods": charts.period_chart(
            summary["periods"], sessions, data["baseline"], summary["period_days"]
        ),
        "cycles": charts.cycle_chart(classes, sessions, today),
        "score_chart": charts.score_chart(scores, score_scales(), sessions),
        "calendar": charts.heat_map_chart(classes, first, today),
    }


# ---- consultation per indication (issue 10 item 2) -----------------------------------------


def consultation_indications() -> tuple[str, ...]:
    """The indications a consultation may be about: one per clinic_rules protocol."""
    from clinic_rules import protocols

    return tuple(str(p.indication) for p in protocols())


def indication_label(code: str) -> str:
    from clinic_rules import protocol

    try:
        return protocol(code).label
    except KeyError:
        return code


def indication_choices() -> list[tuple[str, str]]:
    return [(c, indication_label(c)) for c in consultation_indications()]


def baseline_instruments(indication: str) -> list[dict[str, str]]:
    """The outcome instruments of the indication's protocol (code and label): the baseline
    scores a consultation summarises."""
    from clinic_rules import protocol

    try:
        return [{"code": i.code, "label": i.label} for i in protocol(indication).instruments]
    except KeyError:
        return []


def is_off_label_indication(indication: str) -> bool:
    """A protocol the label gives no indication for (clinic-defined, e.g. facial pain)."""
    from clinic_rules import protocol

    try:
        return bool(getattr(protocol(indication), "off_label", False))
    except KeyError:
        return False
