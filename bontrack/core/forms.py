"""Form fields and base forms that parse with ``core.parsing`` (see CONVENTIONS.md, "Input").

Every staff and portal form derives from ``StrictForm`` or ``StrictModelForm``. On creation they
upgrade the plain Django fields they hold: integer, decimal, date and date-time fields parse with
the strict parser (ASCII digits, bounded lengths, dates 1900-2100), and every text field refuses
control and bidirectional-override characters (line breaks only where the widget is a textarea).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.choices import BlankChoiceIterator
from django.utils.timezone import is_naive, make_aware

from bontrack.core.errors import Conflict
from bontrack.core.parsing import (
    TEXT_MAX,
    ParseError,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_time,
    text_problem,
)


class StrictIntegerField(forms.IntegerField):
    max_digits = 9

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:
            return parse_int(value, max_digits=self.max_digits)
        except ParseError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class StrictDecimalField(forms.DecimalField):
    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values:
            return None
        places = self.decimal_places if self.decimal_places is not None else 6
        whole = (self.max_digits - places) if self.max_digits is not None else 9
        try:
            return parse_decimal(value, whole_digits=max(whole, 1), decimal_places=places)
        except ParseError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class StrictDateField(forms.DateField):
    min_date: date | None = None
    max_date: date | None = None

    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values:
            return None
        try:
            return parse_date(value, min_value=self.min_date, max_value=self.max_date)
        except ParseError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class StrictDateTimeField(forms.DateTimeField):
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            moment = parse_datetime(value)
        except ParseError as exc:
            raise ValidationError(str(exc), code="invalid") from exc
        return make_aware(moment) if is_naive(moment) else moment


class StrictTimeField(forms.TimeField):
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return parse_time(value)
        except ParseError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class TextValidator:
    """Refuses control and bidirectional-override characters; line breaks unless multi-line."""

    def __init__(self, multiline: bool) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        if isinstance(value, str):
            problem = text_problem(value, multiline=self.multiline)
            if problem:
                raise ValidationError(problem, code="invalid_text")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash(self.multiline)


_UPGRADES: list[tuple[type[forms.Field], type[forms.Field]]] = [
    # DecimalField subclasses IntegerField: check it first.
    (forms.DecimalField, StrictDecimalField),
    (forms.IntegerField, StrictIntegerField),
    (forms.DateTimeField, StrictDateTimeField),
    (forms.DateField, StrictDateField),
    (forms.TimeField, StrictTimeField),
]


DASHES = "---------"  # Django's empty choice; staff and patients read words instead


def _word_the_empty_choice(field: forms.ChoiceField) -> None:
    word = "Choose…" if field.required else "—"
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label == DASHES:
            field.empty_label = word
        return
    if isinstance(field.choices, BlankChoiceIterator):
        choices = list(field.choices)  # a model field's choices with Django's blank first
    elif isinstance(field.choices, list):
        choices = field.choices
    else:
        return  # lazy choices (a callable) stay lazy: no query when the form is built
    if choices and choices[0][0] == "" and choices[0][1] == DASHES:
        field.choices = [("", word), *choices[1:]]


def harden(field: forms.Field) -> forms.Field:
    """Make one field of a form instance strict (the form's copy; class fields stay untouched)."""
    if isinstance(field, forms.ChoiceField):
        _word_the_empty_choice(field)
        return field
    if isinstance(field, forms.CharField):
        if isinstance(field.widget, forms.PasswordInput):
            return field
        multiline = isinstance(field.widget, forms.Textarea)
        if not any(isinstance(v, TextValidator) for v in field.validators):
            field.validators.append(TextValidator(multiline))
        if field.max_length is None:
            field.max_length = TEXT_MAX
            field.validators.append(MaxLengthValidator(TEXT_MAX))
        return field
    for plain, strict in _UPGRADES:
        if isinstance(field, strict):
            return field
        if type(field) is plain:
            # The strict classes only override to_python: same state, safe to swap.
            field.__class__ = strict
            return field
    return field


class StrictInputMixin:
    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():
            harden(field)

    def full_clean(self) -> None:
        # Fields added after creation (questionnaires, policy knobs) are hardened here too.
        for field in self.fields.values():
            harden(field)
        super().full_clean()  # type: ignore[misc]


class StrictForm(StrictInputMixin, forms.Form):
    pass


class StrictModelForm(StrictInputMixin, forms.ModelForm):
    pass


def apply_service_errors(form: forms.Form, exc: Exception) -> None:
    """Show a service's ValidationError or Conflict on the form, field by field."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif isinstance(exc, Conflict):
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
