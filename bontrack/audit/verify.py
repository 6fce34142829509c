"""Walk every audit chain and name the first break of each (one streamed query per chain)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from bontrack.audit.chain import GENESIS, HASHED_FIELDS, chain_key, row_hash
from bontrack.audit.models import AuditChainHead, AuditEvent


class _Row:
    """One streamed row (plain values: no model instance per row)."""

    __slots__ = ("hash", "occurred_at", "pk", "prev_hash", "seq", "values")

    def __init__(self, values: dict[str, object]) -> None:
        self.values = values
        self.pk = values["id"]
        self.seq = values["seq"]
        self.hash = values["hash"]
        self.prev_hash = values["prev_hash"]
        self.occurred_at = values["occurred_at"]


@dataclass(frozen=True)
class ChainReport:
    chain: int  # the practice id; 0 for rows with no practice
    rows: int
    last_seq: int
    last_hash: str
    problem: str = ""  # "" when intact
    kind: str = ""  # forged | missing | inserted
    event_id: int | None = None  # the row where the break shows
    seq: int | None = None

    @property
    def label(self) -> str:
        return f"practice {self.chain}" if self.chain else "no practice (system)"

    @property
    def ok(self) -> bool:
        return not self.problem


def _chains() -> dict[int, AuditChainHead | None]:
    """Every chain: its recorded head (one query) and the practices that have rows (one query)."""
    heads: dict[int, AuditChainHead | None] = {h.chain: h for h in AuditChainHead.objects.all()}
    for practice_id in AuditEvent.objects.values_list("practice_id", flat=True).distinct():
        heads.setdefault(chain_key(practice_id), None)
    return dict(sorted(heads.items()))


def verify_chain(key: int, head: AuditChainHead | None = None) -> ChainReport:
    rows = AuditEvent.objects.filter(
        **({"practice_id": key} if key else {"practice__isnull": True})
    ).order_by("seq", "id")
    count, prev_seq, prev_hash, prev_at = 0, 0, GENESIS, None

    def broken(kind: str, problem: str, event: _Row | None) -> ChainReport:
        return ChainReport(
            key,
            count,
            prev_seq,
            prev_hash,
            problem=problem,
            kind=kind,
            event_id=event.pk if event else None,
            seq=event.seq if event else None,
        )

    last: _Row | None = None
    columns = ("id", "hash", *HASHED_FIELDS)
    for values in rows.values_list(*columns).iterator(chunk_size=5000):
        event = _Row(dict(zip(columns, values, strict=True)))
        count += 1
        if event.seq != prev_seq + 1:
            if event.seq <= prev_seq:
                return broken(
                    "inserted",
                    f"event {event.pk} repeats position {event.seq} (inserted)",
                    event,
                )
            gap = (
                f"{prev_seq + 1}"
                if event.seq == prev_seq + 2
                else f"{prev_seq + 1}-{event.seq - 1}"
            )
            return broken(
                "missing",
                f"position {gap} is missing before event {event.pk} (deleted)",
                event,
            )
        if event.prev_hash != prev_hash:
            return broken(
                "inserted",
                f"event {event.pk} (position {event.seq}) does not follow its predecessor (inserted)",
                event,
            )
        if prev_at is not None and event.occurred_at < prev_at:
            return broken(
                "inserted",
                f"event {event.pk} (position {event.seq}) is dated before its predecessor "
                "(back-dated insert)",
                event,
            )
        if row_hash(event.values) != event.hash:
            return broken(
                "forged",
                f"event {event.pk} (position {event.seq}) does not match its hash (forged)",
                event,
            )
        prev_seq, prev_hash, prev_at, last = event.seq, event.hash, event.occurred_at, event
    if head is None and count:
        return broken(
            "inserted",
            "the chain has no recorded head (rows written outside the application)",
            last,
        )
    if head is not None and head.seq > prev_seq:
        return broken(
            "missing",
            f"positions {prev_seq + 1}-{head.seq} at the end of the chain are missing (deleted)",
            None,
        )
    if head is not None and head.seq == prev_seq and head.hash != prev_hash:
        return broken(
            "forged",
            f"the last event {last.pk if last else '-'} (position {prev_seq}) does not match "
            "the recorded head of the chain (forged)",
            last,
        )
    if head is not None and head.seq < prev_seq:
        return broken(
            "inserted",
            f"the chain ends at position {prev_seq}, beyond its recorded head {head.seq} "
            "(rows appended outside the application)",
            None,
        )
    return ChainReport(key, count, prev_seq, prev_hash)


def verify_all() -> list[ChainReport]:
    return [verify_chain(key, head) for key, head in _chains().items()]


GUARDS = {
    "postgresql": {"audit_event_no_update", "audit_event_no_truncate"},
    "sqlite": {"audit_event_no_update", "audit_event_no_delete"},
}


def missing_guards() -> list[str]:
    """The append-only triggers that are absent or disabled (an attacker may forget to restore them;
    a migration that rebuilds the table on SQLite drops them)."""
    expected = GUARDS.get(connection.vendor, set())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass"
                " AND NOT tgisinternal AND tgenabled IN ('O', 'A')"
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name = 'audit_auditevent'"
            )
        else:
            return []
        present = {row[0] for row in cursor.fetchall()}
    return sorted(expected - present)
