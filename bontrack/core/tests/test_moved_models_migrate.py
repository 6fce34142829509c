"""The outbox and the program policy moved into core without moving a row.

A database at the old head (scheduling 0003, diaries 0003, core 0001) holds an outbox message
and a program policy; migrating it forward keeps both rows, now read through core's models.
Runs on SQLite and on PostgreSQL (whichever the suite uses).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

OLD_HEAD = [
    ("core", "0001_initial"),
    ("scheduling", "0003_pending_match"),
    ("diaries", "0003_policy_knobs_questionnaire_entered_by_staff"),
]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def test_rows_written_at_the_old_head_survive_the_move_to_core():
    executor = _migrate(OLD_HEAD)
    old = executor.loader.project_state(OLD_HEAD).apps
    practice = old.get_model("core", "Practice").objects.create(name="Old", slug="old")
    old.get_model("diaries", "ProgramPolicy").objects.create(
        practice_id=practice.pk, response_rule_set="nice", cumulative_window_days=84
    )
    from django.utils import timezone

    old.get_model("scheduling", "OutboxMessage").objects.create(
        channel="email",
        to="a@example.org",
        subject="Reminder",
        body="See you",
        dedupe_key="reminder:old",
        send_after=timezone.now(),
        message_id="<old@example.org>",
    )

    executor = _migrate(executor.loader.graph.leaf_nodes())

    from bontrack.core.models import OutboxMessage, OutboxStatus, ProgramPolicy
    from bontrack.core.policy.facts import policy_document

    message = OutboxMessage.objects.get()
    assert (message.dedupe_key, message.status) == ("reminder:old", OutboxStatus.PENDING)
    assert ProgramPolicy.objects.get().practice_id == practice.pk
    assert policy_document(practice.pk) == {"response_rule_set": "nice", "window_days": 84}
    tables = connection.introspection.table_names()
    assert "scheduling_outboxmessage" in tables and "diaries_programpolicy" in tables
    assert "core_outboxmessage" not in tables and "core_programpolicy" not in tables
