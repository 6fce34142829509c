"""Background jobs run by the worker process (`bontrack worker`).

An app registers one runner per kind of job in its ``AppConfig.ready()``::

    jobs.register("diaries.import", run_queued)

A runner is ``runner(limit) -> int``: it claims and runs up to ``limit`` pending jobs of its kind
(its own rows say what is pending, its progress and its outcome) and returns how many it ran.
The worker calls ``run_pending()`` on every turn of its loop, next to the outbox delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

Runner = Callable[[int], int]

_RUNNERS: dict[str, Runner] = {}


def register(name: str, runner: Runner) -> None:
    """Register (or replace) the runner of one kind of job."""
    _RUNNERS[name] = runner


def registered() -> dict[str, Runner]:
    return dict(_RUNNERS)


def run_pending(limit: int = 10) -> dict[str, int]:
    """Run each registered runner once; {name: jobs run}. A runner that raises is logged and the
    others still run (one broken kind of job must not stop email delivery)."""
    ran: dict[str, int] = {}
    for name, runner in list(_RUNNERS.items()):
        try:
            ran[name] = runner(limit)
        except Exception:
            log.exception("background jobs %s failed", name)
            ran[name] = 0
    return ran
