"""`bontrack backup` of a running demo, `bontrack restore` elsewhere, and a real sign-in there."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import tarfile
import urllib.parse
from pathlib import Path

import pytest
from django.conf import settings

from bontrack.core.tests.servers import BONTRACK, bontrack, demo_env, fresh_databases, serving
from bontrack.ops.seed import DEMO_PASSWORD


def _sign_in(base: str, username: str, password: str) -> tuple[int, str]:
    """Sign in through the real login form over HTTP; return the patient list's status and page."""
    url = urllib.parse.urlsplit(base)
    cookies: dict[str, str] = {}

    def request(method: str, path: str, body: str | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
        headers = {
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{url.netloc}/accounts/login/",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            cookies[name] = value
        conn.close()
        return response

    page = request("GET", "/accounts/login/").body.decode()  # type: ignore[attr-defined]
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "username": username, "password": password}
    )
    signed_in = request("POST", "/accounts/login/", form)
    assert signed_in.status == 302, signed_in.body  # type: ignore[attr-defined]
    patients = request("GET", "/patients/")
    return patients.status, patients.body.decode()  # type: ignore[attr-defined]


def test_backup_of_a_running_demo_restores_elsewhere_and_signs_in(tmp_path: Path):
    source_dir, target_dir = tmp_path / "source", tmp_path / "target"
    with fresh_databases("backup_src", "backup_dst") as (source_url, target_url):
        source = demo_env(source_dir, source_url)
        bontrack(source, "demo", "--no-serve", "--patients", "20")
        archive = tmp_path / "backups" / "demo.tar.gz"
        # A stored authorization document (a payer letter) travels with the backup.
        letter = source_dir / "authorizations" / "1" / "letter.pdf"
        letter.parent.mkdir(parents=True)
        letter.write_bytes(b"%PDF-1.4 payer letter")
        with serving(source) as base:
            status, page = _sign_in(base, "nurse.kim", DEMO_PASSWORD)
            assert status == 200 and "Cohen" in page
            out = bontrack(source, "backup", "--output", str(archive))  # while it serves
        assert "Backed up" in out and archive.exists()
        assert archive.stat().st_mode & 0o077 == 0  # patient data: owner only
        with tarfile.open(archive) as tar:
            assert {"manifest.json", "secret_key", "documents.tar"} <= set(tar.getnames())
            manifest = json.load(tar.extractfile("manifest.json"))
        postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
        assert manifest["engine"] == ("postgresql" if postgres else "sqlite")
        assert (source_url is not None) == postgres  # the demo ran on the database under test

        target = demo_env(target_dir, target_url)
        out = bontrack(target, "restore", str(archive))
        assert "Restored" in out
        assert (target_dir / "secret_key").read_text() == (source_dir / "secret_key").read_text()
        restored = target_dir / "authorizations" / "1" / "letter.pdf"
        assert restored.read_bytes() == b"%PDF-1.4 payer letter"

        refused = subprocess.run(
            [*BONTRACK, "restore", str(archive)], env=target, capture_output=True, text=True
        )
        assert refused.returncode != 0
        assert "already holds data" in refused.stderr and "--force" in refused.stderr
        # --force replaces it (PostgreSQL: pg_restore --clean drops the tables; the audit table
        # refuses DELETE and TRUNCATE, not DROP).
        assert "Restored" in bontrack(target, "restore", "--force", str(archive))

        with serving(target) as base:
            status, page = _sign_in(base, "nurse.kim", DEMO_PASSWORD)
        assert status == 200 and "Cohen" in page


def test_restore_refuses_a_damaged_archive(tmp_path: Path):
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        (tmp_path / "manifest.json").write_text(
            '{"format": 1, "application": "bontrack", "engine": "sqlite", "created_at": "x",'
            ' "files": {"database.sqlite3": {"sha256": "0", "size": 1}}}'
        )
        (tmp_path / "database.sqlite3").write_text("not a database")
        tar.add(tmp_path / "manifest.json", arcname="manifest.json")
        tar.add(tmp_path / "database.sqlite3", arcname="database.sqlite3")
    env = demo_env(tmp_path / "data")
    done = subprocess.run(
        [*BONTRACK, "restore", str(archive)], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0 and "checksum" in done.stderr
    assert (
        not (tmp_path / "data" / "bontrack.sqlite3").exists()
        or (tmp_path / "data" / "bontrack.sqlite3").stat().st_size == 0
    )


@pytest.mark.parametrize("path", ["missing.tar.gz"])
def test_restore_names_a_missing_file(tmp_path: Path, path: str):
    env = demo_env(tmp_path / "data")
    done = subprocess.run(
        [*BONTRACK, "restore", str(tmp_path / path)], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0 and "There is no backup file" in done.stderr
