"""Forms of the billing screens (all on core.forms.StrictForm)."""

from __future__ import annotations

from typing import Any

from django import forms

from bontrack.claims.choices import FilingIndicator, Guidance
from bontrack.claims.codes import parse_modifiers
from bontrack.core.forms import StrictForm
from bontrack.patients.choices import SubscriberRelationship

REASON_HELP = "Kept with the old and new values in the claim's history and the audit trail."


def _reason() -> forms.CharField:
    return forms.CharField(
        label="Reason for the change",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=REASON_HELP,
    )


class LineForm(StrictForm):
    code = forms.CharField(label="CPT or HCPCS code", max_length=5, min_length=5)
    modifiers = forms.CharField(
        label="Modifiers",
        max_length=20,
        required=False,
        help_text="Separated by spaces, e.g. 50 or JW.",
    )
    units = forms.DecimalField(label="Units", max_digits=8, decimal_places=2, min_value=0.01)
    icd10 = forms.MultipleChoiceField(
        label="Diagnoses for this line", widget=forms.CheckboxSelectMultiple
    )
    charge = forms.DecimalField(label="Charge ($)", max_digits=10, decimal_places=2, min_value=0)
    reason = _reason()

    def __init__(self, *args: Any, diagnoses: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["icd10"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c, c) for c in diagnoses]

    def clean_modifiers(self) -> list[str]:
        try:
            return parse_modifiers(self.cleaned_data.get("modifiers") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip().upper()


class RefreshForm(StrictForm):
    guidance = forms.ChoiceField(
        label="Guidance documented in the procedure note", choices=Guidance.choices
    )
    reason = _reason()


class AcceptForm(StrictForm):
    reason = forms.CharField(
        label="Why the claim can go as it is",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CoverageForm(StrictForm):
    payer_name = forms.CharField(label="Payer", max_length=60)
    payer_id = forms.CharField(label="Payer ID", max_length=20)
    member_id = forms.CharField(label="Member ID", max_length=30)
    group_number = forms.CharField(label="Group number", max_length=50, required=False)
    filing_indicator = forms.ChoiceField(
        label="Kind of insurance",
        choices=[("", "Pick one"), *FilingIndicator.choices],
    )
    subscriber_relationship = forms.ChoiceField(
        label="Policy holder", choices=SubscriberRelationship.choices, required=False
    )
    subscriber_last_name = forms.CharField(
        label="Policy holder's last name", max_length=60, required=False
    )
    subscriber_first_name = forms.CharField(
        label="Policy holder's first name", max_length=35, required=False
    )
    address = forms.CharField(label="Patient's street address", max_length=55)
    address2 = forms.CharField(label="Address (line 2)", max_length=55, required=False)
    city = forms.CharField(max_length=30)
    state = forms.CharField(max_length=2, min_length=2)
    zip_code = forms.CharField(label="ZIP code", max_length=9, min_length=5)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["subscriber_relationship"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (SubscriberRelationship.SELF, "The patient"),
            (SubscriberRelationship.SPOUSE, "The patient's spouse or partner"),
            (SubscriberRelationship.PARENT, "The patient's parent or guardian"),
            (SubscriberRelationship.OTHER, "Someone else"),
        ]


class ExportForm(StrictForm):
    clinic = forms.TypedChoiceField(label="Clinic", coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, clinics: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["clinic"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Every clinic"), *clinics]


class PaidForm(StrictForm):
    paid_amount = forms.DecimalField(
        label="Amount paid ($)", max_digits=10, decimal_places=2, min_value=0, required=False
    )


class DeniedForm(StrictForm):
    denial_reason = forms.CharField(
        label="Denial reason (as the payer states it)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BillingProfileForm(StrictForm):
    name = forms.CharField(label="Billing provider name", max_length=60)
    npi = forms.CharField(label="NPI", max_length=10, min_length=10)
    tax_id = forms.CharField(label="Tax ID (EIN, 9 digits)", max_length=9, min_length=9)
    address = forms.CharField(label="Street address", max_length=55)
    city = forms.CharField(max_length=30)
    state = forms.CharField(max_length=2, min_length=2)
    zip_code = forms.CharField(label="ZIP+4 (9 digits)", max_length=9, min_length=9)
    phone = forms.CharField(label="Billing phone (10 digits)", max_length=10, min_length=10)
    contact = forms.CharField(label="Billing contact", max_length=60)
    submitter_id = forms.CharField(label="Submitter ID", max_length=15)
    receiver_name = forms.CharField(label="Clearinghouse or payer name", max_length=60)
    receiver_id = forms.CharField(label="Receiver ID", max_length=15)
    usage = forms.ChoiceField(
        label="Files", choices=[("T", "Test files"), ("P", "Production files")]
    )
    fees = forms.CharField(
        label="Fee schedule",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="One code and its charge per unit per line, e.g. “64616 300.00”.",
    )

    def clean_fees(self) -> dict[str, str]:
        import re

        out: dict[str, str] = {}
        for n, raw in enumerate((self.cleaned_data.get("fees") or "").splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            m = re.fullmatch(r"([A-Za-z0-9]{5})\s+(\d{1,7}(?:\.\d{1,2})?)", line)
            if m is None:
                raise forms.ValidationError(
                    f"Line {n}: write a five-character code and a charge, e.g. 64616 300.00."
                )
            out[m.group(1).upper()] = f"{float(m.group(2)):.2f}"
        return out
