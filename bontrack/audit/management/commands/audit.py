"""bontrack audit verify: walk every audit chain; exit 1 and name the first break of each."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bontrack.audit.verify import missing_guards, verify_all


class Command(BaseCommand):
    help = "Audit trail tools. `verify`: check the hash chain of every practice."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="walk every chain; non-zero exit when one is broken")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        reports = verify_all()
        broken = [r for r in reports if not r.ok]
        for r in reports:
            if r.ok:
                self.stdout.write(
                    f"{r.label}: intact, {r.rows} events, head {r.last_seq} {r.last_hash[:16]}"
                )
            else:
                self.stderr.write(f"{r.label}: BROKEN after {r.rows} events: {r.problem}")
        elapsed = time.monotonic() - started
        guards = missing_guards()
        if guards:
            self.stderr.write(
                f"append-only guards missing or disabled: {', '.join(guards)} "
                "(rows can be changed or deleted)"
            )
        if broken or guards:
            raise CommandError(
                f"{len(broken)} of {len(reports)} audit chain(s) broken"
                + (", guards missing" if guards else "")
                + f" ({elapsed:.1f} s)."
            )
        self.stdout.write(
            f"{len(reports)} audit chain(s) intact, append-only guards in place ({elapsed:.1f} s)."
        )
