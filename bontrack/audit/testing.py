"""Test-suite support: let pytest-django's flush empty the audit table of a TEST database.

The audit guards (migration 0004) refuse DELETE/TRUNCATE unless the connection holds the temporary
table `audit_flush_permit` AND the database is a test database (PostgreSQL name `test_*`, SQLite in
memory). Only the wrapper below creates that table, around the flush's own statements; the root
conftest installs it. Production code never calls this module.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.operations import BaseDatabaseOperations

PERMIT_SQL = {
    "sqlite": (
        "CREATE TEMP TABLE IF NOT EXISTS audit_flush_permit (x integer)",
        "DROP TABLE IF EXISTS temp.audit_flush_permit",
    ),
    "postgresql": (
        "CREATE TEMP TABLE IF NOT EXISTS audit_flush_permit (x integer)",
        "DROP TABLE IF EXISTS pg_temp.audit_flush_permit",
    ),
}


def allow_test_flush() -> None:
    original = BaseDatabaseOperations.execute_sql_flush
    if getattr(original, "audit_permit", False):
        return

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> Any:
        permit = PERMIT_SQL.get(self.connection.vendor)
        if permit and sql_list:
            sql_list = [permit[0], *sql_list, permit[1]]
        return original(self, sql_list)

    execute_sql_flush.audit_permit = True  # type: ignore[attr-defined]
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
