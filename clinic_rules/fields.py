"""Typed field specs: strict validation of parsed JSON into frozen dataclasses.

A spec parses a value at a dotted path, records every problem in a shared ``errors`` dict
(path -> messages) and returns either the converted value or ``INVALID``. Parsing continues
after an error so that one call reports all field errors. ``schema()`` gives the
JSON-Schema-like description used by ``contract.list_rules()``.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Generic, TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

Errors = dict[str, list[str]]
MAX_STRING: Final = 200
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
)


class Invalid:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = Invalid()


def join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def add_error(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path or "$", []).append(message)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


class Spec(Generic[T]):
    def parse(self, value: object, path: str, errors: Errors) -> T | Invalid:
        raise NotImplementedError

    def schema(self) -> dict[str, object]:
        raise NotImplementedError

    def _wrong(self, expected: str, value: object, path: str, errors: Errors) -> Invalid:
        add_error(errors, path, f"expected {expected}, got {_type_name(value)}")
        return INVALID


class Str(Spec[str]):
    def __init__(self, *, max_length: int = MAX_STRING, pattern: str | None = None) -> None:
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None

    def parse(self, value: object, path: str, errors: Errors) -> str | Invalid:
        if not isinstance(value, str):
            return self._wrong("string", value, path, errors)
        if not value.strip():
            add_error(errors, path, "must not be empty")
        elif len(value) > self.max_length:
            add_error(errors, path, f"longer than {self.max_length} characters")
        elif "\x00" in value or not value.isprintable():
            add_error(errors, path, "contains control characters")
        elif self.pattern and not self.pattern.match(value):
            add_error(errors, path, f"does not match {self.pattern.pattern}")
        else:
            return value
        return INVALID

    def schema(self) -> dict[str, object]:
        out: dict[str, object] = {"type": "string", "minLength": 1, "maxLength": self.max_length}
        if self.pattern:
            out["pattern"] = self.pattern.pattern
        return out


class Choice(Spec[E]):
    def __init__(self, enum_cls: type[E], allowed: tuple[E, ...] | None = None) -> None:
        self.members: dict[object, E] = {m.value: m for m in (allowed or tuple(enum_cls))}

    def parse(self, value: object, path: str, errors: Errors) -> E | Invalid:
        if isinstance(value, str) and value in self.members:
            return self.members[value]
        if not isinstance(value, str):
            return self._wrong("string", value, path, errors)
        shown = value if len(value) <= 40 else value[:40] + "..."
        add_error(errors, path, f"unknown value {shown!r}; expected one of {list(self.members)}")
        return INVALID

    def schema(self) -> dict[str, object]:
        return {"type": "string", "enum": list(self.members)}


class Word(Spec[str]):
    """A string from a fixed vocabulary that is not an enum (e.g. muscle codes)."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = frozenset(allowed)
        self.ordered = allowed

    def parse(self, value: object, path: str, errors: Errors) -> str | Invalid:
        if isinstance(value, str) and value in self.allowed:
            return value
        if not isinstance(value, str):
            return self._wrong("string", value, path, errors)
        add_error(errors, path, "unknown code")
        return INVALID

    def schema(self) -> dict[str, object]:
        return {"type": "string", "enum": list(self.ordered)}


class IntChoice(Spec[int]):
    def __init__(self, *allowed: int) -> None:
        self.allowed = allowed

    def parse(self, value: object, path: str, errors: Errors) -> int | Invalid:
        if isinstance(value, int) and not isinstance(value, bool) and value in self.allowed:
            return value
        add_error(errors, path, f"expected one of {list(self.allowed)}")
        return INVALID

    def schema(self) -> dict[str, object]:
        return {"type": "integer", "enum": list(self.allowed)}


class Num(Spec[float]):
    """A finite JSON number (booleans rejected)."""

    def __init__(
        self,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: float | None = None,
        integer: bool = False,
    ) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.exclusive_minimum = exclusive_minimum
        self.integer = integer

    def _check(self, value: object, path: str, errors: Errors) -> float | Invalid:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self._wrong("integer" if self.integer else "number", value, path, errors)
        if not math.isfinite(value):
            add_error(errors, path, "must be a finite number")
        elif self.integer and not isinstance(value, int):
            add_error(errors, path, "expected integer")
        elif self.minimum is not None and value < self.minimum:
            add_error(errors, path, f"must be >= {self.minimum:g}")
        elif self.exclusive_minimum is not None and value <= self.exclusive_minimum:
            add_error(errors, path, f"must be > {self.exclusive_minimum:g}")
        elif self.maximum is not None and value > self.maximum:
            add_error(errors, path, f"must be <= {self.maximum:g}")
        else:
            return float(value)
        return INVALID

    def parse(self, value: object, path: str, errors: Errors) -> float | Invalid:
        return self._check(value, path, errors)

    def schema(self) -> dict[str, object]:
        out: dict[str, object] = {"type": "integer" if self.integer else "number"}
        for key, val in (
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("exclusiveMinimum", self.exclusive_minimum),
        ):
            if val is not None:
                out[key] = val
        return out


class Int(Spec[int]):
    def __init__(self, *, minimum: int | None = None, maximum: int | None = None) -> None:
        self.num = Num(minimum=minimum, maximum=maximum, integer=True)

    def parse(self, value: object, path: str, errors: Errors) -> int | Invalid:
        result = self.num.parse(value, path, errors)
        return result if isinstance(result, Invalid) else int(result)

    def schema(self) -> dict[str, object]:
        return self.num.schema()


class Bool(Spec[bool]):
    def parse(self, value: object, path: str, errors: Errors) -> bool | Invalid:
        if isinstance(value, bool):
            return value
        return self._wrong("boolean", value, path, errors)

    def schema(self) -> dict[str, object]:
        return {"type": "boolean"}


class Date(Spec[date]):
    def parse(self, value: object, path: str, errors: Errors) -> date | Invalid:
        if not isinstance(value, str):
            return self._wrong("ISO date string (YYYY-MM-DD)", value, path, errors)
        if _DATE_RE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        add_error(errors, path, "expected a valid ISO date (YYYY-MM-DD)")
        return INVALID

    def schema(self) -> dict[str, object]:
        return {"type": "string", "format": "date"}


class DateTime(Spec[datetime]):
    """ISO 8601 date-time with an explicit UTC offset (or Z)."""

    def parse(self, value: object, path: str, errors: Errors) -> datetime | Invalid:
        if not isinstance(value, str):
            return self._wrong("ISO date-time string", value, path, errors)
        if _DATETIME_RE.match(value):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        add_error(
            errors,
            path,
            "expected an ISO date-time with UTC offset (e.g. 2024-05-01T09:30:00+02:00)",
        )
        return INVALID

    def schema(self) -> dict[str, object]:
        return {"type": "string", "format": "date-time"}


class ListOf(Spec[tuple[T, ...]]):
    def __init__(
        self,
        item: Spec[T],
        *,
        min_items: int = 0,
        max_items: int = 2000,
        unique_by: Callable[[T], object] | None = None,
        unique_field: str | None = None,
    ) -> None:
        self.item = item
        self.min_items = min_items
        self.max_items = max_items
        self.unique_by = unique_by
        self.unique_field = unique_field

    def parse(self, value: object, path: str, errors: Errors) -> tuple[T, ...] | Invalid:
        if not isinstance(value, list):
            return self._wrong("array", value, path, errors)
        if len(value) < self.min_items:
            add_error(errors, path, f"needs at least {self.min_items} item(s)")
            return INVALID
        if len(value) > self.max_items:
            add_error(errors, path, f"more than {self.max_items} items")
            return INVALID
        out: list[T] = []
        ok = True
        seen: dict[object, int] = {}
        for i, raw in enumerate(value):
            item_path = join(path, i)
            parsed = self.item.parse(raw, item_path, errors)
            if isinstance(parsed, Invalid):
                ok = False
                continue
            if self.unique_by is not None:
                key = self.unique_by(parsed)
                if key in seen:
                    where = join(item_path, self.unique_field) if self.unique_field else item_path
                    add_error(errors, where, f"duplicate of item {seen[key]}")
                    ok = False
                    continue
                seen[key] = i
            out.append(parsed)
        return tuple(out) if ok else INVALID

    def schema(self) -> dict[str, object]:
        out: dict[str, object] = {
            "type": "array",
            "items": self.item.schema(),
            "maxItems": self.max_items,
        }
        if self.min_items:
            out["minItems"] = self.min_items
        if self.unique_by is not None:
            out["uniqueItems"] = True
        return out


@dataclass(frozen=True, slots=True)
class F(Generic[T]):
    """One object field: its spec, whether required, the default, a description."""

    spec: Spec[T]
    required: bool = True
    default: object = None
    doc: str = ""


Check = Callable[[Any, str, Errors], None]


class Obj(Spec[T]):
    """A JSON object with a fixed set of fields (unknown fields rejected)."""

    def __init__(
        self,
        fields: Mapping[str, F[Any]],
        build: Callable[[Mapping[str, Any]], T],
        *,
        check: Check | None = None,
        doc: str = "",
    ) -> None:
        self.fields = fields
        self.build = build
        self.check = check
        self.doc = doc

    def parse(self, value: object, path: str, errors: Errors) -> T | Invalid:
        if not isinstance(value, dict):
            return self._wrong("object", value, path, errors)
        prefix = f"{path}." if path else ""
        ok = True
        if not self.fields.keys() >= value.keys():
            for key in value:
                if key not in self.fields:
                    shown = key if len(key) <= 40 else key[:40] + "..."
                    add_error(errors, prefix + shown, "unknown field")
            ok = False
        values: dict[str, Any] = {}
        for name, fld in self.fields.items():
            if name in value:
                parsed = fld.spec.parse(value[name], prefix + name, errors)
                if parsed is INVALID:
                    ok = False
                else:
                    values[name] = parsed
            elif fld.required:
                add_error(errors, prefix + name, "required")
                ok = False
            else:
                values[name] = fld.default
        if not ok:
            return INVALID
        if self.check is None:
            return self.build(values)
        before = sum(len(v) for v in errors.values())
        result = self.build(values)
        self.check(result, path, errors)
        if sum(len(v) for v in errors.values()) > before:
            return INVALID
        return result

    def schema(self) -> dict[str, object]:
        props: dict[str, object] = {}
        for name, fld in self.fields.items():
            sub = dict(fld.spec.schema())
            if fld.doc:
                sub["description"] = fld.doc
            if (
                not fld.required
                and fld.default is not None
                and not isinstance(fld.default, tuple | frozenset)
            ):
                sub["default"] = (
                    fld.default.value if isinstance(fld.default, enum.Enum) else fld.default
                )
            props[name] = sub
        out: dict[str, object] = {
            "type": "object",
            "properties": props,
            "required": [n for n, f in self.fields.items() if f.required],
            "additionalProperties": False,
        }
        if self.doc:
            out["description"] = self.doc
        return out


class Select(Spec[T]):
    """Chooses one variant by inspecting the raw object (a discriminated union)."""

    def __init__(
        self,
        choose: Callable[[dict[str, object]], str | None],
        variants: Mapping[str, Spec[T]],
        hint: str,
    ) -> None:
        self.choose = choose
        self.variants = variants
        self.hint = hint

    def parse(self, value: object, path: str, errors: Errors) -> T | Invalid:
        if not isinstance(value, dict):
            return self._wrong("object", value, path, errors)
        key = self.choose(value)
        if key is None:
            add_error(errors, path, self.hint)
            return INVALID
        return self.variants[key].parse(value, path, errors)

    def schema(self) -> dict[str, object]:
        return {"oneOf": [v.schema() for v in self.variants.values()], "description": self.hint}
