from __future__ import annotations

from typing import cast

from django import forms

from bontrack.core.forms import StrictForm
from bontrack.inventory.choices import ContactMethod, VialSource, WasteReason


class ReceiveForm(StrictForm):
    clinic = forms.ModelChoiceField(queryset=None, label="Clinic")
    source = forms.ChoiceField(
        label="Source", choices=VialSource.choices, initial=VialSource.CLINIC_STOCK, required=False
    )
    ndc = forms.CharField(
        label="NDC", max_length=20, help_text="As printed (0023-1145-01) or 11-digit."
    )
    lot_number = forms.CharField(label="Lot number", max_length=40)
    expiry = forms.DateField(label="Expiry", widget=forms.DateInput(attrs={"type": "date"}))
    size_units = forms.TypedChoiceField(label="Vial size", coerce=int)
    vials = forms.IntegerField(label="Vials received", min_value=1, max_value=500)
    patient_mrn = forms.CharField(
        label="Patient MRN (specialty pharmacy)", max_length=32, required=False
    )
    delivered_on = forms.DateField(
        label="Delivered on (specialty pharmacy)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    cold_chain_ok = forms.TypedChoiceField(
        label="Cold chain check",
        choices=[("", "Not checked"), ("yes", "Arrived at 2–8 °C"), ("no", "Arrived warm")],
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, clinics, sizes, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        self.fields["size_units"].choices = [(s, f"{s} U") for s in sizes]


class DiscardForm(StrictForm):
    vial_id = forms.TypedChoiceField(label="Vial", coerce=int)
    reason_code = forms.ChoiceField(
        label="Why", choices=WasteReason.choices, initial=WasteReason.OTHER, required=False
    )
    reason = forms.CharField(
        label="Note (expired, dropped, contaminated…)", max_length=300, strip=True, required=False
    )

    def __init__(self, *args, vials: list[tuple[int, str]] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["vial_id"].choices = vials or []


class CountForm(StrictForm):
    lot_key = forms.ChoiceField(label="Clinic and lot")
    counted = forms.IntegerField(label="Vials on the shelf", min_value=0, max_value=100_000)
    note = forms.CharField(
        label="Note (required when the count differs)", max_length=500, required=False
    )

    def __init__(self, *args, lots: list[tuple[str, str]] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["lot_key"]).choices = lots or []


class ThresholdForm(StrictForm):
    clinic = forms.ModelChoiceField(queryset=None, label="Clinic")  # type: ignore[var-annotated]
    low_stock_vials = forms.IntegerField(
        label="Alert below (usable vials per product)", min_value=0, max_value=500
    )

    def __init__(self, *args, clinics, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics


class RecallForm(StrictForm):
    reason = forms.CharField(
        label="Recall notice (who issued it, reference)", max_length=500, widget=forms.Textarea
    )
    confirm = forms.BooleanField(
        label="I confirm: block every remaining vial of this lot in all clinics", required=True
    )


class ContactForm(StrictForm):
    patient_id = forms.TypedChoiceField(label="Patient", coerce=int)
    method = forms.ChoiceField(label="Contact", choices=ContactMethod.choices)
    note = forms.CharField(label="Note", max_length=500, required=False)

    def __init__(self, *args, patients: list[tuple[int, str]] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["patient_id"]).choices = patients or []
