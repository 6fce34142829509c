"""Generated check of the dose rules: ``uv run python bench/check_dose_rules.py``.

Generates 10,000 random sessions with histories (seeded, deterministic): adults and children,
every indication, every combination of limbs (one arm, both arms, one leg, both legs, arm and
leg, bilateral rows), doses at, just below and just above each limit, and histories with doses
dated before and after the session (including exactly at the window edges). Each session goes
through ``clinic_rules.run("dose-check", ...)`` (the public contract) and is compared with a
straightforward re-implementation of the limits written below, whose numbers are read from the
clinical fact sheet (``clinical-facts.md`` sections 7 and 8) and whose arithmetic is exact
(``fractions.Fraction``). Nothing here calls the engine's internals.

Prints two figures, both of which must be 0:

* violations accepted: sessions breaking a confirmed hard limit (cumulative window 400 U, or for
  children the lower of 10 U/kg or 340 U; blepharospasm 200 U in any 30 days; adult upper and
  lower limb 400 U per session; pediatric per-limb limits; a child without a weight, whose per-kg
  limits cannot be checked) that the engine does not block with a dose-limit finding;
* on-label doses blocked: sessions within every dose limit that the engine blocks for any
  reason, under the default policy. Treatment outside a labelled age (section 8) is off-label,
  legal and common: a warning that a physician acknowledges with a reason, never a block by
  default, so sessions within the limits for a patient of any age are counted here.

Off-label age is also checked on its own (section 8): every session of a patient outside a
labelled age must carry the engine's age warning for a physician (``ack_by: "physician"``) under
the default policy, and the same session run again with the practice policy
``off_label_age = "block"`` must be blocked by the age finding. Its failures are printed as
"off-label age not handled" and are counted in the figures above (a missing warning as a
violation accepted, a missing block under the policy as well). Exit status 1 if a figure is not 0.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_rules import run, vocabulary  # noqa: E402

DEFAULT_FACTS = ROOT.parent / "shared" / "reference" / "clinical-facts.md"
BOTOX = "onabotulinumtoxinA"
OTHER_PRODUCTS = ("abobotulinumtoxinA", "incobotulinumtoxinA")
CM, CD, BLEPH = "chronic_migraine", "cervical_dystonia", "blepharospasm"
ULS, LLS = "upper_limb_spasticity", "lower_limb_spasticity"
INDICATIONS = (CM, CD, BLEPH, ULS, LLS)
LIMBS = ((ULS, "left"), (ULS, "right"), (LLS, "left"), (LLS, "right"))
# The engine's findings that enforce dose limits (a violation must be blocked by one of these).
DOSE_LIMIT_CODES = {
    "cumulative-dose",
    "limb-dose",
    "session-dose",
    "blepharospasm-30-day",
    "weight-required",
}
ENGINE_WINDOWS = (84, 90)  # the cumulative windows the engine's policy offers


# ---- the limits, read from the fact sheet -----------------------------------------------------


@dataclass(frozen=True)
class Limits:
    adult_cumulative: Fraction
    peds_cumulative_per_kg: Fraction
    peds_cumulative_max: Fraction
    window_options: tuple[int, ...]
    arm_per_kg: Fraction
    arm_max: Fraction
    leg_per_kg: Fraction
    leg_max: Fraction
    adult_uls_max: Fraction
    adult_lls_max: Fraction
    bleph_days: int
    bleph_max: Fraction
    adult_age: int
    min_age: dict[str, int] = field(default_factory=dict)


def _find(pattern: str, text: str, what: str) -> re.Match[str]:
    match = re.search(pattern, text)
    if match is None:
        raise SystemExit(f"clinical-facts.md: could not find {what} ({pattern!r})")
    return match


def read_limits(path: Path) -> Limits:
    if not path.is_file():
        raise SystemExit(f"the clinical fact sheet is not at {path} (use --facts PATH)")
    text = path.read_text("utf-8")
    section7 = text[text.index("## 7. Suggested rule parameters") : text.index("## 8. Age gates")]
    section8 = text[text.index("## 8. Age gates") : text.index("## 9. Sources")]
    section15 = text[text.index("### 1.5 Pediatric spasticity") : text.index("### 1.6 ")]
    # 1.5 states that the pediatric limb limits apply per limb treated: guard the reading.
    _find(r"\*\*per limb treated\*\*", section15, "the per-limb wording for the upper limb")
    _find(r"\*\*per limb\*\*", section15, "the per-limb wording for the lower limb")
    adult = _find(r"ADULT_CUMULATIVE_MAX_U = (\d+)", section7, "the adult cumulative limit")
    peds = _find(
        r"PEDS_CUMULATIVE_MAX = min\((\d+) U/kg \* weight, (\d+) U\)", section7, "peds cumulative"
    )
    window = _find(r"CUMULATIVE_WINDOW_DAYS = \d+ +# configurable: ([0-9 |]+)", section7, "window")
    uls = _find(r"PEDS_ULS_MAX = min\((\d+) U/kg, (\d+) U\)", section7, "peds upper limb")
    lls = _find(r"PEDS_LLS_MAX = min\((\d+) U/kg, (\d+) U\)", section7, "peds lower limb")
    adult_lls = _find(r"ADULT_LLS_RANGE = \d+\.\.(\d+) U", section7, "adult lower limb")
    adult_uls = _find(r"ADULT_ULS_RANGE = \d+\.\.(\d+) U", section7, "adult upper limb")
    bleph = _find(r"BLEPH_(\d+)D_MAX_U = (\d+)", section7, "blepharospasm limit")
    adult_age = int(_find(r"\| Adult ULS/LLS \| ≥(\d+) \|", section8, "adult age").group(1))
    ages = {
        CM: int(_find(r"\| Chronic migraine \| adults \(≥(\d+)\)", section8, "CM age").group(1)),
        CD: adult_age if re.search(r"\| Cervical dystonia \| adults", section8) else 0,
        BLEPH: int(_find(r"\| Blepharospasm \| ≥(\d+) years", section8, "bleph age").group(1)),
        ULS: int(_find(r"\| Pediatric ULS/LLS \| (\d+)–\d+ years", section8, "peds age").group(1)),
    }
    ages[LLS] = ages[ULS]
    if not ages[CD]:
        raise SystemExit("clinical-facts.md: could not find the cervical dystonia age")
    options = tuple(int(w) for w in re.findall(r"\d+", window.group(1)))
    return Limits(
        adult_cumulative=Fraction(adult.group(1)),
        peds_cumulative_per_kg=Fraction(peds.group(1)),
        peds_cumulative_max=Fraction(peds.group(2)),
        window_options=tuple(w for w in options if w in ENGINE_WINDOWS),
        arm_per_kg=Fraction(uls.group(1)),
        arm_max=Fraction(uls.group(2)),
        leg_per_kg=Fraction(lls.group(1)),
        leg_max=Fraction(lls.group(2)),
        adult_uls_max=Fraction(adult_uls.group(1)),
        adult_lls_max=Fraction(adult_lls.group(1)),
        bleph_days=int(bleph.group(1)),
        bleph_max=Fraction(bleph.group(2)),
        adult_age=adult_age,
        min_age=ages,
    )


# ---- the reference decision ---------------------------------------------------------------------


def completed_years(birth: date, on: date) -> int:
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def exact(value: float) -> Fraction:
    return Fraction(str(value))


def reference(doc: dict[str, Any], lim: Limits) -> tuple[list[str], bool]:
    """(the hard limits the session breaks, whether a patient's age is outside the label)."""
    session = doc["session"]
    day = date.fromisoformat(session["date"])
    age = completed_years(date.fromisoformat(doc["patient"]["birth_date"]), day)
    child = age < lim.adult_age
    weight = doc["patient"].get("weight_kg")
    kg = exact(weight) if weight is not None else None
    rows = session["injections"]
    broken: list[str] = []
    if child and kg is None:
        broken.append("weight-required")
    # Cumulative: every window of N days that contains the session day.
    days = doc["policy"]["window_days"]
    cap = lim.adult_cumulative
    if child:
        cap = lim.peds_cumulative_max
        if kg is not None:
            cap = min(cap, lim.peds_cumulative_per_kg * kg)
    session_units = sum((exact(r["units"]) for r in rows), Fraction(0))
    if _worst(doc["history"], day, days, None) + session_units > cap:
        broken.append("cumulative-dose")
    bleph_units = sum((exact(r["units"]) for r in rows if r["indication"] == BLEPH), Fraction(0))
    if bleph_units and _worst(doc["history"], day, lim.bleph_days, BLEPH) + bleph_units > (
        lim.bleph_max
    ):
        broken.append("blepharospasm-30-day")
    if child:
        for (ind, _side), units in _per_limb(rows).items():
            per_kg, ceiling = (
                (lim.arm_per_kg, lim.arm_max) if ind == ULS else (lim.leg_per_kg, lim.leg_max)
            )
            limit = ceiling if kg is None else min(ceiling, per_kg * kg)
            if units > limit:
                broken.append("limb-dose")
    else:
        for ind, limit in ((ULS, lim.adult_uls_max), (LLS, lim.adult_lls_max)):
            if (
                sum((exact(r["units"]) for r in rows if r["indication"] == ind), Fraction(0))
                > limit
            ):
                broken.append("session-dose")
    off_label_age = any(age < lim.min_age[r["indication"]] for r in rows)
    return broken, off_label_age


def _worst(history: list[dict[str, Any]], day: date, days: int, indication: str | None) -> Fraction:
    best = Fraction(0)
    for back in range(days):
        start = day - timedelta(days=back)
        end = start + timedelta(days=days - 1)
        total = sum(
            (
                exact(h["total_units"])
                for h in history
                if h["product"] == BOTOX
                and (indication is None or h["indication"] == indication)
                and start <= date.fromisoformat(h["date"]) <= end
            ),
            Fraction(0),
        )
        best = max(best, total)
    return best


def _per_limb(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Fraction]:
    out: dict[tuple[str, str], Fraction] = {}
    for r in rows:
        if r["indication"] not in (ULS, LLS):
            continue
        sides = ("left", "right") if r["side"] == "bilateral" else (r["side"],)
        for side in sides:
            key = (r["indication"], side)
            out[key] = out.get(key, Fraction(0)) + exact(r["units"]) / len(sides)
    return out


# ---- the generator -----------------------------------------------------------------------------

LIMB_COMBOS: list[tuple[tuple[str, str], ...]] = [
    combo for n in range(5) for combo in combinations(LIMBS, n)
]


def _cents(units: Fraction | float) -> int:
    return max(1, int(round(float(units) * 100)))


def _around(rng: random.Random, limit: Fraction) -> int:
    """Cents at, just below, just above, or anywhere near ``limit``."""
    mode = rng.randrange(6)
    base = _cents(limit)
    if mode == 0:
        return base
    if mode == 1:
        return base - 1
    if mode == 2:
        return base + 1
    if mode == 3:
        return base + rng.choice((-50, 50))
    return max(1, int(base * rng.uniform(0.3, 1.15)))


class Generator:
    def __init__(self, seed: int, lim: Limits) -> None:
        self.rng = random.Random(seed)
        self.lim = lim
        vocab = vocabulary()
        self.muscles = {
            ind: [m["code"] for m in vocab["muscles"] if ind in m["indications"]]  # type: ignore[index,union-attr]
            for ind in INDICATIONS
        }

    def patient(self, day: date) -> tuple[dict[str, Any], bool]:
        rng = self.rng
        kind = rng.random()
        if kind < 0.08:  # around the 18th birthday: the pediatric/adult boundary
            year = day.year - self.lim.adult_age
            try:
                birthday = day.replace(year=year)
            except ValueError:  # 29 February in a common year
                birthday = date(year, 2, 28)
            birth = birthday + timedelta(days=rng.randint(-2, 2))
        elif kind < 0.45:
            birth = day - timedelta(days=rng.randint(18 * 366, 85 * 365))
        else:
            birth = day - timedelta(days=rng.randint(365, 18 * 365 - 5))
        child = completed_years(birth, day) < self.lim.adult_age
        patient: dict[str, Any] = {"birth_date": birth.isoformat(), "flags": []}
        if not child or rng.random() > 0.04:
            patient["weight_kg"] = round(rng.uniform(8, 75) if child else rng.uniform(45, 120), 1)
        return patient, child

    def session(self, index: int) -> dict[str, Any]:
        rng = self.rng
        day = date(2024, 1, 1) + timedelta(days=rng.randint(0, 540))
        patient, child = self.patient(day)
        kg = exact(patient["weight_kg"]) if "weight_kg" in patient else None
        limbs = LIMB_COMBOS[index % len(LIMB_COMBOS)]
        if limbs:
            others = [ind for ind in (CM, CD, BLEPH) if rng.random() < 0.1]
        else:
            others = rng.sample((CM, CD, BLEPH), k=1 if rng.random() < 0.75 else 2)
        rows: list[dict[str, Any]] = []
        lim = self.lim
        per_limb_cents: dict[tuple[str, str], int] = {}
        if limbs and child:
            combined = lim.peds_cumulative_max
            if kg is not None:
                combined = min(combined, lim.peds_cumulative_per_kg * kg)
            caps = {}
            for ind, side in limbs:
                per_kg, ceiling = (
                    (lim.arm_per_kg, lim.arm_max) if ind == ULS else (lim.leg_per_kg, lim.leg_max)
                )
                caps[(ind, side)] = ceiling if kg is None else min(ceiling, per_kg * kg)
            if len(limbs) > 1 and rng.random() < 0.4:  # the total around the combined limit
                for limb, cents in zip(
                    limbs, self._divide(_around(rng, combined), len(limbs)), strict=True
                ):
                    per_limb_cents[limb] = cents
            else:  # one limb around its own limit, the others sharing what is left (if any)
                edge_limb = rng.choice(limbs)
                per_limb_cents[edge_limb] = _around(rng, caps[edge_limb])
                rest = [limb for limb in limbs if limb != edge_limb]
                left_over = combined - caps[edge_limb]
                if rest:
                    total = _around(rng, left_over) if left_over > 0 else 500
                    for limb, cents in zip(rest, self._divide(total, len(rest)), strict=True):
                        per_limb_cents[limb] = cents
        elif limbs:
            kinds = sorted({i for i, _ in limbs})
            if len(kinds) == 1 or rng.random() < 0.3:  # one limb indication around its own limit
                ind = rng.choice(kinds)
                budget = {ind: _around(rng, lim.adult_uls_max if ind == ULS else lim.adult_lls_max)}
                for other in kinds:
                    budget.setdefault(other, rng.randint(100, 5000))
            else:  # both limb indications together around the cumulative limit
                budget = dict(
                    zip(kinds, self._divide(_around(rng, lim.adult_cumulative), 2), strict=True)
                )
            for ind in kinds:
                sides = [limb for limb in limbs if limb[0] == ind]
                for limb, cents in zip(sides, self._divide(budget[ind], len(sides)), strict=True):
                    per_limb_cents[limb] = cents
        rows += self._limb_rows(per_limb_cents)
        for ind in others:
            rows += self._other_rows(ind)
        session_cents = sum(_cents(r["units"]) for r in rows)
        window = rng.choice(lim.window_options)
        history = self._history(day, window, session_cents, child, kg, rows)
        as_of = max([day, *(date.fromisoformat(h["date"]) for h in history)])
        rng.shuffle(rows)
        return {
            "as_of": as_of.isoformat(),
            "patient": patient,
            "history": history,
            "session": {"date": day.isoformat(), "product": BOTOX, "injections": rows},
            "policy": {"window_days": window},
        }

    def _divide(self, total: int, parts: int) -> list[int]:
        """``total`` cents in ``parts`` positive random shares."""
        if parts == 1 or total < parts:
            return [max(1, total)] + [1] * (parts - 1)
        cuts = sorted(self.rng.sample(range(1, total), parts - 1))
        return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]

    def _row(self, ind: str, side: str, cents: int) -> dict[str, Any]:
        units = cents / 100
        sites = min(100, max(1, -(-cents // 5000)))
        return {
            "indication": ind,
            "muscle": self.rng.choice(self.muscles[ind]),
            "side": side,
            "sites": sites,
            "units": units,
        }

    def _split(self, ind: str, side: str, cents: int) -> list[dict[str, Any]]:
        parts = self.rng.randint(1, 3) if cents >= 300 else 1
        out, left = [], cents
        for k in range(parts - 1):
            share = self.rng.randint(1, left - (parts - 1 - k))
            out.append(self._row(ind, side, share))
            left -= share
        out.append(self._row(ind, side, left))
        return out

    def _limb_rows(self, per_limb: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for ind in (ULS, LLS):
            left, right = per_limb.get((ind, "left")), per_limb.get((ind, "right"))
            if left and right and self.rng.random() < 0.4:
                # A bilateral row carrying part of both sides (counted half on each side).
                half = min(left, right) * self.rng.choice((1, 2)) // 2
                if half:
                    rows.append(self._row(ind, "bilateral", 2 * half))
                    left, right = left - half, right - half
            for side, cents in (("left", left), ("right", right)):
                if cents:
                    rows += self._split(ind, side, cents)
        return rows

    def _other_rows(self, ind: str) -> list[dict[str, Any]]:
        rng = self.rng
        if ind == CM:
            return self._split(
                CM, "bilateral", rng.choice((15500, 19500, rng.randint(5000, 25000)))
            )
        if ind == CD:
            return self._split(CD, rng.choice(("left", "right")), rng.randint(2000, 24000))
        return self._split(BLEPH, rng.choice(("left", "right")), _around(rng, self.lim.bleph_max))

    def _history(
        self,
        day: date,
        window: int,
        session_cents: int,
        child: bool,
        kg: Fraction | None,
        rows: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        rng, lim = self.rng, self.lim
        cap = lim.adult_cumulative
        if child:
            cap = (
                lim.peds_cumulative_max
                if kg is None
                else min(lim.peds_cumulative_max, lim.peds_cumulative_per_kg * kg)
            )
        out: list[dict[str, Any]] = []

        def entry(offset: int, ind: str, cents: int, product: str = BOTOX) -> None:
            if cents > 0:
                out.append(
                    {
                        "date": (day + timedelta(days=offset)).isoformat(),
                        "product": product,
                        "indication": ind,
                        "total_units": cents / 100,
                    }
                )

        edge = rng.choice((window - 1, window, rng.randint(0, window + 30)))
        for _ in range(rng.randint(0, 3)):  # other doses, mostly outside the windows
            near = rng.random() < 0.3
            offset = rng.choice((1, -1)) * (
                rng.randint(0, window - 1) if near else rng.randint(window, window + 60)
            )
            product = BOTOX if rng.random() < 0.85 else rng.choice(OTHER_PRODUCTS)
            units = rng.randint(100, 2000) if near else rng.randint(100, 30000)
            entry(offset, rng.choice(INDICATIONS), units, product)
        if rng.random() < 0.6:  # one dose that brings a window to around the cumulative limit
            remaining = _cents(cap) - session_cents
            entry(
                rng.choice((1, -1)) * edge,
                rng.choice(INDICATIONS),
                _around(rng, Fraction(remaining, 100)) if remaining > 0 else 0,
            )
        bleph_cents = sum(_cents(r["units"]) for r in rows if r["indication"] == BLEPH)
        if bleph_cents and rng.random() < 0.7:  # and one around the 30-day limit
            days = rng.choice((lim.bleph_days - 1, lim.bleph_days, rng.randint(0, lim.bleph_days)))
            remaining = _cents(lim.bleph_max) - bleph_cents
            if remaining > 0:
                entry(rng.choice((1, -1)) * days, BLEPH, _around(rng, Fraction(remaining, 100)))
        return out


def off_label_problem(doc: dict[str, Any], result: Any) -> str:
    """What is wrong with the engine's handling of an off-label age ("" when nothing): a
    physician's warning by default, a block under ``off_label_age = "block"``."""
    warned = [
        f for f in result["findings"] if f["code"] == "age" and f["severity"] in ("warn", "block")
    ]
    if not warned:
        return "no age finding"
    if any(f["severity"] != "warn" or f.get("ack_by") != "physician" for f in warned):
        return "not a warning for a physician under the default policy"
    strict = {**doc, "policy": {**doc["policy"], "off_label_age": "block"}}
    strict_result: Any = run("dose-check", strict)
    if not any(f["code"] == "age" and f["severity"] == "block" for f in strict_result["findings"]):
        return "not blocked under off_label_age = block"
    return ""


# ---- the run ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--facts", type=Path, default=DEFAULT_FACTS)
    args = parser.parse_args(argv)
    lim = read_limits(args.facts)
    gen = Generator(args.seed, lim)
    tally: Counter[str] = Counter()
    broken_kinds: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    examples: list[str] = []
    for index in range(args.sessions):
        doc = gen.session(index)
        broken, off_label_age = reference(doc, lim)
        result: Any = run("dose-check", doc)
        blocks = [f for f in result["findings"] if f["severity"] == "block"]
        dose_blocks = {f["code"] for f in blocks if f["code"] in DOSE_LIMIT_CODES}
        if broken:
            tally["violations"] += 1
            broken_kinds.update(set(broken))
            for kind in set(broken) - dose_blocks:
                missed[kind] += 1
            if not dose_blocks:
                tally["violations accepted"] += 1
                examples.append(f"accepted: {broken} {doc}")
        else:
            tally["on-label"] += 1
            if blocks:
                tally["on-label blocked"] += 1
                examples.append(f"blocked: {[f['rule_id'] for f in blocks]} {doc}")
        if off_label_age:
            tally["off-label age"] += 1
            if not broken:
                tally["off-label age within the limits"] += 1
            problem = off_label_problem(doc, result)
            if problem:
                tally["off-label age not handled"] += 1
                tally["violations accepted"] += 1
                examples.append(f"off-label age not handled ({problem}): {doc}")
    print(f"sessions checked: {args.sessions} (seed {args.seed})")
    print(
        f"  violations: {tally['violations']} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(broken_kinds.items()))}); "
        f"within every dose limit: {tally['on-label']}"
    )
    print(
        f"  off-label age: {tally['off-label age']} sessions "
        f"({tally['off-label age within the limits']} within every dose limit), "
        f"not handled: {tally['off-label age not handled']}"
    )
    if missed:
        print(f"  violations without the matching dose-limit block: {dict(sorted(missed.items()))}")
    for line in examples[:5]:
        print("  " + line[:600])
    print(f"violations accepted: {tally['violations accepted']}")
    print(f"on-label doses blocked: {tally['on-label blocked']}")
    return 1 if tally["violations accepted"] or tally["on-label blocked"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
