from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, register


class AuditConfig(AppConfig):
    name = "bontrack.audit"
    label = "audit"

    def ready(self) -> None:
        from bontrack.audit import hooks

        register(check_database_is_not_a_test_database)
        hooks.connect()


def check_database_is_not_a_test_database(app_configs: Any, **kwargs: Any) -> list[Any]:
    """The audit guards let the test suite's flush empty a TEST database (PostgreSQL name `test_*`,
    SQLite in memory); a deployment must not look like one (docs/audit.md)."""
    from django.conf import settings

    if settings.TESTING:
        return []
    db = settings.DATABASES["default"]
    name = str(db.get("NAME") or "")
    if "postgresql" in db["ENGINE"] and name.startswith("test_"):
        return [
            Error(
                "The database name must not start with 'test_': the audit trail's guards treat "
                "such a database as a test database.",
                id="audit.E001",
            )
        ]
    if "sqlite" in db["ENGINE"] and (name in {"", ":memory:"} or "mode=memory" in name):
        return [
            Error(
                "An in-memory SQLite database loses the audit trail; set a file path.",
                id="audit.E002",
            )
        ]
    return []
