"""bontrack demo: migrate, seed a demo practice (once), serve it, print the logins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from bontrack.core.models import Practice
from bontrack.ops.seed import DEMO_PASSWORD, DEMO_TOTP_HEX


class Command(BaseCommand):
    help = "Set up and serve a demo practice on 127.0.0.1 (data in ./var unless BONTRACK_DATA_DIR is set)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--reset", action="store_true", help="erase the demo data and start over"
        )
        parser.add_argument("--no-serve", action="store_true", help="set up the data and exit")
        parser.add_argument("--patients", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        if options["reset"]:
            self._erase()
        call_command("migrate", interactive=False, verbosity=0)
        practice = Practice.objects.filter(slug="demo").first()
        if practice is None:
            from bontrack.ops.seed import seed_demo

            self.stdout.write(f"Seeding the demo practice with {options['patients']} patients…")
            result = seed_demo(today=timezone.localdate(), patients=options["patients"])
            logins = result.logins
        else:
            logins = self._existing_logins(practice)
        self._print(logins, options["port"])
        if not options["no_serve"]:
            call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)

    def _erase(self) -> None:
        """The audit trail refuses DELETE and TRUNCATE, so a reset removes the SQLite file itself."""
        db = connection.settings_dict
        if connection.vendor != "sqlite" or db["NAME"] in ("", ":memory:"):
            raise CommandError(
                "--reset erases a SQLite demo file only. The audit trail cannot be emptied: "
                "drop and create the PostgreSQL database instead (dropdb, createdb)."
            )
        self.stdout.write("Erasing the demo data…")
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db['NAME']}{suffix}").unlink(missing_ok=True)

    def _existing_logins(self, practice: Practice) -> list[tuple[str, str, str]]:
        from bontrack.accounts.models import Membership, PortalAccount

        rows = []
        for m in (
            Membership.objects.filter(practice=practice)
            .select_related("user", "clinic")
            .order_by("id")
        ):
            where = f" — {m.clinic.name}" if m.clinic else ""
            rows.append(
                (
                    m.user.username,
                    m.get_role_display() + where,
                    "TOTP required" if m.user.requires_mfa() else "",
                )
            )
        for pa in PortalAccount.objects.filter(patient__practice=practice).select_related(
            "user", "patient"
        ):
            rows.append((pa.user.username, f"Patient portal — {pa.patient.full_name}", "/portal/"))
        return rows

    def _print(self, logins: list[tuple[str, str, str]], port: int) -> None:
        from base64 import b32encode

        secret = b32encode(bytes.fromhex(DEMO_TOTP_HEX)).decode()
        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS(f"BoNTrack demo: http://127.0.0.1:{port}/"))
        out.write(f"  Staff sign-in:  http://127.0.0.1:{port}/accounts/login/")
        out.write(f"  Patient portal: http://127.0.0.1:{port}/portal/login/")
        out.write(f"  API docs:       http://127.0.0.1:{port}/api/v1/docs")
        out.write(f"\n  Every demo login uses the password: {DEMO_PASSWORD}")
        width = max(len(u) for u, _, _ in logins)
        for username, role, note in logins:
            out.write(f"    {username.ljust(width)}  {role}{f'  ({note})' if note else ''}")
        out.write(f"\n  TOTP key for the physicians and the administrator: {secret}")
        out.write(
            "  (add it to an authenticator app, or run `uv run bontrack otp` for the current code)\n"
        )
