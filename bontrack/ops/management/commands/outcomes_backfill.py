"""Fill the program dashboard's rollup (``bontrack.outcomes``) from raw rows, with a progress bar.

    bontrack outcomes_backfill [--practice ID] [--batch 500] [--part I/N]

``--part I/N`` (0 <= I < N) fills the patients whose id modulo N is I and leaves the buckets: run N
such commands side by side on a large database, then ``--buckets-only`` sums the facts once.

Run it once after migrating (the rollup starts empty) and whenever the rollup is in doubt; from
then on the ``outcomes.refresh`` job of ``bontrack worker`` keeps it current.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bontrack.ops.dashboard.refresh import backfill, rebuild_buckets
from bontrack.outcomes.models import PatientOutcome
from bontrack.patients.models import Patient


class Command(BaseCommand):
    help = "Fill the program dashboard's rollup from diaries, sessions and appointments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", type=int, default=None)
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument("--part", default="", help="I/N: one of N parallel parts")
        parser.add_argument("--buckets-only", action="store_true")
        parser.add_argument(
            "--resume", action="store_true", help="skip patients that already have an outcome row"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["buckets_only"]:
            rebuild_buckets()
            self.stdout.write("Buckets recomputed from the facts.")
            return
        qs = Patient.objects.order_by("pk")
        if options["practice"]:
            qs = qs.filter(practice_id=options["practice"])
        if options["resume"]:
            qs = qs.exclude(pk__in=PatientOutcome.objects.values("patient_id"))
        ids = list(qs.values_list("pk", flat=True))
        part, parts = 0, 1
        if options["part"]:
            try:
                part, parts = (int(x) for x in options["part"].split("/"))
            except ValueError:
                raise CommandError("--part is I/N, e.g. 0/3") from None
            if not 0 <= part < parts:
                raise CommandError("--part is I/N with 0 <= I < N")
            ids = [i for i in ids if i % parts == part]
        started = time.monotonic()
        err = sys.stderr

        def progress(done: int, total: int) -> None:
            width = 40
            filled = int(width * done / total) if total else width
            rate = done / max(time.monotonic() - started, 1e-6)
            left = (total - done) / rate if rate else 0
            err.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} patients "
                f"{rate:.0f}/s, about {left:.0f} s left"
            )
            err.flush()

        done = backfill(ids, progress=progress, batch=max(1, options["batch"]), buckets=parts == 1)
        err.write("\n")
        self.stdout.write(
            f"Rollup filled for {done} patients in {time.monotonic() - started:.1f} s."
        )
