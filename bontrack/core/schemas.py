"""Strict API input types: ISO date strings, bounded strings without NUL bytes, no unknown fields."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("Enter a date as an ISO string, YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("This is not a real calendar date.") from exc


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text cannot contain NUL bytes.")
    return value


def _require_str(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("Enter text (a JSON string).")
    return value.strip()


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):  # pydantic would read 0 as 1970-01-01T00:00:00Z
        raise ValueError("Enter a date and time as an ISO 8601 string with its UTC offset.")
    return value


# An ISO 8601 date-time string (not a number of seconds); timezone required by AwareDatetime.
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]
# The same, timezone checked by the caller (who gives its own message).
IsoDateTimeAny = Annotated[datetime, BeforeValidator(_iso_datetime)]


def Text(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - reads like a type
    return Annotated[
        str,
        BeforeValidator(_require_str),
        Field(min_length=min_length, max_length=max_length),
        AfterValidator(_no_nul),
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
