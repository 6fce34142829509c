"""The one strict parser (core.parsing) and the form base classes that apply it everywhere."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date
from decimal import Decimal

import pytest
from django import forms

import bontrack
from bontrack.core.forms import StrictForm, StrictInputMixin
from bontrack.core.parsing import (
    ParseError,
    check_text,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    printable,
)

# ---- table: what each parser accepts and refuses ---------------------------------------------------

INTS = [
    ("42", 42),
    (" 7 ", 7),
    ("-3", -3),
    ("123456789012345678", 123456789012345678),
    ("1234567890123456789", ParseError),  # 19 digits
    ("²", ParseError),
    ("٣", ParseError),
    ("１２", ParseError),
    ("1_000", ParseError),
    ("1 000", ParseError),
    ("0x10", ParseError),
    ("", ParseError),
    ("9" * 5000, ParseError),
]
DECIMALS = [
    ("4", Decimal("4")),
    ("4.5", Decimal("4.5")),
    (".5", Decimal(".5")),
    ("NaN", ParseError),
    ("Infinity", ParseError),
    ("-inf", ParseError),
    ("1e3", ParseError),
    ("٣.٥", ParseError),
    ("1,5", ParseError),
    (".", ParseError),
    ("9" * 5000, ParseError),
]
DATES = [
    ("2026-06-02", date(2026, 6, 2)),
    ("1900-01-01", date(1900, 1, 1)),
    ("2100-12-31", date(2100, 12, 31)),
    ("1899-12-31", ParseError),
    ("0001-01-01", ParseError),
    ("9999-12-31", ParseError),
    ("2026-02-30", ParseError),
    ("20260602", ParseError),
    ("٢٠٢٦-٠٦-٠٢", ParseError),
    ("0", ParseError),
]


@pytest.mark.parametrize(("raw", "expected"), INTS)
def test_integers(raw, expected):
    if expected is ParseError:
        with pytest.raises(ParseError):
            parse_int(raw)
    else:
        assert parse_int(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), DECIMALS)
def test_decimals(raw, expected):
    if expected is ParseError:
        with pytest.raises(ParseError):
            parse_decimal(raw)
    else:
        assert parse_decimal(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), DATES)
def test_dates(raw, expected):
    if expected is ParseError:
        with pytest.raises(ParseError):
            parse_date(raw)
    else:
        assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", [0, "0", "1970-01-01", "0001-01-01T00:00", "2026-06-02T25:00"])
def test_datetimes_refuse_numbers_and_out_of_range(raw):
    with pytest.raises(ParseError):
        parse_datetime(raw)


def test_a_datetime_keeps_its_offset():
    assert parse_datetime("2026-06-02T10:00:00Z").utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "text", ["a\u202eb", "a\u2066b", "a\u200fb", "a\u061cb", "a\x00b", "a\x1bb", "a\x85b", "a\x7fb"]
)
def test_free_text_refuses_control_and_bidi_characters(text):
    with pytest.raises(ParseError):
        check_text(text, multiline=True)


def test_line_breaks_only_in_multi_line_text():
    assert check_text("first\r\nsecond\ttab", multiline=True)
    with pytest.raises(ParseError, match="one line"):
        check_text("first\nsecond")


def test_printable_makes_stored_text_safe_for_the_rule_engine():
    assert printable("Topira\nmate\u202e") == "Topira mate"
    assert printable("\u202e") == "(unnamed)"


# ---- forms ------------------------------------------------------------------------------------------


def _all_form_classes():
    found = set()
    for module in pkgutil.walk_packages(bontrack.__path__, "bontrack."):
        name = module.name
        if ".tests" in name or ".migrations" in name or name.endswith(("wsgi", "asgi")):
            continue
        if not (name.endswith(("forms", "views", "portal")) or ".views" in name):
            continue
        mod = importlib.import_module(name)
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, forms.BaseForm) and obj.__module__ == name:
                found.add(obj)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__name__}")


def test_every_form_of_the_project_uses_the_strict_base():
    classes = _all_form_classes()
    assert len(classes) > 20
    loose = [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, StrictInputMixin)]
    assert loose == []


class _Sample(StrictForm):
    count = forms.IntegerField(min_value=0, max_value=10)
    amount = forms.DecimalField(max_digits=5, decimal_places=2)
    day = forms.DateField()
    name = forms.CharField(max_length=50)
    note = forms.CharField(required=False, widget=forms.Textarea)


GOOD = {"count": "3", "amount": "1.5", "day": "2026-06-02", "name": "Rosa", "note": "a\r\nb"}


def test_a_strict_form_accepts_plain_input():
    form = _Sample(GOOD)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["count"] == 3 and form.cleaned_data["amount"] == Decimal("1.5")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", "٣", "digits 0-9"),
        ("count", "1_0", "digits 0-9"),
        ("amount", "NaN", "such as 12"),
        ("amount", "1e1", "such as 12"),
        ("day", "0001-01-01", "between 1900 and 2100"),
        ("day", "06/02/2026", "YYYY-MM-DD"),
        ("name", "Ro\u202esa", "text-direction"),
        ("name", "Ro\nsa", "one line"),
        ("note", "bell\x07", "control characters"),
    ],
)
def test_a_strict_form_refuses_with_a_plain_message(field, value, message):
    form = _Sample({**GOOD, field: value})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_fields_added_after_creation_are_strict_too():
    form = StrictForm({"q1": "٣"})
    form.fields["q1"] = forms.IntegerField()
    assert not form.is_valid()


def test_the_empty_choice_is_a_word_not_dashes():
    from bontrack.core.models import Clinic

    class Picks(StrictForm):
        kind = forms.TypedChoiceField(choices=[("", "---------"), ("a", "A")])
        maybe = forms.ChoiceField(choices=[("", "---------"), ("a", "A")], required=False)
        clinic = forms.ModelChoiceField(queryset=Clinic.objects.none())

    html = str(Picks())
    assert "---------" not in html
    assert html.count(">Choose…</option>") == 2 and ">—</option>" in html
    # A model field's choices (Django's lazy blank-first iterator) too.
    from bontrack.patients.forms import PatientForm

    relationship = str(PatientForm(clinics=[])["subscriber_relationship"])
    assert "---------" not in relationship and ">—</option>" in relationship
