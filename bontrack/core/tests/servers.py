"""Real `bontrack` processes for tests: a demo data directory and a gunicorn server on a free port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BONTRACK = [sys.executable, "-m", "bontrack.ops.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """A demo data directory (its own `secret_key` file), served like production (DEBUG off)."""
    drop = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "BONTRACK_DATA_DIR", "DJANGO_SETTINGS_MODULE"}
    return {
        **{k: v for k, v in os.environ.items() if k not in drop},
        "BONTRACK_DEMO": "1",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "BONTRACK_DATA_DIR": str(data_dir),
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url or f"sqlite:///{data_dir / 'bontrack.sqlite3'}",
        "EMAIL_URL": "console://",
    }


def bontrack(env: dict[str, str], *args: str, timeout: int = 600) -> str:
    done = subprocess.run(
        [*BONTRACK, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"bontrack {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextlib.contextmanager
def serving(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """`bontrack serve` (gunicorn) on a free loopback port; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(Path(env["BONTRACK_DATA_DIR"]) / f"serve-{port}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [*BONTRACK, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@contextlib.contextmanager
def fresh_databases(*suffixes: str) -> Iterator[list[str | None]]:
    """One fresh database per suffix: on SQLite None (each data directory has its own file); on
    PostgreSQL `<database>_<suffix>`, created with the bontrack role and dropped afterwards."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        yield [None for _ in suffixes]
        return
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    # Named after the configured database whether or not the test database exists yet: a name
    # starting with test_ is refused outside tests (audit.E001), and these serve real processes.
    stem = str(db["NAME"]).removeprefix("test_")
    names = [f"{stem}_{suffix}" for suffix in suffixes]
    admin = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    )

    def drop(name: str) -> None:
        # WITH (FORCE) ends our own role's connections; an autovacuum worker (a superuser process
        # the bontrack role may not signal) can still hold a freshly written database for a
        # moment: wait for it instead of failing the test.
        for attempt in range(40):
            try:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
                if attempt == 39:
                    raise
                time.sleep(0.25)

    try:
        for name in names:
            drop(name)
            admin.execute(f'CREATE DATABASE "{name}"')
        yield [f"{base}/{name}" for name in names]
    finally:
        for name in names:
            drop(name)
        admin.close()
