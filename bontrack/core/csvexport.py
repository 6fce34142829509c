"""The one CSV writer for every export: spreadsheet formulas are neutralised.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would run as a
formula when the file is opened in a spreadsheet (``=HYPERLINK(...)``, ``@SUM(...)``); such a cell
is written with a leading single quote. Numbers that the export itself writes as numbers (int,
Decimal, float values, e.g. a negative amount in a numeric column) stay numeric: only ``str``
cells, which may hold what someone typed, are prefixed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` with every text cell passed through ``safe_cell``."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lineterminator", "\n")
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: Any, **kwargs: Any) -> SafeWriter:
    return SafeWriter(stream, **kwargs)
