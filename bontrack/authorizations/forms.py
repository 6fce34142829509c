from __future__ import annotations

from typing import Any

from django import forms

from bontrack.authorizations.choices import AuthStatus
from bontrack.core.forms import StrictForm

DATE = forms.DateInput(attrs={"type": "date"})


class AuthorizationForm(StrictForm):
    payer_name = forms.CharField(label="Payer", max_length=120)
    payer_id = forms.CharField(label="Payer ID", max_length=40, required=False)
    indication = forms.ChoiceField(label="Treated condition")
    status = forms.ChoiceField(label="Status", choices=AuthStatus.choices)
    number = forms.CharField(label="Authorization number", max_length=60, required=False)
    units_approved = forms.IntegerField(label="Units approved", required=False, min_value=1)
    visits_approved = forms.IntegerField(label="Visits approved", required=False, min_value=1)
    valid_from = forms.DateField(label="Valid from", required=False, widget=DATE)
    valid_until = forms.DateField(label="Valid until", required=False, widget=DATE)
    note = forms.CharField(
        label="Note", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, indications: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indication"].choices = indications  # type: ignore[attr-defined]


class UploadForm(StrictForm):
    file = forms.FileField(label="Payer letter, fax or form (PDF or image)")
