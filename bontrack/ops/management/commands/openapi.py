"""bontrack openapi [--write | --check]: the committed OpenAPI snapshot (docs/openapi.json)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

SNAPSHOT = settings.PROJECT_DIR / "docs" / "openapi.json"


def current_schema() -> str:
    from bontrack.api import api

    return json.dumps(api.get_openapi_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Print, write or check the OpenAPI snapshot."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--write", action="store_true", help="update docs/openapi.json")
        group.add_argument(
            "--check", action="store_true", help="fail when docs/openapi.json is out of date"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        schema = current_schema()
        if options["write"]:
            SNAPSHOT.write_text(schema, encoding="utf-8")
            self.stdout.write(f"Wrote {SNAPSHOT}")
        elif options["check"]:
            committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
            if committed != schema:
                raise CommandError(
                    "docs/openapi.json is out of date: run `uv run bontrack openapi --write`."
                )
            self.stdout.write("OpenAPI snapshot is current.")
        else:
            self.stdout.write(schema, ending="")
