"""The `bontrack` console script: Django's management commands with BoNTrack's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")
    if len(argv) > 1 and argv[1] in {"demo", "otp"}:
        os.environ.setdefault("BONTRACK_DEMO", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
