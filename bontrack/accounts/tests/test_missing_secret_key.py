"""A missing SECRET_KEY is a system-check finding, never a traceback; the server refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys


def run(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "BONTRACK_DEMO", "BONTRACK_TESTING", "DATABASE_URL"}
    }
    env.update(
        BONTRACK_DATA_DIR=str(tmp_path),
        DEBUG="0",
        ALLOWED_HOSTS="bontrack.example.org",
        DJANGO_SETTINGS_MODULE="bontrack.settings",
    )
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_deploy_reports_a_missing_secret_key_as_e001(tmp_path):
    result = run(tmp_path, "-m", "bontrack.ops.cli", "check", "--deploy")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "bontrack.E001" in output and "SECRET_KEY must be set" in output
    assert "Traceback" not in output


def test_other_commands_report_it_and_still_run(tmp_path):
    result = run(tmp_path, "-m", "bontrack.ops.cli", "check")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "bontrack.W003" in output and "Traceback" not in output


def test_the_server_refuses_to_start_without_it(tmp_path):
    result = run(tmp_path, "-c", "import bontrack.wsgi")
    assert result.returncode != 0
    assert "SECRET_KEY is not set: the server refuses to start" in result.stderr


def test_the_placeholder_is_never_a_usable_key(settings):
    assert settings.SECRET_KEY != settings.MISSING_SECRET_KEY  # tests run with a real key
