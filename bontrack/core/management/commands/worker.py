"""bontrack worker: deliver the outbox (email, SMS) until stopped."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from bontrack.core import context, jobs
from bontrack.core.messaging import deliver


class Command(BaseCommand):
    help = "Deliver queued email and SMS from the outbox (exactly once per message; see docs)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="deliver what is due, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
        parser.add_argument("--batch", type=int, default=20)
        parser.add_argument("--lease-seconds", type=int, default=deliver.DEFAULT_LEASE_SECONDS)

    def handle(self, *args: Any, **options: Any) -> None:
        context.activate(context.RequestContext(channel="cli"))
        stop = {"now": False}

        def _stop(signum: int, frame: object) -> None:
            stop["now"] = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        owner = deliver.worker_id()
        self.stdout.write(f"worker {owner} started")
        self.stdout.flush()
        while not stop["now"]:
            close_old_connections()
            jobs.run_pending()
            result = deliver.run_once(
                owner=owner, limit=options["batch"], lease_seconds=options["lease_seconds"]
            )
            if result.claimed:
                self.stdout.write(f"sent {result.sent}, failed {result.failed}")
                self.stdout.flush()
                continue
            if options["once"]:
                break
            time.sleep(options["interval"])
        self.stdout.write("worker stopped")
