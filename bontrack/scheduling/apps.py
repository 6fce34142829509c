from __future__ import annotations

import importlib
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reinstall_overlap_guards(sender: Any, using: str = "default", **kwargs: Any) -> None:
    # SQLite rebuilds a table on many ALTERs and drops its triggers with it; put them back.
    from django.db import connections

    conn = connections[using]
    if conn.vendor == "sqlite":
        guards = importlib.import_module("bontrack.scheduling.migrations.0002_no_double_booking")
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='scheduling_appointment'"
            )
            if cursor.fetchone():
                guards.install(conn)


class SchedulingConfig(AppConfig):
    name = "bontrack.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling and online booking"

    def ready(self) -> None:
        post_migrate.connect(_reinstall_overlap_guards, sender=self)
