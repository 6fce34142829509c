"""The hash chain of the audit trail: one chain per practice (chain 0 holds rows with no practice).

Each row carries `seq` (1, 2, ... within its chain), `prev_hash` (the previous row's `hash`; 64 zeros
for the first row) and `hash` = SHA-256 over the canonical JSON of its fields (including `seq` and
`prev_hash`). Appends lock the chain's head row, so concurrent writers serialise per practice.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from bontrack.audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "prev_hash",
    "occurred_at",
    "actor_id",
    "actor_label",
    "role",
    "practice_id",
    "clinic_id",
    "patient_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "channel",
    "source_ip",
    "request_id",
    "summary",
    "changes",
)


def chain_key(practice_id: int | None) -> int:
    return practice_id or 0


def _plain_json(value: Any) -> Any:
    """What the database gives back for a JSON value, independent of the backend (jsonb or text)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e300:
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    return value


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).exploded
    except ValueError:
        return str(value)


def canonical(values: dict[str, Any]) -> str:
    """Canonical JSON of a row (sorted keys, no spaces, UTC times with microseconds)."""
    occurred: datetime = values["occurred_at"]
    doc = {
        **{f: values[f] for f in HASHED_FIELDS},
        "occurred_at": occurred.astimezone(UTC).isoformat(timespec="microseconds"),
        "source_ip": _ip(values["source_ip"]),
        "changes": _plain_json(values["changes"] or {}),
    }
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def row_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(values).encode()).hexdigest()


def event_values(event: AuditEvent) -> dict[str, Any]:
    return {f: getattr(event, f) for f in HASHED_FIELDS}


def _lock_heads(keys: Iterable[int], *, relaxed_commit: bool = False) -> dict[int, AuditChainHead]:
    """Create-or-lock the heads of these chains in ONE statement, in key order (two writers never
    wait on each other crosswise). The no-op DO UPDATE takes the row lock on PostgreSQL, like
    SELECT ... FOR UPDATE, and also works for a chain's first row; SQLite's write transaction is
    already exclusive (IMMEDIATE)."""
    wanted = sorted(set(keys))
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    values = ", ".join(["(%s, 0, %s)"] * len(wanted))
    params: list[Any] = []
    for key in wanted:
        params += [key, GENESIS]
    if relaxed_commit:
        # This transaction (reads' audit rows only) commits without waiting for the WAL flush;
        # set in the lock statement itself, so it costs no round trip.
        source = " UNION ALL ".join(
            ["SELECT %s, 0, %s FROM (SELECT set_config('synchronous_commit', 'off', true)) s"]
            * len(wanted)
        )
    else:
        source = f"VALUES {values}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (chain, seq, hash) {source} "  # noqa: S608 - no user input
            "ON CONFLICT (chain) DO UPDATE SET chain = excluded.chain "
            "RETURNING id, chain, seq, hash, occurred_at",
            params,
        )
        rows = cursor.fetchall()
    heads = {}
    for pk, chain, seq, digest, occurred_at in rows:
        if isinstance(occurred_at, str):  # SQLite's RETURNING gives the stored text
            occurred_at = AuditChainHead._meta.get_field("occurred_at").to_python(occurred_at)
        if occurred_at is not None and timezone.is_naive(occurred_at):
            occurred_at = timezone.make_aware(occurred_at, UTC)
        heads[chain] = AuditChainHead(
            pk=pk, chain=chain, seq=seq, hash=digest, occurred_at=occurred_at
        )
    return heads


def ensure_head(key: int) -> None:
    """Create a chain's head row if it has none (no lock taken on an existing head)."""
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(chain=key, seq=0, hash=GENESIS)], ignore_conflicts=True
    )


def append(events: list[AuditEvent], *, reads_only: bool = False) -> list[AuditEvent]:
    """Chain and insert unsaved events, in order. Queries: 1 lock (all chains at once), 1 insert
    (per 2000 rows), 1 head update per chain; on PostgreSQL one event's insert and head update
    are one statement. Runs in the caller's transaction or in its own.

    `reads_only` (events of reads, in their own transaction): on PostgreSQL that transaction
    commits without waiting for the WAL flush (``synchronous_commit`` off for it alone, unless
    AUDIT_READS_SYNCHRONOUS_COMMIT): the chain head's lock is then held for less than a
    millisecond instead of a disk flush, which bounded a practice's reads per second. A changed
    row's audit event, written in the change's transaction, is never affected. See
    docs/performance.md for what a database crash may lose."""
    if not events:
        return events
    if len(events) == 1 and connection.vendor == "postgresql":
        relaxed = reads_only and not connection.in_atomic_block and _relax_read_commits()
        if _append_in_one_statement(events[0], relaxed_commit=relaxed):
            return events
    if connection.in_atomic_block:
        return _append(events)
    with transaction.atomic():
        return _append(events, relaxed_commit=reads_only and _relax_read_commits())


def _relax_read_commits() -> bool:
    from django.conf import settings

    return connection.vendor == "postgresql" and not getattr(
        settings, "AUDIT_READS_SYNCHRONOUS_COMMIT", False
    )


def _append(events: list[AuditEvent], *, relaxed_commit: bool = False) -> list[AuditEvent]:
    heads = _lock_heads((chain_key(e.practice_id) for e in events), relaxed_commit=relaxed_commit)
    now = timezone.now()
    touched: set[int] = set()
    for event in events:
        head = heads[chain_key(event.practice_id)]
        # Never earlier than its predecessor: a writer that waited for the lock keeps the order.
        event.occurred_at = max(now, head.occurred_at) if head.occurred_at else now
        event.changes = json.loads(json.dumps(event.changes or {}, cls=DjangoJSONEncoder))
        event.seq = head.seq + 1
        event.prev_hash = head.hash
        event.hash = row_hash(event_values(event))
        head.seq, head.hash, head.occurred_at = event.seq, event.hash, event.occurred_at
        touched.add(head.chain)
    if len(events) == 1 and connection.vendor == "postgresql":
        _insert_and_move_head(events[0], heads[chain_key(events[0].practice_id)])
        return events
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        AuditEvent.objects.bulk_create(events, batch_size=2000)
    for key in touched:
        head = heads[key]
        AuditChainHead.objects.filter(pk=head.pk).update(
            seq=head.seq, hash=head.hash, occurred_at=head.occurred_at
        )
    return events


def _insert_and_move_head(event: AuditEvent, head: AuditChainHead) -> None:
    """PostgreSQL: the event's INSERT and its chain head's UPDATE in one statement (one round
    trip instead of two; same rows, same transaction)."""
    from django.db.models.sql import InsertQuery

    fields = [f for f in AuditEvent._meta.local_concrete_fields if not f.primary_key]
    query = InsertQuery(AuditEvent)
    query.insert_values(fields, [event])
    ((insert_sql, insert_params),) = query.get_compiler(connection=connection).as_sql()
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ev AS ({insert_sql} RETURNING id) "  # noqa: S608 - no user input
            f"UPDATE {table} SET seq = %s, hash = %s, occurred_at = %s WHERE id = %s "
            "RETURNING (SELECT id FROM ev)",
            [*insert_params, head.seq, head.hash, head.occurred_at, head.pk],
        )
        row = cursor.fetchone()
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias


# Placeholders of the three values only the locked chain head decides (a JSON string each, so
# that json.dumps escapes their control character: user text cannot produce them unescaped
# unless it is exactly the placeholder, which _split_canonical detects).
_MARK_OCCURRED = "\x01occurred_at"
_MARK_PREV = "\x01prev_hash"
_MARK_SEQ = "\x01seq"


def _split_canonical(event: AuditEvent) -> list[str] | None:
    """The event's canonical JSON cut around its occurred_at, prev_hash and seq values (in the
    canonical key order), or None when a placeholder is not found exactly once."""
    values = event_values(event)
    doc = {
        **{f: values[f] for f in HASHED_FIELDS},
        "occurred_at": _MARK_OCCURRED,
        "prev_hash": _MARK_PREV,
        "seq": _MARK_SEQ,
        "source_ip": _ip(values["source_ip"]),
        "changes": _plain_json(values["changes"] or {}),
    }
    text = json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    marks = [json.dumps(m) for m in (_MARK_OCCURRED, _MARK_PREV, _MARK_SEQ)]
    if any(text.count(m) != 1 for m in marks):
        return None
    # Keys sort as occurred_at < prev_hash < seq.
    head, rest = text.split(marks[0])
    middle, rest = rest.split(marks[1])
    between, tail = rest.split(marks[2])
    return [head, middle, between, tail]


def _append_in_one_statement(event: AuditEvent, *, relaxed_commit: bool) -> bool:
    """PostgreSQL, one event: lock the chain head, chain the event (its seq, prev_hash, time and
    SHA-256 computed by the database over the same canonical JSON as row_hash), insert it and move
    the head, in ONE statement (one round trip; in autocommit it is its own transaction, and the
    head's lock is held only while the statement runs). False (nothing written) when the chain has
    no head yet or the canonical text cannot be cut; append() then takes the general path."""
    event.changes = json.loads(json.dumps(event.changes or {}, cls=DjangoJSONEncoder))
    parts = _split_canonical(event)
    if parts is None:
        return False
    from django.db.models.sql import InsertQuery

    now = timezone.now()
    fields = [
        f
        for f in AuditEvent._meta.local_concrete_fields
        if not f.primary_key and f.name not in ("seq", "prev_hash", "hash", "occurred_at")
    ]
    query = InsertQuery(AuditEvent)
    query.insert_values(fields, [event])
    compiler = query.get_compiler(connection=connection)
    ((insert_sql, insert_params),) = compiler.as_sql()
    # "INSERT INTO t (cols) VALUES (...)" -> the same columns, the chained ones appended.
    cols_sql, values_sql = insert_sql.split(" VALUES ", 1)
    qn = connection.ops.quote_name
    cols_sql = (
        cols_sql[:-1]
        + ", "
        + ", ".join(qn(c) for c in ("seq", "prev_hash", "hash", "occurred_at"))
        + ")"
    )
    head_table = qn(AuditChainHead._meta.db_table)
    relax = ", (SELECT set_config('synchronous_commit', 'off', true)) s" if relaxed_commit else ""
    sql = (
        f"WITH h AS (SELECT id, seq, hash, occurred_at FROM {head_table} "  # noqa: S608 - no user input
        "WHERE chain = %s FOR UPDATE), "
        "v AS (SELECT h.id AS head_id, h.seq + 1 AS seq, h.hash AS prev_hash, "
        "GREATEST(%s::timestamptz, COALESCE(h.occurred_at, %s::timestamptz)) AS occurred_at "
        f"FROM h{relax}), "
        "c AS (SELECT v.*, encode(sha256(convert_to(%s || '\"' || "
        "to_char(v.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || "
        "'+00:00\"' || %s || '\"' || v.prev_hash || '\"' || %s || v.seq::text || %s, "
        "'UTF8')), 'hex') AS hash FROM v), "
        f"ev AS ({cols_sql} SELECT {values_sql[1:-1]}, c.seq, c.prev_hash, c.hash, c.occurred_at "
        "FROM c RETURNING id) "
        f"UPDATE {head_table} SET seq = c.seq, hash = c.hash, occurred_at = c.occurred_at "
        "FROM c WHERE {head_table}.id = c.head_id "
        "RETURNING (SELECT id FROM ev), c.seq, c.prev_hash, c.hash, c.occurred_at"
    ).replace("{head_table}", head_table)
    params: list[Any] = [
        chain_key(event.practice_id),
        now,
        now,
        parts[0],
        parts[1],
        parts[2],
        parts[3],
    ]
    # The INSERT's own values come after the CTEs' parameters in the text.
    params = params[:7] + list(insert_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk, event.seq, event.prev_hash, event.hash, event.occurred_at = row
    event._state.adding = False
    event._state.db = connection.alias
    return True
