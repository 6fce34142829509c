"""Progress of an import job on its row (polled by the page) and timings of its phases."""

from __future__ import annotations

import time
from typing import Any

from bontrack.diaries.models import DiaryImport


def _progress(job: DiaryImport, **fields: Any) -> None:
    for k, v in fields.items():
        setattr(job, k, v)
    DiaryImport.objects.filter(pk=job.pk).update(**fields)


# Seconds per phase of the last import in this process (printed by bench/bench_diaries.py).
LAST_TIMINGS: dict[str, float] = {}


class _Timer:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        LAST_TIMINGS[self.name] = LAST_TIMINGS.get(self.name, 0) + time.perf_counter() - self.t0
