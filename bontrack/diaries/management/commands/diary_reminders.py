from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from bontrack.diaries.reminders import send_reminders


class Command(BaseCommand):
    help = "Queue today's diary reminder emails (run once a day; safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD (default: today in the clinic time zone)")

    def handle(self, *args: object, **options: object) -> None:
        day = (
            date.fromisoformat(str(options["date"]))
            if options.get("date")
            else timezone.localdate()
        )
        queued = send_reminders(day)
        self.stdout.write(f"{queued} diary reminder(s) queued for {day.isoformat()}")
