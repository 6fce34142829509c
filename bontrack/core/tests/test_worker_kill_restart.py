"""`bontrack worker` killed with SIGKILL mid-run, restarted: every reminder arrives exactly once.

The worker runs as a real subprocess against a real SMTP server (aiosmtpd on loopback). The
SMTP server kills the worker while it is sending the third message (before accepting it), so
the worker dies holding leases on the rest; after the lease expires a new worker delivers them.
On PostgreSQL the subprocess uses the test database; on SQLite (whose test database lives in
memory) it uses a temporary database file that subprocesses migrate and fill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True)]

N = 6
ENQUEUE = f"""
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from bontrack.core.messaging.outbox import enqueue_message
with transaction.atomic():
    for i in range({N}):
        enqueue_message(channel="email", to=f"p{{i}}@example.org", subject=f"Reminder {{i}}",
            body="See you soon", dedupe_key=f"reminder:kill:{{i}}",
            send_after=timezone.now() - timedelta(seconds=1))
"""
REPORT = """
from bontrack.core.models import OutboxMessage
print(sorted(OutboxMessage.objects.values_list("status", flat=True)))
"""


def _env(tmp_path: Path, smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("BONTRACK_TESTING", None)
    env.update(
        SECRET_KEY="kill-restart-test-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        BONTRACK_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="bontrack.settings",
        LOG_LEVEL="WARNING",
    )
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "bontrack.ops.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout


def _worker(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bontrack.ops.cli",
            "worker",
            "--lease-seconds",
            "2",
            "--interval",
            "0.2",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_killed_worker_is_restarted_and_each_reminder_is_delivered_exactly_once(
    tmp_path, smtp_server
):
    env = _env(tmp_path, smtp_server.port)
    if connection.vendor != "postgresql":
        _manage(env, "migrate", "--verbosity", "0", "--skip-checks")
    _manage(env, "shell", "-c", ENQUEUE)

    worker = _worker(env)
    seen = {"n": 0}

    def kill_on_third(message):
        seen["n"] += 1
        if seen["n"] == 3:
            os.kill(worker.pid, signal.SIGKILL)
            return False  # the connection is dead: this message was not accepted
        return None

    smtp_server.on_message = kill_on_third
    assert worker.wait(timeout=60) == -signal.SIGKILL
    assert len(smtp_server.messages) == 2
    smtp_server.on_message = None

    time.sleep(2.5)  # the dead worker's leases expire
    restarted = _worker(env, "--once")
    output, _ = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, output

    ids = smtp_server.by_header("Message-ID")
    subjects = sorted(smtp_server.by_header("Subject"))
    assert subjects == sorted(f"Reminder {i}" for i in range(N))
    assert len(ids) == len(set(ids)) == N
    assert _manage(env, "shell", "-c", REPORT).strip().splitlines()[-1] == str(["sent"] * N)
