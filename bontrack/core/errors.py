"""Errors that services raise and every channel (form, API, CLI) maps the same way."""

from __future__ import annotations


class Conflict(Exception):
    """The change collides with existing data (HTTP 409)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
