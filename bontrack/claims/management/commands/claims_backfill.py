"""bontrack claims_backfill: a claim for every signed session that has none (e.g. sessions signed
before the claims app, or one whose claim failed to generate at signing)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bontrack.claims.actions.generate import backfill


class Command(BaseCommand):
    help = "Generate the claims of signed sessions that have none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", type=int, default=None, help="limit to one practice id")

    def handle(self, *args: Any, **options: Any) -> None:
        made = backfill(practice_id=options["practice"])
        self.stdout.write(f"{made} claim(s) generated.")
