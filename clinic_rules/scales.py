"""Outcome scales across treatment cycles: when each is due, the per-cycle review, and suggestions.

Rule data: ``followup`` (``FOLLOWUP-*`` and ``SUGGEST-*``) and ``scores`` (scoring). Inputs are
validated by ``contract`` (``scale-schedule`` and ``cycle-review``):

* schedule: ``{indication, as_of, sessions: [date], entries: [{instrument, date}]}``. Each cycle
  has a "before" slot (the ``before_days`` up to its session; the first cycle's is the baseline)
  and a "review" slot (``review_from_days``-``review_to_days`` after it); the next cycle is
  expected ``cycle_days`` after the last session. The windows are practice policy (unconfirmed).
* review: ``{indication, as_of, sessions: [{date, wearing_off?, adverse_effects: [kind]}],
  entries: [{date, instrument, answers}], injections: [{muscle, side, sites, units}]}``: each
  entry is scored again here; the baseline of a measure is its latest value on or before the first
  session, a cycle's value the one in its review window (else the latest before the next session).
  ``injections`` are the last session's, for the suggestions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from . import questionnaires
from .data import Rule, rule_set

# Measures charted and compared per instrument: the total ("score") and these subscales.
_SUBSCALE_MEASURES: Mapping[str, tuple[str, ...]] = {
    "twstrs": ("severity", "disability", "pain"),
    "jankovic": ("severity", "frequency"),
}
_LABELS: Mapping[str, str] = {
    "twstrs": "TWSTRS",
    "tsui": "Tsui scale",
    "jankovic": "Jankovic Rating Scale",
    "bdi": "Blepharospasm Disability Index",
    "mas": "Modified Ashworth Scale",
    "gas": "Goal attainment (T-score)",
    "pain_nrs": "Pain (0-10)",
}


@dataclass(frozen=True, slots=True)
class Entry:
    date: dt.date
    instrument: str
    answers: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Cycle:
    date: dt.date
    wearing_off: dt.date | None
    adverse_effects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Line:
    muscle: str
    side: str
    sites: int
    units: float


@dataclass(frozen=True, slots=True)
class ScheduleInput:
    indication: str
    as_of: date
    sessions: tuple[date, ...]
    entries: tuple[tuple[str, date], ...]


@dataclass(frozen=True, slots=True)
class ReviewInput:
    indication: str
    as_of: date
    sessions: tuple[Cycle, ...]
    entries: tuple[Entry, ...]
    injections: tuple[Line, ...]


def followup() -> Mapping[str, Rule]:
    return rule_set("followup").rules


def instruments_for(indication: str) -> tuple[str, ...]:
    table = followup()["FOLLOWUP-SCALES"].table("indications")
    return tuple(str(i) for i in table.get(indication, []))  # type: ignore[attr-defined]


def indications() -> tuple[str, ...]:
    return tuple(followup()["FOLLOWUP-SCALES"].table("indications"))


def effect_suggestion_indications() -> tuple[str, ...]:
    """Indications with a suggestion driven by an adverse effect alone (no scale needed), e.g. a
    drooping eyelid after a chronic migraine session: recorded effects re-run their review."""
    return tuple(
        sorted(
            {
                r.str_("indication")
                for r in followup().values()
                if r.id.startswith("SUGGEST-") and "adverse_effect" in r.params
            }
        )
    )


def patient_reported() -> dict[str, tuple[str, ...]]:
    table = followup()["FOLLOWUP-SCALES"].table("patient_reported")
    return {str(k): tuple(str(s) for s in v) for k, v in table.items()}  # type: ignore[attr-defined]


def add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    following = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(d.day, (following - timedelta(days=1)).day))


# ---- schedule ----------------------------------------------------------------------------------


def _slot(
    cycle: int,
    kind: str,
    instrument: str,
    start: date,
    end: date,
    anchor: date,
    done: Sequence[date],
    as_of: date,
    open_ended: bool = False,
) -> dict[str, object]:
    hits = [d for d in done if start <= d <= end]
    if hits:
        status = "done"
    elif as_of < start:
        status = "upcoming"
    elif as_of <= end:
        status = "due"
    else:
        status = "overdue" if open_ended else "missed"
    return {
        "cycle": cycle,
        "kind": kind,
        "instrument": instrument,
        "label": _LABELS[instrument],
        "anchor": anchor.isoformat(),
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "status": status,
        "done_on": max(hits).isoformat() if hits else None,
    }


def schedule(doc: ScheduleInput) -> dict[str, object]:
    windows = followup()["FOLLOWUP-SCALE-WINDOWS"]
    before = timedelta(days=windows.int_("before_days"))
    r_from = timedelta(days=windows.int_("review_from_days"))
    r_to = timedelta(days=windows.int_("review_to_days"))
    cycle_days = timedelta(days=windows.int_("cycle_days"))
    instruments = instruments_for(doc.indication)
    sessions = sorted(doc.sessions)
    slots: list[dict[str, object]] = []
    for instrument in instruments:
        done = sorted(d for i, d in doc.entries if i == instrument)
        for n, s in enumerate(sessions, start=1):
            slots.append(_slot(n, "before", instrument, s - before, s, s, done, doc.as_of))
            slots.append(_slot(n, "review", instrument, s + r_from, s + r_to, s, done, doc.as_of))
        nxt = sessions[-1] + cycle_days if sessions else doc.as_of
        # The next cycle's "before" slot stays open until the session happens.
        slots.append(
            _slot(
                len(sessions) + 1,
                "before",
                instrument,
                nxt - before,
                nxt,
                nxt,
                done,
                doc.as_of,
                open_ended=True,
            )
        )
    slots.sort(key=lambda s: (int(s["cycle"]), s["kind"] != "before", str(s["instrument"])))  # type: ignore[call-overload]
    return {
        "rule_set": rule_set("followup").label,
        "rule_ids": ["FOLLOWUP-SCALES", "FOLLOWUP-SCALE-WINDOWS"],
        "confirmed": windows.confirmed,
        "indication": doc.indication,
        "instruments": list(instruments),
        "patient_reported": {k: list(v) for k, v in patient_reported().items() if k in instruments},
        "slots": slots,
        "due": sorted({str(s["instrument"]) for s in slots if s["status"] in ("due", "overdue")}),
        "review_after_cycles": windows.int_("review_after_cycles"),
    }


# ---- review ------------------------------------------------------------------------------------


def measures(instrument: str, answers: Mapping[str, Any]) -> dict[str, float]:
    """The numbers compared across cycles: ``score`` (the total) and the named subscales.

    Modified Ashworth gives one measure per muscle or joint (``muscle:side``), on the 0-5
    numeric mapping (1+ is 2); a TWSTRS without all three subscales has no total."""
    result = questionnaires.score(instrument, answers)
    out: dict[str, float] = {}
    if result["score"] is not None and instrument != "mas":
        out["score"] = float(result["score"])  # type: ignore[arg-type]
    subs = result.get("subscales") or {}
    assert isinstance(subs, dict)
    if instrument == "mas":
        out.update({k: float(v["position"]) for k, v in subs.items()})
    for name in _SUBSCALE_MEASURES.get(instrument, ()):
        if name in subs:
            out[name] = float(subs[name])
    return out


def _value_in(
    points: Sequence[tuple[date, float]], start: date, end: date
) -> tuple[date, float] | None:
    inside = [p for p in points if start <= p[0] <= end]
    return max(inside) if inside else None


def review(doc: ReviewInput) -> dict[str, object]:
    windows = followup()["FOLLOWUP-SCALE-WINDOWS"]
    r_from = timedelta(days=windows.int_("review_from_days"))
    r_to = timedelta(days=windows.int_("review_to_days"))
    sessions = sorted(doc.sessions, key=lambda c: c.date)
    series: dict[tuple[str, str], list[tuple[date, float]]] = {}
    for e in sorted(doc.entries, key=lambda e: e.date):
        for name, value in measures(e.instrument, e.answers).items():
            series.setdefault((e.instrument, name), []).append((e.date, value))
    rows: list[dict[str, object]] = []
    for (instrument, name), points in sorted(
        series.items(), key=lambda kv: (kv[0][0], kv[0][1] != "score", kv[0][1])
    ):
        first = sessions[0].date if sessions else doc.as_of
        base = _value_in(points, date.min, first)
        cycles_out = []
        for n, c in enumerate(sessions, start=1):
            until = sessions[n].date - timedelta(days=1) if n < len(sessions) else doc.as_of
            hit = _value_in(points, c.date + r_from, c.date + r_to) or _value_in(
                points, c.date + timedelta(days=1), until
            )
            cycles_out.append(
                {
                    "cycle": n,
                    "date": hit[0].isoformat() if hit else None,
                    "value": hit[1] if hit else None,
                    "change": (hit[1] - base[1]) if hit and base else None,
                }
            )
        rows.append(
            {
                "instrument": instrument,
                "measure": name,
                "label": _LABELS[instrument],
                "baseline": {"date": base[0].isoformat(), "value": base[1]} if base else None,
                "cycles": cycles_out,
                "advisory": instrument == "gas",
            }
        )
    cycles = []
    for n, c in enumerate(sessions, start=1):
        days = (c.wearing_off - c.date).days if c.wearing_off else None
        cycles.append(
            {
                "cycle": n,
                "session_date": c.date.isoformat(),
                "wearing_off": c.wearing_off.isoformat() if c.wearing_off else None,
                "effect_days": days,
                "effect_weeks": round(days / 7, 1) if days is not None else None,
                "adverse_effects": list(c.adverse_effects),
            }
        )
    out: dict[str, object] = {
        "rule_set": rule_set("followup").label,
        "scores_rule_set": rule_set("scores").label,
        "indication": doc.indication,
        "as_of": doc.as_of.isoformat(),
        "measures": rows,
        "cycles": cycles,
        "review_due": len(sessions) >= windows.int_("review_after_cycles"),
    }
    out["suggestions"] = suggestions(doc, rows) if sessions else []
    return out


# ---- suggestions -------------------------------------------------------------------------------


def _suggestion(r: Rule, reason: str, note: str, lines: Sequence[Line] = ()) -> dict[str, object]:
    return {
        "rule_id": r.id,
        "title": r.description,
        "reason": reason,
        "note": note,
        "source": list(r.source),
        "confirmed": r.confirmed,
        "advisory": not r.confirmed,
        "adjustments": [
            {"muscle": ln.muscle, "side": ln.side, "sites": ln.sites, "units": ln.units}
            for ln in lines
        ],
    }


def _fmt(units: float) -> str:
    return f"{units:g} U"


def _scm(r: Rule, last: Cycle, lines: Sequence[Line]) -> dict[str, object]:
    muscle = r.str_("muscle")
    cap = r.num("muscle_max_units")
    scm = [ln for ln in lines if ln.muscle == muscle]
    total = sum(ln.units for ln in scm)
    when = last.date.isoformat()
    if total > cap:
        factor = cap / total
        proposed = [
            Line(ln.muscle, ln.side, ln.sites, float(math.floor(ln.units * factor))) for ln in scm
        ]
        return _suggestion(
            r,
            f"Trouble swallowing was reported after the session on {when}; the "
            f"sternocleidomastoid received {_fmt(total)}, more than {_fmt(cap)}.",
            f"Lower the sternocleidomastoid to {_fmt(cap)} or less in total.",
            proposed,
        )
    sides = {ln.side: ln.units for ln in scm}
    if {"left", "right"} <= set(sides):
        note = "Avoid injecting the sternocleidomastoid on both sides."
        if sides["left"] != sides["right"]:
            drop = min(("left", "right"), key=lambda s: sides[s])
            keep = [ln for ln in scm if ln.side == drop]
            return _suggestion(
                r,
                f"Trouble swallowing was reported after the session on {when}; both "
                "sternocleidomastoid muscles were injected.",
                note + f" Leave out the {drop} side ({_fmt(sides[drop])}).",
                [Line(ln.muscle, ln.side, 0, 0.0) for ln in keep],
            )
        return _suggestion(
            r,
            f"Trouble swallowing was reported after the session on {when}; both "
            "sternocleidomastoid muscles were injected with the same dose.",
            note + " Choose the side to leave out.",
        )
    return _suggestion(
        r,
        f"Trouble swallowing was reported after the session on {when}.",
        f"Consider a lower sternocleidomastoid dose (now {_fmt(total)}).",
    )


def _double(r: Rule, lines: Sequence[Line]) -> list[Line]:
    factor = r.num("factor_max")
    per_site_max = r.num("per_site_max_units")
    out = []
    for ln in lines:
        per_site = ln.units / ln.sites if ln.sites else 0.0
        new = min(per_site * factor, per_site_max)
        if new > per_site:
            out.append(Line(ln.muscle, ln.side, ln.sites, round(new * ln.sites, 2)))
    return out


def suggestions(doc: ReviewInput, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, object]]:
    last = sorted(doc.sessions, key=lambda c: c.date)[-1]
    out: list[dict[str, object]] = []
    for r in followup().values():
        if not r.id.startswith("SUGGEST-") or r.str_("indication") != doc.indication:
            continue
        effect = r.params.get("adverse_effect")
        if effect is not None and effect not in last.adverse_effects:
            continue
        if r.id == "SUGGEST-CD-DYSPHAGIA-SCM":
            out.append(_scm(r, last, doc.injections))
        elif r.id == "SUGGEST-BLEPH-SHORT-EFFECT":
            limit = add_months(last.date, r.int_("effect_months_max"))
            if last.wearing_off is None or last.wearing_off > limit:
                continue
            days = (last.wearing_off - last.date).days
            lines = _double(r, doc.injections)
            out.append(
                _suggestion(
                    r,
                    f"The effect of the session on {last.date.isoformat()} wore off after "
                    f"{days} days ({last.wearing_off.isoformat()}), "
                    f"{r.int_('effect_months_max')} months or less.",
                    f"Up to double the per-site dose, not above {_fmt(r.num('per_site_max_units'))} "
                    "per site."
                    if lines
                    else f"Every site already has {_fmt(r.num('per_site_max_units'))}: little "
                    "benefit is expected from more.",
                    lines,
                )
            )
        elif r.id == "SUGGEST-BLEPH-SMALL-CHANGE":
            meaningful = rule_set("scores")["SCORE-JANKOVIC"].int_("meaningful_change")
            row = next(
                (
                    x
                    for x in rows
                    if x["instrument"] == r.str_("instrument") and x["measure"] == "score"
                ),
                None,
            )
            change = row["cycles"][-1]["change"] if row else None
            if change is None or -change >= meaningful:
                continue
            out.append(
                _suggestion(
                    r,
                    f"The Jankovic Rating Scale changed by {change:+g} points since the baseline "
                    f"after the last cycle; about {meaningful} points is a meaningful change.",
                    "Consider the dose escalation the label allows at the next session.",
                )
            )
        elif r.id == "SUGGEST-BLEPH-PTOSIS":
            out.append(
                _suggestion(
                    r,
                    f"A drooping eyelid was reported after the session on {last.date.isoformat()}.",
                    "Keep the upper-lid sites away from the levator palpebrae region.",
                )
            )
        else:  # SUGGEST-CM-PTOSIS-FRONTALIS
            muscle = r.str_("muscle")
            units = sum(ln.units for ln in doc.injections if ln.muscle == muscle)
            out.append(
                _suggestion(
                    r,
                    f"A drooping eyelid was reported after the session on {last.date.isoformat()}"
                    f" (frontalis {_fmt(units)}).",
                    "Review the frontalis sites at the next session.",
                )
            )
    return out
