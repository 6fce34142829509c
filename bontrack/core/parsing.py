"""The one strict parser for text that arrives from outside (forms, query strings, the API, CSV).

Every function takes text (or an already typed value) and returns the typed value or raises
``ParseError`` whose message is a plain sentence for the person who typed it. Rules:

- integers: ASCII digits only, an optional sign, at most ``max_digits`` digits (18 for ids);
  no Unicode digits (``٣``, ``²``), no underscores (``1_000``), no spaces inside;
- decimals: ASCII ``[sign]digits[.digits]``; bounded digits before and after the point;
  no ``NaN``, ``Infinity`` or exponent;
- dates: ``YYYY-MM-DD`` only, between 1900-01-01 and 2100-12-31 unless the field is tighter;
- datetimes: ISO 8601 text (``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` with an optional ``Z`` or
  ``±HH:MM`` offset), never a number, with the same date bounds;
- free text: no control characters (C0 except tab and line breaks in multi-line fields, C1)
  and no bidirectional overrides, isolates or marks; single-line fields refuse line breaks.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)
ID_DIGITS = 18
TEXT_MAX = 20_000  # a free-text field without its own bound

_INT = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?\Z"
)
# Bidirectional embeddings/overrides, isolates and marks: they reorder what a reader sees.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]"
)
_LINE_BREAKS = re.compile("[\t\n\r]")


class ParseError(ValueError):
    """Input that is not acceptable; ``str(exc)`` is a plain sentence."""


def _text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ParseError(f"Enter {what}.")
    return str(value).strip()


def parse_int(
    value: Any,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
    max_digits: int = ID_DIGITS,
) -> int:
    """A whole number written with ASCII digits (at most ``max_digits`` of them)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
        if len(str(abs(number))) > max_digits:
            raise ParseError(f"Enter a whole number of at most {max_digits} digits.")
    else:
        text = _text(value, "a whole number")
        if not _INT.match(text):
            raise ParseError("Enter a whole number using the digits 0-9.")
        if len(text.lstrip("+-")) > max_digits:
            raise ParseError(f"Enter a whole number of at most {max_digits} digits.")
        number = int(text)
    _bounds(number, min_value, max_value)
    return number


def parse_decimal(
    value: Any,
    *,
    min_value: Decimal | int | None = None,
    max_value: Decimal | int | None = None,
    whole_digits: int = 9,
    decimal_places: int = 6,
) -> Decimal:
    """A decimal number ``[sign]digits[.digits]``: no NaN, Infinity or exponent."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ParseError("Enter a number.")
        value = format(value, "f")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ParseError("Enter a number.")
        value = repr(value)
        if "e" in value or "E" in value:
            raise ParseError("Enter a number without an exponent.")
    text = _text(value, "a number")
    m = _DECIMAL.match(text)
    if not m or not (m.group(2) or m.group(3)):
        raise ParseError("Enter a number such as 12 or 12.5, using the digits 0-9.")
    whole, frac = m.group(2).lstrip("0"), (m.group(3) or "")
    if len(whole) > whole_digits:
        raise ParseError(f"Enter a number of at most {whole_digits} digits before the point.")
    if len(frac.rstrip("0")) > decimal_places:
        raise ParseError(
            "Enter a whole number."
            if decimal_places == 0
            else f"Enter at most {decimal_places} digit(s) after the decimal point."
        )
    number = Decimal(text)
    _bounds(number, min_value, max_value)
    return number


def _bounds(number: Any, min_value: Any, max_value: Any) -> None:
    if min_value is not None and number < min_value:
        raise ParseError(f"Enter a value of at least {min_value}.")
    if max_value is not None and number > max_value:
        raise ParseError(f"Enter a value of at most {max_value}.")


def _date_bounds(day: date, min_value: date | None, max_value: date | None) -> None:
    low, high = min_value or DATE_MIN, max_value or DATE_MAX
    if day < low or day > high:
        raise ParseError(
            f"Enter a date between {low:%Y-%m-%d} and {high:%Y-%m-%d}."
            if (low, high) != (DATE_MIN, DATE_MAX)
            else "Enter a date between 1900 and 2100."
        )


def parse_date(value: Any, *, min_value: date | None = None, max_value: date | None = None) -> date:
    """A calendar date written ``YYYY-MM-DD`` between 1900 and 2100 (or the given bounds)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    else:
        if not isinstance(value, str):
            raise ParseError("Enter a date as YYYY-MM-DD.")
        text = value.strip()
        if not _DATE.match(text):
            raise ParseError("Enter a date as YYYY-MM-DD.")
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise ParseError("This is not a real calendar date.") from exc
    _date_bounds(day, min_value, max_value)
    return day


def parse_datetime(
    value: Any, *, min_value: date | None = None, max_value: date | None = None
) -> datetime:
    """An ISO 8601 date and time (text, never a number); naive unless an offset is given."""
    if isinstance(value, datetime):
        moment = value
    else:
        if not isinstance(value, str):
            raise ParseError("Enter a date and time as YYYY-MM-DDTHH:MM.")
        text = value.strip()
        if not _DATETIME.match(text):
            raise ParseError("Enter a date and time as YYYY-MM-DDTHH:MM.")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ParseError("This is not a real date and time.") from exc
    _date_bounds(moment.date(), min_value, max_value)
    return moment


_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(?::[0-9]{2})?\Z")


def parse_time(value: Any) -> time:
    """A time of day ``HH:MM[:SS]`` (ASCII digits)."""
    if isinstance(value, time):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not _TIME.match(text):
        raise ParseError("Enter a time as HH:MM.")
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise ParseError("This is not a real time of day.") from exc


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as free text, or None when it can."""
    found = _FORBIDDEN.search(value)
    if found is not None:
        if found.group() in BIDI:
            return "Remove the invisible text-direction characters (often pasted from another document)."
        return "Remove the control characters (often pasted from another document)."
    if not multiline and _LINE_BREAKS.search(value):
        return "Keep this on one line (no line breaks or tabs)."
    return None


def check_text(value: str, *, multiline: bool = False, max_length: int | None = None) -> str:
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise ParseError(problem)
    if max_length is not None and len(value) > max_length:
        raise ParseError(f"Enter at most {max_length} characters.")
    return value


def printable(value: str, *, fallback: str = "(unnamed)") -> str:
    """Stored text made safe for consumers that refuse control characters (rule engine, exports):
    line breaks become spaces, other non-printable characters are dropped."""
    out = "".join(
        " " if ch in "\t\n\r\u2028\u2029" else ch
        for ch in value
        if ch.isprintable() or ch in "\t\n\r\u2028\u2029"
    )
    return " ".join(out.split()) or fallback


class BadQuery(ParseError):
    """A query-string parameter that is not acceptable (the view answers 400 or ignores it)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def query_int(
    request: Any, name: str, *, min_value: int = 1, max_digits: int = ID_DIGITS
) -> int | None:
    """An id or count from the query string: None when absent or empty, else a strict integer."""
    raw = request.GET.get(name, "")
    if raw == "":
        return None
    try:
        return parse_int(raw, min_value=min_value, max_digits=max_digits)
    except ParseError as exc:
        raise BadQuery(name, str(exc)) from exc


def query_date(
    request: Any, name: str, *, min_value: date | None = None, max_value: date | None = None
) -> date | None:
    """A date from the query string: None when absent or empty, else a bounded ISO date."""
    raw = request.GET.get(name, "")
    if raw == "":
        return None
    try:
        return parse_date(raw, min_value=min_value, max_value=max_value)
    except ParseError as exc:
        raise BadQuery(name, str(exc)) from exc
