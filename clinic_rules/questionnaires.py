"""``questionnaire``: MIDAS, HIT-6 and the structured scales of fact sheet 3.4.

Answer schemas (validated in ``contract``, which reads every range below from the
``scores`` rule data):

* midas: ``{q1..q5: days (int 0-92), a?: headache days (int 0-92), b?: pain 0-10}``
* hit6: ``{pain_severity, limits_daily_activities, wish_to_lie_down, too_tired,
  fed_up_or_irritated, limits_concentration}`` each never|rarely|sometimes|very_often|always;
  a missing item gives ``valid: false`` and no score
* jankovic: ``{severity: 0-4, frequency: 0-4}``
* tsui: ``{rotation, tilt, antero_retrocollis, duration, shoulder_elevation, tremor}``
  (non-negative integers; score = (rotation + tilt + antero_retrocollis) x duration +
  shoulder_elevation + tremor; only the 0-25 total range is sourced, so a total above 25 is
  invalid)
* twstrs: ``{severity?: 0-35, disability?: 0-32, disability_items?: {work, daily_activities,
  driving, reading, television, activities_outside_home: each 0-5}, pain?: 0-20}`` (at least
  one) subscales kept separately; the disability subscale is its total or the sum of its six
  items (not both; ``disability_items`` in the result); a total only when all three are rated
  (the patient reports disability, as items in the portal, and pain)
* mas: ``{entries: [{muscle, side, grade: "0"|"1"|"1+"|"2"|"3"|"4"}]}`` per muscle or joint,
  ``1+`` its own grade; ``position`` is the 0-5 numeric mapping used by charts
* bdi: ``{driving?, reading?, watching_tv?, shopping?, walking?, everyday_activities?}`` each 0-4,
  a missing item is "not applicable"; the total is the sum of the answered items
* pain_nrs: ``{score: 0-10}``
* gas: ``{goals: [{goal, weight: 1-10, level: -2..2}]}`` up to 5 goals; the T-score formula is
  NOT from the fact sheet (rule data ``confirmed = false``): advisory only
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .data import rule_set


def _band(bands: object, score: float, key: str) -> str:
    assert isinstance(bands, list)
    chosen = ""
    for band in bands:
        if score >= band["min"]:
            chosen = str(band[key])
    return chosen


def _result(instrument: str, rule_ids: list[str], **values: object) -> dict[str, object]:
    out: dict[str, object] = {
        "rule_set": rule_set("scores").label,
        "instrument": instrument,
        "rule_ids": rule_ids,
        "score": None,
        "band": None,
        "valid": True,
        "subscales": None,
    }
    out.update(values)
    return out


def score(instrument: str, answers: Mapping[str, object]) -> dict[str, object]:
    sc = rule_set("scores")
    if instrument == "midas":
        r = sc["SCORE-MIDAS"]
        total = sum(int(answers[f"q{i}"]) for i in range(1, r.int_("questions") + 1))  # type: ignore[call-overload]
        grades = r.params["grades"]
        grade = _band(grades, total, "grade")
        label = _band(grades, total, "label")
        extra = {k: answers[k] for k in ("a", "b") if k in answers}
        return _result(
            instrument,
            [r.id],
            score=total,
            band=f"{grade}: {label}",
            grade=grade,
            unscored=extra or None,
        )
    if instrument == "hit6":
        r = sc["SCORE-HIT6"]
        points = r.table("points")
        missing = [item for item in r.strs("items") if item not in answers]
        if missing:
            return _result(
                instrument,
                [r.id, "SCORE-HIT6-ALL-ITEMS"],
                valid=False,
                confirmed=False,
                message=f"missing item(s) {', '.join(missing)}: no valid HIT-6 total",
            )
        total = sum(int(points[str(answers[item])]) for item in r.strs("items"))  # type: ignore[call-overload]
        return _result(
            instrument, [r.id], score=total, band=_band(r.params["bands"], total, "label")
        )
    if instrument == "jankovic":
        r = sc["SCORE-JANKOVIC"]
        sev, freq = int(answers["severity"]), int(answers["frequency"])  # type: ignore[call-overload]
        return _result(
            instrument,
            [r.id],
            score=sev + freq,
            subscales={"severity": sev, "frequency": freq},
            meaningful_change=r.int_("meaningful_change"),
        )
    if instrument == "tsui":
        r = sc["SCORE-TSUI"]
        parts = {k: int(v) for k, v in answers.items()}  # type: ignore[call-overload]
        posture = parts["rotation"] + parts["tilt"] + parts["antero_retrocollis"]
        total = posture * parts["duration"] + parts["shoulder_elevation"] + parts["tremor"]
        valid = total <= r.int_("total_max")
        return _result(
            instrument,
            [r.id],
            score=total if valid else None,
            valid=valid,
            subscales={"posture": posture, **parts},
            **(
                {}
                if valid
                else {"message": f"total {total} exceeds the 0-{r.int_('total_max')} range"}
            ),
        )
    if instrument == "twstrs":
        r = sc["SCORE-TWSTRS"]
        subs = {
            k: int(answers[k])  # type: ignore[call-overload]
            for k in ("severity", "disability", "pain")
            if answers.get(k) is not None
        }
        raw_items = answers.get("disability_items")
        items: dict[str, int] = {}
        if isinstance(raw_items, Mapping):
            # The disability subscale asked as its items: the subscale is their sum.
            items = {
                k: int(raw_items[k]) for k in sc["SCORE-TWSTRS-DISABILITY-ITEMS"].strs("items")
            }
            subs["disability"] = sum(items.values())
            subs = {k: subs[k] for k in ("severity", "disability", "pain") if k in subs}
        note = None
        if subs.get("disability", 0) > r.int_("disability_max"):
            note = (
                f"disability above {r.int_('disability_max')} exists only on the "
                f"0-{r.int_('disability_max_alternative')} version of TWSTRS (sources disagree)"
            )
        # A total only when all three subscales were rated (the patient reports two of them).
        tw_total = sum(subs.values()) if len(subs) == 3 else None
        if items:
            return _result(
                instrument,
                [r.id, "SCORE-TWSTRS-DISABILITY-ITEMS"],
                score=tw_total,
                subscales=subs,
                note=note,
                disability_items=items,
            )
        return _result(instrument, [r.id], score=tw_total, subscales=subs, note=note)
    if instrument == "bdi":
        r = sc["SCORE-BDI"]
        items = {k: int(answers[k]) for k in r.strs("items") if answers.get(k) is not None}  # type: ignore[call-overload]
        if not items:
            return _result(
                instrument,
                [r.id],
                valid=False,
                message="every item was not applicable: no Blepharospasm Disability Index total",
            )
        return _result(
            instrument,
            [r.id],
            score=sum(items.values()),
            subscales=items,
            not_applicable=[k for k in r.strs("items") if k not in items],
        )
    if instrument == "pain_nrs":
        r = sc["SCORE-PAIN-NRS"]
        return _result(instrument, [r.id], score=int(answers["score"]))  # type: ignore[call-overload]
    if instrument == "gas":
        return _gas(answers)
    r = sc["SCORE-MAS"]
    order = sc["SCORE-MAS-ORDER"].strs("order")
    entries = [dict(e) for e in answers["entries"]]  # type: ignore[attr-defined]
    worst = max((str(e["grade"]) for e in entries), key=order.index)
    return _result(
        instrument,
        [r.id, "SCORE-MAS-ORDER"],
        subscales={
            f"{e['muscle']}:{e['side']}": {
                "grade": str(e["grade"]),
                "position": order.index(str(e["grade"])),
                "label": str(r.table("grades")[str(e["grade"])]),
            }
            for e in entries
        },
        band=f"highest grade {worst}",
        grade=worst,
    )


def gas_t_score(goals: list[tuple[int, int]]) -> float:
    """Kiresuk-Sherman T-score of ``[(weight, level)]`` (constants from rule data, unconfirmed)."""
    r = rule_set("scores")["SCORE-GAS"]
    rho = r.num("rho")
    weighted = sum(w * x for w, x in goals)
    squares = sum(w * w for w, _ in goals)
    total = sum(w for w, _ in goals)
    spread = math.sqrt((1 - rho) * squares + rho * total * total)
    return round(r.num("mean") + r.num("spread") * weighted / spread, 1)


def _gas(answers: Mapping[str, object]) -> dict[str, object]:
    r = rule_set("scores")["SCORE-GAS"]
    goals = [dict(g) for g in answers["goals"]]  # type: ignore[attr-defined]
    t = gas_t_score([(int(g["weight"]), int(g["level"])) for g in goals])
    return _result(
        "gas",
        [r.id],
        score=t,
        subscales={str(g["goal"]): int(g["level"]) for g in goals},
        confirmed=False,
        advisory="formula not from the fact sheet",
    )
