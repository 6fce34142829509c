"""Authorization documents on disk: ``DATA_DIR/authorizations/<practice>/<random>.<ext>``.

Uploads are checked by their first bytes (PDF, PNG, JPEG, TIFF), never by the name or the
browser's content type, and refused above ``MAX_BYTES``. Files are written with mode 0600 and
served only through the guarded download view.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_BYTES = 10 * 1024 * 1024  # a scanned payer letter or a packet; larger is refused
# (content type, extension, magic prefixes)
TYPES = (
    ("application/pdf", "pdf", (b"%PDF-",)),
    ("image/png", "png", (b"\x89PNG\r\n\x1a\n",)),
    ("image/jpeg", "jpg", (b"\xff\xd8\xff",)),
    ("image/tiff", "tif", (b"II*\x00", b"MM\x00*")),
)
ALLOWED_LABEL = "PDF, PNG, JPEG or TIFF"


def root() -> Path:
    return Path(settings.DATA_DIR) / "authorizations"


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a file from its first bytes, or None when not accepted."""
    for content_type, ext, magics in TYPES:
        if any(head.startswith(m) for m in magics):
            return content_type, ext
    return None


def check_upload(data: bytes) -> tuple[str, str]:
    if not data:
        raise ValidationError({"file": ["The file is empty."]})
    if len(data) > MAX_BYTES:
        raise ValidationError(
            {"file": [f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."]}
        )
    found = sniff(data[:16])
    if found is None:
        raise ValidationError({"file": [f"Upload a {ALLOWED_LABEL} file."]})
    return found


def write(practice_id: int, data: bytes, ext: str) -> tuple[str, str]:
    """Store the bytes; returns (relative path, SHA-256)."""
    folder = root() / str(practice_id)
    folder.mkdir(parents=True, exist_ok=True)
    rel = f"{practice_id}/{secrets.token_hex(16)}.{ext}"
    target = root() / rel
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return rel, hashlib.sha256(data).hexdigest()


def read(rel: str) -> bytes:
    target = (root() / rel).resolve()
    if root().resolve() not in target.parents:
        raise FileNotFoundError(rel)
    return target.read_bytes()


def remove(rel: str) -> None:
    (root() / rel).unlink(missing_ok=True)
