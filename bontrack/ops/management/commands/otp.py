"""bontrack otp: the current TOTP code of the demo accounts (demo and debug only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from bontrack.ops.seed import DEMO_TOTP_HEX


class Command(BaseCommand):
    help = "Print the current six-digit code for the demo's TOTP key (demo/debug only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or settings.DEMO):
            raise CommandError("Only available in demo or debug mode.")
        self.stdout.write(f"{totp(bytes.fromhex(DEMO_TOTP_HEX)):06d}")
