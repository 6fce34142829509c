"""bontrack rules NAME [FILE|-] | --list | vocabulary: the clinic_rules JSON contract on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bontrack.rules.facts import contract


class Command(BaseCommand):
    help = "Evaluate a clinical rule on a JSON document and print the JSON result."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="rule name, or 'vocabulary'")
        parser.add_argument(
            "file", nargs="?", default="-", help="JSON file, or - for standard input"
        )
        parser.add_argument(
            "--list", action="store_true", help="list the rules with their input schemas"
        )

    def _print(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self._print(contract.list_rules())
            return
        name = options["name"]
        if not name:
            raise CommandError("Name a rule (see --list) or 'vocabulary'.", returncode=2)
        if name == "vocabulary":
            self._print(contract.vocabulary())
            return
        source = options["file"]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {source}: {exc.strerror}", returncode=2) from exc
        try:
            document = json.loads(text)
        except ValueError as exc:
            self._fail(
                {"detail": "The input is not valid JSON.", "errors": {"__all__": [str(exc)]}}
            )
            return
        try:
            result = contract.run(name, document)
        except KeyError:
            self._fail({"detail": f"There is no rule named {name!r}.", "errors": {}})
            return
        except contract.InputError as exc:
            self._fail({"detail": "The input is not valid.", "errors": exc.errors})
            return
        self._print(result)

    def _fail(self, body: dict[str, Any]) -> None:
        self.stderr.write(json.dumps(body, indent=2, sort_keys=True))
        sys.exit(2)
