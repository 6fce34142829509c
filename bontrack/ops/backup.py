"""Backup and restore of the database, the data directory's `secret_key` file and the stored
authorization documents (`DATA_DIR/authorizations/`, as one inner `documents.tar`).

A backup is one `.tar.gz` with `manifest.json` (engine, time, files and their SHA-256) and:
- SQLite: `database.sqlite3`, copied with sqlite3's online backup API (consistent while the server
  runs and writes);
- PostgreSQL: `database.dump`, from `pg_dump -Fc`; credentials go to pg_dump/pg_restore through
  PG* environment variables, never on the command line.
Restore refuses a database that already holds tables unless `force` is given.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

FORMAT = 1
SECRET_KEY_FILE = "secret_key"
# Uploaded payer letters and kept packets (bontrack.authorizations.storage): one inner tar, so
# the outer archive keeps its flat list of files.
DOCUMENTS_DIR = "authorizations"
DOCUMENTS_FILE = "documents.tar"


class BackupError(Exception):
    """A plain-words reason a backup or restore could not be made."""


@dataclass
class Restored:
    engine: str
    created_at: str
    secret_key: bool


def _engine() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine}.")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_env() -> dict[str, str]:
    db: dict[str, Any] = dict(settings.DATABASES["default"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client)."
        )
    return path


def _run_pg(args: list[str]) -> None:
    done = subprocess.run(args, env=_pg_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.stdout}")


def default_output() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.DATA_DIR / "backups" / f"bontrack-{stamp}.tar.gz"


def backup(output: Path) -> dict[str, Any]:
    """Write a backup archive to `output` (mode 0600: it holds patient data); return its manifest."""
    engine = _engine()
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".backup-") as tmp:
        work = Path(tmp)
        if engine == "sqlite":
            name = "database.sqlite3"
            source = Path(settings.DATABASES["default"]["NAME"])
            if not source.exists():
                raise BackupError(f"There is no database at {source}.")
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            dst = sqlite3.connect(work / name)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            name = "database.dump"
            _run_pg([_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(work / name)])
        files = [name]
        key_file = settings.DATA_DIR / SECRET_KEY_FILE
        if key_file.exists():
            shutil.copyfile(key_file, work / SECRET_KEY_FILE)
            files.append(SECRET_KEY_FILE)
        docs = settings.DATA_DIR / DOCUMENTS_DIR
        if docs.is_dir() and any(p.is_file() for p in docs.rglob("*")):
            with tarfile.open(work / DOCUMENTS_FILE, mode="w") as inner:
                inner.add(docs, arcname=DOCUMENTS_DIR)
            files.append(DOCUMENTS_FILE)
        manifest = {
            "format": FORMAT,
            "application": "bontrack",
            "engine": engine,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {
                f: {"sha256": _sha256(work / f), "size": (work / f).stat().st_size} for f in files
            },
        }
        partial = work / "backup.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
            for f in files:
                tar.add(work / f, arcname=f)
        os.replace(partial, output)
    return manifest


def _extract(archive: Path, work: Path) -> dict[str, Any]:
    if not archive.is_file():
        raise BackupError(f"There is no backup file at {archive}.")
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            manifest_member = tar.extractfile("manifest.json")
            if manifest_member is None:
                raise KeyError("manifest.json")
            manifest = json.loads(manifest_member.read())
            names = set(manifest.get("files", {}))
            if manifest.get("application") != "bontrack" or manifest.get("format") != FORMAT:
                raise BackupError(f"{archive} is not a BoNTrack backup this version can read.")
            for name in names:
                if "/" in name or name.startswith("."):
                    raise BackupError(f"{archive} lists an unsafe file name: {name!r}.")
                member = tar.getmember(name)
                if not member.isfile():
                    raise BackupError(f"{archive}: {name} is not a regular file.")
                tar.extract(member, work, filter="data")
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise BackupError(f"{archive} is not a readable BoNTrack backup ({exc}).") from exc
    for name, meta in manifest["files"].items():
        if _sha256(work / name) != meta["sha256"]:
            raise BackupError(f"{archive} is damaged: the checksum of {name} does not match.")
    return manifest


def _database_is_empty() -> bool:
    from django.db import connection

    return not connection.introspection.table_names()


def _database_label() -> str:
    db = settings.DATABASES["default"]
    if _engine() == "sqlite":
        return str(db["NAME"])
    return f"PostgreSQL database {db['NAME']!r} on {db.get('HOST') or 'localhost'}"


def restore(archive: Path, *, force: bool = False) -> Restored:
    """Restore `archive` into the configured database and data directory."""
    from django.db import connection

    engine = _engine()
    with tempfile.TemporaryDirectory(prefix="bontrack-restore-") as tmp:
        work = Path(tmp)
        manifest = _extract(archive.resolve(), work)
        if manifest["engine"] != engine:
            raise BackupError(
                f"This backup is of a {manifest['engine']} database; DATABASE_URL points to "
                f"{engine}. Restore it into a {manifest['engine']} database."
            )
        if not _database_is_empty() and not force:
            raise BackupError(
                f"{_database_label()} already holds data. Restore into an empty database, or "
                "add --force to replace its contents."
            )
        connection.close()
        if engine == "sqlite":
            target = Path(settings.DATABASES["default"]["NAME"])
            target.parent.mkdir(parents=True, exist_ok=True)
            src = sqlite3.connect(f"file:{work / 'database.sqlite3'}?mode=ro", uri=True)
            dst = sqlite3.connect(target)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            args = [
                _pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
            ]
            if force:
                args += ["--clean", "--if-exists"]
            db_name = str(settings.DATABASES["default"]["NAME"])
            _run_pg([*args, "--dbname", db_name, str(work / "database.dump")])
        has_key = SECRET_KEY_FILE in manifest["files"]
        if has_key:
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
            key_file = settings.DATA_DIR / SECRET_KEY_FILE
            partial = settings.DATA_DIR / f".{SECRET_KEY_FILE}.restoring"
            partial.unlink(missing_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write((work / SECRET_KEY_FILE).read_bytes())
            os.replace(partial, key_file)
        if DOCUMENTS_FILE in manifest["files"]:
            _restore_documents(work / DOCUMENTS_FILE)
    return Restored(engine=engine, created_at=manifest["created_at"], secret_key=has_key)


def _restore_documents(inner: Path) -> None:
    """Put the authorization documents back under the data directory (only that folder; the
    ``data`` filter refuses absolute paths, links out of it and special files)."""
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tarfile.open(inner, mode="r") as tar:
        members = [
            m
            for m in tar.getmembers()
            if m.name == DOCUMENTS_DIR or m.name.startswith(f"{DOCUMENTS_DIR}/")
        ]
        tar.extractall(settings.DATA_DIR, members=members, filter="data")
