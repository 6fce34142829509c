"""bontrack backup [--output PATH]: the database and the secret key file in one archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bontrack.ops import backup


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # works without SECRET_KEY (a demo's data directory)
    help = (
        "Back up the database (SQLite online backup, or pg_dump for PostgreSQL) and the data "
        "directory's secret_key file into one .tar.gz (it holds patient data: keep it safe)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, help="the archive to write (default: DATA_DIR/backups/...)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"] or backup.default_output()
        try:
            manifest = backup.backup(output)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Backed up the {manifest['engine']} database to {output}")
        )
        if "secret_key" not in manifest["files"]:
            self.stdout.write(
                "No secret_key file in the data directory: SECRET_KEY comes from the environment. "
                "Keep it with your backups (signed links and sessions depend on it)."
            )
