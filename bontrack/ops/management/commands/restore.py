"""bontrack restore PATH [--force]: restore a `bontrack backup` archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bontrack.ops import backup


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # works without SECRET_KEY (a demo's data directory)
    help = (
        "Restore a backup made by `bontrack backup` into the configured database (which should "
        "be empty) and data directory. Stop the server first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the .tar.gz written by `bontrack backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database that already holds data",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restored = backup.restore(options["path"], force=options["force"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the {restored.engine} backup made at {restored.created_at}"
                + (" and its secret_key file." if restored.secret_key else ".")
            )
        )
        self.stdout.write("Run `bontrack migrate` if this BoNTrack is newer than the backup.")
