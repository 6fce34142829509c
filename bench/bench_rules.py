"""Benchmarks (not tests): ``uv run python bench/bench_rules.py``.

Targets: dose-check of a 39-site session against a year of history < 1 ms (median);
diary-summary of a year of diary days < 20 ms (median).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic_rules import contract, preempt_template  # noqa: E402
from clinic_rules.diary import summarize  # noqa: E402
from clinic_rules.dose import evaluate  # noqa: E402

AS_OF = date(2024, 6, 1)


def dose_document() -> dict[str, Any]:
    extra = {"temporalis": 2, "occipitalis": 2, "trapezius": 4}
    injections = []
    for row in preempt_template():
        sites = int(str(row["sites"])) + (extra.get(str(row["muscle"]), 0) // 2)
        injections.append(
            {
                "indication": "chronic_migraine",
                "muscle": row["muscle"],
                "side": row["side"],
                "sites": sites,
                "units": sites * 5,
            }
        )
    history = [
        {
            "date": (AS_OF - timedelta(days=7 * k + 3)).isoformat(),
            "product": "onabotulinumtoxinA" if k % 5 else "incobotulinumtoxinA",
            "indication": ["chronic_migraine", "cervical_dystonia", "blepharospasm"][k % 3],
            "total_units": 20 + k,
        }
        for k in range(52)
    ]
    return {
        "as_of": AS_OF.isoformat(),
        "patient": {
            "birth_date": "1980-01-01",
            "weight_kg": 70,
            "flags": ["neuromuscular_disorder"],
        },
        "history": history,
        "session": {
            "date": AS_OF.isoformat(),
            "performed_at": "2024-06-01T10:00:00+00:00",
            "product": "onabotulinumtoxinA",
            "injections": injections,
            "vials": [
                {
                    "size_units": 200,
                    "diluent_ml": 4,
                    "reconstituted_at": "2024-06-01T08:00:00+00:00",
                }
            ],
        },
    }


def diary_document() -> dict[str, Any]:
    days = []
    for i in range(365):
        d = AS_OF - timedelta(days=i)
        if i % 2:
            days.append({"date": d.isoformat(), "headache": False})
        else:
            days.append(
                {
                    "date": d.isoformat(),
                    "headache": True,
                    "hours": 6,
                    "severity": 2 + i % 2,
                    "unilateral": i % 3 == 0,
                    "pulsating": True,
                    "nausea": i % 4 == 0,
                    "acute_medications": [{"class": "triptan"}, {"class": "simple_analgesic"}],
                }
            )
    return {"as_of": AS_OF.isoformat(), "days": days}


def median_ms(fn: Any, runs: int) -> float:
    fn()  # warm caches (TOML parsed once per process)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    dose_doc = dose_document()
    parsed = contract.parse("dose-check", dose_doc)
    sites = sum(i.sites for i in parsed.session.injections)
    diary_doc = diary_document()
    diary_parsed = contract.parse("diary-summary", diary_doc)
    rows = [
        (
            "dose-check evaluate (39 sites, 52 history rows)",
            median_ms(lambda: evaluate(parsed), 2000),
            1.0,
        ),
        (
            "dose-check run() incl. validation",
            median_ms(lambda: contract.run("dose-check", dose_doc), 2000),
            1.0,
        ),
        (
            "diary-summary evaluate (365 days)",
            median_ms(lambda: summarize(diary_parsed), 200),
            20.0,
        ),
        (
            "diary-summary run() incl. validation",
            median_ms(lambda: contract.run("diary-summary", diary_doc), 200),
            20.0,
        ),
    ]
    ok = sites == 39
    print(f"session sites: {sites}")
    for name, ms, target in rows:
        status = "OK" if ms < target else "SLOW"
        ok = ok and ms < target
        print(f"{name:<52} median {ms:8.3f} ms  (target < {target:g} ms)  {status}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
