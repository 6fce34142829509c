"""Audited reads of patient data from the schedule pages."""

from __future__ import annotations

from typing import Any

from bontrack.accounts.models import User
from bontrack.audit import audit


def record_read(*, actor: User | None, what: str, obj: Any = None, **ids: Any) -> None:
    """Audit a read of patient data (its own small transaction, opened by audit.record)."""
    audit.record(actor=actor, action="view", obj=obj, summary=what, **ids)
