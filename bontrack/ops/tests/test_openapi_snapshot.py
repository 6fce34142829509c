from __future__ import annotations

import json

from bontrack.ops.management.commands.openapi import SNAPSHOT, current_schema

ERROR_CODES = {"400", "401", "403", "404", "422"}


def test_the_committed_openapi_snapshot_matches_the_code():
    assert SNAPSHOT.read_text(encoding="utf-8") == current_schema(), (
        "run `uv run bontrack openapi --write`"
    )


def test_every_operation_declares_its_error_codes():
    schema = json.loads(current_schema())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert declared >= ERROR_CODES, (
                f"{method.upper()} {path} lacks {ERROR_CODES - declared}"
            )
            # Every write may conflict; evaluating a clinical rule writes nothing.
            if method in {"post", "patch", "put", "delete"} and path != "/api/v1/rules/{name}":
                assert "409" in declared, f"{method.upper()} {path} lacks 409"
