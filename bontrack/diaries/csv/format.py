"""The CSV format: columns, cell parsing (strict), medications and the accepted encodings."""

from __future__ import annotations

import codecs
import operator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bontrack.core.parsing import ParseError, parse_date, parse_decimal, parse_int, text_problem
from bontrack.diaries.choices import MEDICINES, AcuteClass, medicine_key
from bontrack.diaries.models import (
    FEATURES,
)

COLUMNS = [
    "mrn",
    "date",
    "headache",
    "hours",
    "severity",
    *FEATURES,
    "aura_minutes",
    "medications",
    "triptan_or_ergot_relief",
    "note",
    "source",
]
REQUIRED = {"date", "headache"}
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f", ""}
_LABEL_KEYS = {v[0].casefold(): k for k, v in MEDICINES.items()}


def _bool(value: str) -> bool | None:
    v = value.strip().casefold()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    return None


# ---- parsing -----------------------------------------------------------------------------------


class RowError(Exception):
    pass


def parse_medications(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    if not text.strip():
        return out
    for raw in text.split(";"):
        token = raw.strip()
        if not token:
            continue
        doses = 1
        if ":" in token:
            token, _, n = token.rpartition(":")
            try:
                doses = parse_int(n, min_value=1, max_value=50, max_digits=2)
            except ParseError as exc:
                raise RowError(f"medications: doses of {token[:40]!r} must be 1 to 50") from exc
        if "@" in token:
            name, _, cls = token.partition("@")
            name, cls = name.strip(), cls.strip()
            if cls not in AcuteClass.values:
                raise RowError(f"medications: unknown class {cls!r}")
            if not name or len(name) > 100:
                raise RowError("medications: a name of 1 to 100 characters is needed")
            if text_problem(name):
                raise RowError(f"medications: {text_problem(name)}")
            out.append((name, cls, doses))
            continue
        key = medicine_key(token) or _LABEL_KEYS.get(token.strip().casefold())
        if key is None:
            raise RowError(
                f"medications: {token[:40]!r} is not on the medicine list (use name@class)"
            )
        label, cls = MEDICINES[key]
        out.append((label, str(cls), doses))
    if len(out) > 20:
        raise RowError("medications: at most 20 a day")
    return out


_BOOLS = dict.fromkeys(TRUE, True) | dict.fromkeys(FALSE, False)
_HOURS: dict[str, Decimal] = {}
_Q = Decimal("0.1")
_H0, _H24 = Decimal(0), Decimal(24)
_FEATURE_AURA = FEATURES.index("aura")


def _b(value: str) -> bool | None:
    b = _BOOLS.get(value)
    return b if b is not None else _BOOLS.get(value.strip().casefold())


def _unquote(cell: str) -> str:
    """Undo the export's formula neutralisation (``'=...`` back to ``=...``)."""
    if cell.startswith("'") and cell[1:2] and cell[1:2] in "=+-@\t\r":
        return cell[1:]
    return cell


class RowParser:
    """Parses rows of one file (column positions resolved once; hot loop for big imports).

    Mirrors services.validate_day (the same consistency rules as clinic_rules' diary-day
    schema) on CSV text."""

    MEMO_MAX = 50_000

    def __init__(self, idx: dict[str, int], today: date) -> None:
        self.width = max(idx.values(), default=-1) + 1
        # A missing column reads the empty cell appended to every row (index -1).
        self.i = {c: idx.get(c, -1) for c in COLUMNS}
        self.feats = [self.i[f] for f in FEATURES]
        self.today = today
        # The day's values depend only on the cells other than mrn and date, and diaries
        # repeat (most rows are one of a few dozen shapes): parse each shape once. The
        # cached values and medicine lists are shared between rows; nobody mutates them.
        others = [self.i[c] for c in COLUMNS if c not in ("mrn", "date", "source")]
        self.key = operator.itemgetter(*others)
        self.memo: dict[tuple[str, ...], tuple[tuple[Any, ...], list[tuple[str, str, int]]]] = {}

    def __call__(self, row: list[str]) -> tuple[date, tuple[Any, ...], list[tuple[str, str, int]]]:
        if len(row) != self.width:
            row = (row + [""] * self.width)[: self.width]
        row.append("")
        i = self.i
        try:
            day = parse_date(row[i["date"]])
        except ParseError as exc:
            message = "use YYYY-MM-DD" if "YYYY" in str(exc) else str(exc)
            raise RowError(f"date: {message}") from exc
        if day > self.today:
            raise RowError("date: a diary day cannot be in the future")
        key = self.key(row)
        hit = self.memo.get(key)
        if hit is not None:
            return day, hit[0], hit[1]
        values, meds = self.values(row)
        if len(self.memo) < self.MEMO_MAX:
            self.memo[key] = (values, meds)
        return day, values, meds

    def values(self, row: list[str]) -> tuple[tuple[Any, ...], list[tuple[str, str, int]]]:
        i = self.i
        raw_h = row[i["headache"]]
        headache = _b(raw_h)
        if headache is None or not raw_h.strip():
            raise RowError("headache: 1/0, yes/no or true/false")
        hours_raw = row[i["hours"]]
        hours: Decimal | None = None
        if hours_raw:
            hours = _HOURS.get(hours_raw)
            if hours is None:
                try:
                    hours = parse_decimal(
                        hours_raw, min_value=_H0, max_value=_H24, whole_digits=2
                    ).quantize(_Q)
                except ParseError as exc:
                    raise RowError("hours: a number from 0 to 24") from exc
                if len(_HOURS) < 1000:
                    _HOURS[hours_raw] = hours
        sev_raw = row[i["severity"]].strip() or "0"
        if sev_raw not in ("0", "1", "2", "3"):
            raise RowError("severity: 0 none, 1 mild, 2 moderate, 3 severe")
        severity = int(sev_raw)
        feats = []
        for k, fi in enumerate(self.feats):
            v = _b(row[fi])
            if v is None:
                raise RowError(f"{FEATURES[k]}: 1/0, yes/no or true/false")
            feats.append(v)
        aura_raw = row[i["aura_minutes"]].strip()
        aura_minutes = None
        if aura_raw:
            try:
                aura_minutes = parse_int(aura_raw, min_value=0, max_value=1440, max_digits=4)
            except ParseError as exc:
                raise RowError("aura_minutes: whole minutes, 0 to 1440") from exc
            if not feats[_FEATURE_AURA]:
                raise RowError("aura_minutes: given without aura")
        med_raw = _unquote(row[i["medications"]])
        meds = parse_medications(med_raw) if med_raw else []
        relief = _b(row[i["triptan_or_ergot_relief"]])
        if relief is None:
            raise RowError("triptan_or_ergot_relief: 1/0, yes/no or true/false")
        if relief and not {m[1] for m in meds} & {"triptan", "ergot"}:
            raise RowError("triptan_or_ergot_relief: needs a triptan or ergot in medications")
        if headache:
            if severity == 0:
                raise RowError("severity: a headache day needs severity 1-3")
        else:
            if hours or severity:
                raise RowError("headache: a headache-free day cannot have hours or severity")
            if True in feats:
                raise RowError("headache: features are only for a day with headache")
            hours = None
        note = row[i["note"]]
        if note:
            note = _unquote(note.strip())
            if len(note) > 500:
                raise RowError("note: at most 500 characters")
            problem = text_problem(note, multiline=True)
            if problem:
                raise RowError(f"note: {problem}")
        return (headache, hours, severity, *feats, aura_minutes, relief, note), meds


def parse_row(
    row: list[str], idx: dict[str, int], today: date
) -> tuple[date, tuple[Any, ...], list[tuple[str, str, int]]]:
    return RowParser(idx, today)(list(row))


DAY_COLUMNS = [
    "headache",
    "hours",
    "severity",
    *FEATURES,
    "aura_minutes",
    "triptan_or_ergot_relief",
    "note",
]


NOT_UTF8 = (
    "The file is not UTF-8 text (it may be Latin-1 or Windows-1252): "
    'save it as "CSV UTF-8" and import it again.'
)
UTF16 = 'The file is UTF-16 text: save it as "CSV UTF-8" and import it again.'


def _encoding_problem(path: Path) -> str | None:
    """UTF-8 with or without BOM is accepted; anything else is named and refused."""
    with path.open("rb") as fh:
        head = fh.read(4096)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
            return UTF16
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return NOT_UTF8
    return None
