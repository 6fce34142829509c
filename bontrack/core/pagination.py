"""Keyset (seek) pagination: stable pages whatever the table size, no OFFSET scans."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    pass


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, date) else v for v in values], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("The page cursor is not valid.") from exc
    if not isinstance(values, list) or len(values) != n:
        raise BadCursor("The page cursor is not valid.")
    return values


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def keyset_page(
    qs: QuerySet[Any],
    *,
    fields: tuple[str, ...],
    cursor: str | None,
    size: int,
    descending: bool = False,
) -> Page:
    """Return `size` rows of `qs` ordered by `fields` (the last one unique) after `cursor`."""
    qs = qs.order_by(*(f"-{f}" if descending else f for f in fields))
    op = "lt" if descending else "gt"
    if cursor:
        values = decode_cursor(cursor, len(fields))
        condition = Q()
        for i, field in enumerate(fields):
            step = Q(**{f"{field}__{op}": values[i]})
            for prev_field, prev_value in zip(fields[:i], values[:i], strict=True):
                step &= Q(**{prev_field: prev_value})
            condition |= step
        qs = qs.filter(condition)
    rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, f) for f in fields])
    return Page(items=rows, next_cursor=next_cursor)
