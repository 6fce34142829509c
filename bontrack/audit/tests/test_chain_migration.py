"""Migration 0004 chains the rows written before the chain existed, then installs the guards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bontrack.audit.chain import GENESIS
from bontrack.audit.models import AuditEvent
from bontrack.audit.verify import missing_guards, verify_all

BEFORE = [("audit", "0002_append_only_triggers")]
AFTER = [("audit", "0004_chain_existing_rows_and_guards")]


def _migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.mark.django_db(transaction=True)
def test_existing_rows_are_chained_per_practice_in_time_order(world):
    _migrate(BEFORE)
    try:
        rows = [  # (practice, occurred_at): ids out of time order for practice A on purpose
            (world.practice.pk, datetime(2026, 1, 1, 10, 0, 1, tzinfo=UTC)),
            (world.practice.pk, datetime(2026, 1, 1, 10, 0, 0, tzinfo=UTC)),
            (world.other_practice.pk, datetime(2026, 1, 2, tzinfo=UTC)),
            (None, datetime(2026, 1, 3, tzinfo=UTC)),
            (world.practice.pk, datetime(2026, 1, 4, tzinfo=UTC)),
        ]
        with connection.cursor() as cursor:
            for practice_id, at in rows:
                cursor.execute(
                    "INSERT INTO audit_auditevent (occurred_at, actor_label, role, practice_id,"
                    " action, object_type, object_id, outcome, channel, request_id, summary,"
                    " changes) VALUES (%s, '', '', %s, 'view', '', '', 'success', 'ui', '', %s,"
                    " %s)",
                    [at, practice_id, f"legacy {at:%d %H:%M:%S}", '{"units": [1, 2.5]}'],
                )
    finally:
        _migrate(AFTER)
    a = list(AuditEvent.objects.filter(practice=world.practice).order_by("seq"))
    assert [e.summary for e in a] == [
        "legacy 01 10:00:00",
        "legacy 01 10:00:01",
        "legacy 04 00:00:00",
    ]
    assert [e.seq for e in a] == [1, 2, 3] and a[0].prev_hash == GENESIS
    reports = verify_all()
    assert len(reports) == 3 and all(r.ok for r in reports), reports
    assert missing_guards() == []
