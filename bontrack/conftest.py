"""Test set-up for the Django apps (clinic_rules' tests run without Django and never load this)."""

from __future__ import annotations

from django.conf import settings
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread


class _SerialWSGIServer(WSGIServer):
    """One request at a time: on SQLite the live server shares the test's in-memory connection, so
    parallel requests (a page's lazily loaded panels) would race on it ("table is locked")."""

    def __init__(self, *args, connections_override=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)


if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    LiveServerThread.server_class = _SerialWSGIServer
