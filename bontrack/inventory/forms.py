from __future__ import annotations

from django import forms

from bontrack.core.forms import StrictForm


class ReceiveForm(StrictForm):
    clinic = forms.ModelChoiceField(queryset=None, label="Clinic")
    ndc = forms.CharField(label="NDC", max_length=20)
    lot_number = forms.CharField(label="Lot number", max_length=40)
    expiry = forms.DateField(label="Expiry", widget=forms.DateInput(attrs={"type": "date"}))
    size_units = forms.TypedChoiceField(label="Vial size", coerce=int)
    vials = forms.IntegerField(label="Vials received", min_value=1, max_value=500)

    def __init__(self, *args, clinics, sizes, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        self.fields["size_units"].choices = [(s, f"{s} U") for s in sizes]


class DiscardForm(StrictForm):
    vial_id = forms.TypedChoiceField(label="Vial", coerce=int)
    reason = forms.CharField(
        label="Reason (expired, dropped, contaminated…)", max_length=300, strip=True
    )

    def __init__(self, *args, vials: list[tuple[int, str]] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["vial_id"].choices = vials or []
