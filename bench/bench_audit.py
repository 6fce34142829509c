"""Audit chain benchmarks (not tests): the cost of one record() and the speed of `audit verify`.

    createdb bontrack_bench_audit   # or any scratch database
    DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_bench_audit \\
        uv run bontrack migrate && \\
    DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_bench_audit \\
        uv run python bench/bench_audit.py [--rows 200000] [--runs 500]

Appends --rows events to one practice's chain (bulk, 2,000 per transaction) unless present, times
--runs single record() calls each in its own transaction, then times verify_all() over every chain.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from bontrack.audit import audit  # noqa: E402
from bontrack.audit.models import AuditEvent  # noqa: E402
from bontrack.audit.verify import verify_all  # noqa: E402
from bontrack.core.models import Practice  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    practice, _ = Practice.objects.get_or_create(slug="bench-audit", defaults={"name": "Bench"})
    have = AuditEvent.objects.filter(practice=practice).count()
    started = time.perf_counter()
    while have < args.rows:
        n = min(2000, args.rows - have)
        with transaction.atomic():
            audit.append_many(
                [
                    AuditEvent(
                        practice_id=practice.pk,
                        action="view",
                        object_type="patients.patient",
                        object_id=str(i),
                        summary=f"Viewed chart {i}",
                        changes={"n": [None, i]},
                    )
                    for i in range(n)
                ]
            )
        have += n
    print(f"filled to {have} rows in {time.perf_counter() - started:.1f} s")
    timings = []
    for i in range(args.runs):
        t0 = time.perf_counter()
        with transaction.atomic():
            audit.record(actor=None, action="update", practice_id=practice.pk, summary=str(i))
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    print(
        f"record(): median {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms ({args.runs} runs)"
    )
    t0 = time.perf_counter()
    reports = verify_all()
    elapsed = time.perf_counter() - t0
    rows = sum(r.rows for r in reports)
    print(
        f"verify: {rows} rows in {len(reports)} chain(s), {elapsed:.2f} s "
        f"({rows / elapsed:,.0f} rows/s), intact={all(r.ok for r in reports)}"
    )


if __name__ == "__main__":
    main()
