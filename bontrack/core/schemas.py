"""Strict API input types (``core.parsing`` rules): ISO dates and date-times as strings within
1900-2100, bounded integers and decimals, free text without control or bidirectional-override
characters, no unknown fields."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

from bontrack.core import parsing

# Text bounded at this length or more may hold line breaks (notes, reasons); shorter is one line.
MULTILINE_FROM = 300


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime) or not isinstance(value, str | date):
        raise ValueError("Enter a date as an ISO string, YYYY-MM-DD.")
    try:
        return parsing.parse_date(value)
    except parsing.ParseError as exc:
        raise ValueError(str(exc).replace("YYYY-MM-DD", "an ISO string, YYYY-MM-DD")) from exc


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value
    elif not isinstance(value, str):
        raise ValueError("Enter a date and time as an ISO 8601 string with its offset.")
    else:
        try:
            moment = parsing.parse_datetime(value)
        except parsing.ParseError as exc:
            raise ValueError(str(exc)) from exc
    if moment.tzinfo is None:
        raise ValueError("Give the time zone offset, for example 2026-06-02T10:00:00Z.")
    parsing.parse_date(moment.date())
    return moment


def _strict_int(max_digits: int) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, bool | float):
            raise ValueError("Enter a whole number.")
        try:
            return parsing.parse_int(value, max_digits=max_digits)
        except parsing.ParseError as exc:
            raise ValueError(str(exc)) from exc

    return check


def _strict_decimal(whole_digits: int, decimal_places: int) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            return parsing.parse_decimal(
                value, whole_digits=whole_digits, decimal_places=decimal_places
            )
        except parsing.ParseError as exc:
            raise ValueError(str(exc)) from exc

    return check


def _free_text(multiline: bool) -> Any:
    def check(value: str) -> str:
        problem = parsing.text_problem(value, multiline=multiline)
        if problem:
            raise ValueError(problem)
        return value

    return check


def _require_str(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("Enter text (a JSON string).")
    return value.strip()


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
"""An aware date-time as an ISO 8601 string (``2026-06-02T10:00:00Z``); numbers such as 0 refused."""


def Integer(  # noqa: N802 - reads like a type
    ge: int | None = None, le: int | None = None, *, max_digits: int = parsing.ID_DIGITS
) -> Any:
    """A whole number (JSON number, or ASCII digits in a query string), at most ``max_digits``."""
    return Annotated[int, BeforeValidator(_strict_int(max_digits)), Field(ge=ge, le=le)]


Id = Integer(ge=1)
MAX_ID = 10**parsing.ID_DIGITS - 1
Dec = Annotated[Decimal, BeforeValidator(_strict_decimal(9, 6))]
"""A decimal input (JSON number or ASCII text); bound it further with ``Field(...)``."""


def Number(  # noqa: N802 - reads like a type
    *,
    ge: Any = None,
    gt: Any = None,
    le: Any = None,
    whole_digits: int = 6,
    decimal_places: int = 2,
) -> Any:
    """A decimal (JSON number or text ``12.5``); no NaN, Infinity or exponent; bounded digits."""
    return Annotated[
        Decimal,
        BeforeValidator(_strict_decimal(whole_digits, decimal_places)),
        Field(ge=ge, gt=gt, le=le),
    ]


def Text(  # noqa: N802 - reads like a type
    max_length: int, min_length: int = 0, *, multiline: bool | None = None
) -> Any:
    """Bounded, stripped text without control or bidi characters; one line below 300 characters
    unless ``multiline`` says otherwise."""
    lines = max_length >= MULTILINE_FROM if multiline is None else multiline
    return Annotated[
        str,
        BeforeValidator(_require_str),
        Field(min_length=min_length, max_length=max_length),
        AfterValidator(_free_text(lines)),
    ]


def _email(value: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if value:
        try:
            validate_email(value)
        except ValidationError as exc:
            raise ValueError("Enter a valid email address.") from exc
    return value


Name = Text(100, 1)
Email = Annotated[Text(254), AfterValidator(_email)]
OptionalText100 = Text(100)
Bool = StrictBool
Int = StrictInt


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
