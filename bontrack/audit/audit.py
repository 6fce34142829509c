"""audit.record(): one append-only row, written inside the caller's transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models

from bontrack.audit import chain
from bontrack.audit.models import AuditEvent
from bontrack.core import context

Changes = dict[str, list[Any]]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if _plain(before.get(key)) != _plain(after.get(key))
    }


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    patient_id: int | None = None,
    clinic_id: int | None = None,
    practice_id: int | None = None,
    changes: Changes | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    summary: str = "",
) -> AuditEvent:
    """Write one audit row. Must run inside the transaction of the change it describes."""
    if action not in READ_ACTIONS and not connection.in_atomic_block:
        raise RuntimeError("audit.record() for a change must run inside the change's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if patient_id is None:
            patient_id = (
                obj.pk
                if obj._meta.label_lower == "patients.patient"
                else getattr(obj, "patient_id", None)
            )
        if clinic_id is None:
            clinic_id = getattr(obj, "clinic_id", None)
        if practice_id is None:
            practice_id = getattr(obj, "practice_id", None)
    ctx = context.current()
    changes = dict(changes or {})
    if ctx.api_token_id is not None:  # acting through an API token: say which one
        changes.setdefault("api_token", [None, ctx.api_token_id])
        summary = f"{summary} [API token #{ctx.api_token_id}]".strip()
    user = actor if actor is not None and getattr(actor, "pk", None) else None
    role = user.role_in(clinic_id) if user is not None and hasattr(user, "role_in") else ""
    # Only a user outside any practice can be a patient: staff skip the portal-account query.
    if (
        user is not None
        and not role
        and getattr(user, "practice_id", None) is None
        and hasattr(user, "portal_account")
    ):
        role = "patient"
    event = AuditEvent(
        actor=user,
        actor_label=(user.get_username() if user is not None else "system")[:150],
        role=role[:120],
        practice_id=practice_id if practice_id is not None else getattr(user, "practice_id", None),
        clinic_id=clinic_id,
        patient_id=patient_id,
        action=action,
        object_type=object_type[:80],
        object_id=str(object_id)[:64],
        outcome=outcome,
        channel=ctx.channel,
        source_ip=ctx.source_ip,
        request_id=ctx.request_id,
        summary=summary[:300],
        changes={k: [_plain(v) for v in pair] for k, pair in changes.items()},
    )
    # Chained to its practice's previous row; a read outside a transaction gets its own.
    # A read's row outside any transaction gets its own, committed without waiting for the
    # WAL flush on PostgreSQL (chain.append); a change's row shares the change's transaction.
    chain.append([event], reads_only=action in READ_ACTIONS)
    return event


def append_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Bulk rows (imports): chained like record()'s, one lock and one insert per batch."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.append_many() must run inside the change's transaction")
    return chain.append(events)


READ_ACTIONS = frozenset(
    {
        "view",
        "search",
        "export",
        "login",
        "logout",
        "login_failed",
        "lockout",
        "access",
        "rate_limited",
    }
)
