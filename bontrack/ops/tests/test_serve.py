"""`bontrack serve` runs the production stack (gunicorn, whitenoise, secure settings)."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_serve_answers_with_production_security_headers(tmp_path: Path):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "BONTRACK_DEMO"}},
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "BONTRACK_DATA_DIR": str(tmp_path),
        "SECURE_SSL_REDIRECT": "0",
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "EMAIL_URL": "console://",
    }
    bontrack = [sys.executable, "-m", "bontrack.ops.cli"]
    subprocess.run([*bontrack, "migrate", "-v0"], env=env, check=True, timeout=120)
    server = subprocess.Popen(
        [*bontrack, "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline:
            try:
                status, headers, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        status, headers, body = _get(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200 and b"Staff sign in" in body
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert headers["X-Frame-Options"] == "DENY"
        # The stylesheet (the favicon links come first), hashed by the manifest storage.
        (css,) = re.findall(r'href="(/static/css/app\.[0-9a-f]+\.css)"', body.decode())
        assert _get(f"http://127.0.0.1:{port}{css}")[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
