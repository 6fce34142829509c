from __future__ import annotations

from datetime import date

from django import forms

from bontrack.core.forms import StrictForm, StrictModelForm
from bontrack.core.models import Clinic
from bontrack.patients.choices import (
    Flag,
    Indication,
    PatientStatus,
    PreventiveClass,
    PriorOutcome,
)
from bontrack.patients.facts import ICD10_BY_INDICATION, ICD10_LABELS
from bontrack.patients.models import Patient


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class PatientForm(StrictModelForm):
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none(), empty_label=None)

    class Meta:
        model = Patient
        fields = [
            "clinic",
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "sex",
            "mrn",
            "phone",
            "email",
            "preferred_contact",
            "preferred_language",
            "status",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "insurance_payer",
            "insurance_member_id",
            "insurance_group",
            "subscriber_name",
            "subscriber_relationship",
        ]
        widgets = {"date_of_birth": DateInput()}
        help_texts = {"mrn": "Leave empty to assign a new MRN."}

    # Registration only: the registrar has seen the likely duplicates and creates a new chart.
    not_a_duplicate = forms.BooleanField(
        required=False, label="None of these is the same person: create a new chart"
    )

    def __init__(
        self, *args: object, clinics: list[Clinic], mrn_example: str = "", **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["clinic"].queryset = Clinic.objects.filter(pk__in=[c.pk for c in clinics])
        self.fields["mrn"].required = False
        if mrn_example:
            self.fields["mrn"].help_text = f"Leave empty to assign the next number ({mrn_example})."
        status = self.fields["status"]
        if isinstance(status, forms.ChoiceField):
            status.choices = [c for c in PatientStatus.choices if c[0] != PatientStatus.MERGED]
        if self.instance.pk:
            del self.fields["not_a_duplicate"]
        for name in ("first_name", "last_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_date_of_birth(self) -> date:
        dob: date = self.cleaned_data["date_of_birth"]
        if dob > date.today():  # noqa: DTZ011 - a calendar date typed by a person
            raise forms.ValidationError("Date of birth cannot be in the future.")
        if dob.year < 1900:
            raise forms.ValidationError("Date of birth must be 1900 or later.")
        return dob

    def validate_unique(self) -> None:
        # Uniqueness (MRN per practice) is the service's job; it answers with a clear field error.
        pass


class WeightForm(StrictForm):
    measured_on = forms.DateField(widget=DateInput())
    weight_kg = forms.DecimalField(
        label="Weight (kg)", max_digits=5, decimal_places=1, min_value=0.5, max_value=500
    )


def _icd_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    groups = []
    for indication, codes in ICD10_BY_INDICATION.items():
        groups.append(
            (Indication(indication).label, [(c, f"{c} — {ICD10_LABELS[c]}") for c in codes])
        )
    return groups


class ConditionForm(StrictForm):
    indication = forms.ChoiceField(choices=Indication.choices)
    icd10_code = forms.ChoiceField(label="ICD-10-CM", choices=_icd_choices)
    diagnosed_on = forms.DateField(required=False, widget=DateInput())
    note = forms.CharField(max_length=500, required=False)


class FlagForm(StrictForm):
    flag = forms.ChoiceField(choices=Flag.choices)
    noted_on = forms.DateField(widget=DateInput())
    note = forms.CharField(max_length=500, required=False)


class PriorTreatmentForm(StrictForm):
    drug = forms.CharField(max_length=100)
    drug_class = forms.ChoiceField(label="Class", choices=PreventiveClass.choices)
    outcome = forms.ChoiceField(choices=PriorOutcome.choices)
    started_on = forms.DateField(required=False, widget=DateInput())
    stopped_on = forms.DateField(required=False, widget=DateInput())
    note = forms.CharField(max_length=500, required=False)


class SearchForm(StrictForm):
    q = forms.CharField(required=False, max_length=100, label="Search")
    cursor = forms.CharField(required=False, max_length=400)


class MergeForm(StrictForm):
    """Merge another chart (found by name, MRN or date of birth) into this one."""

    duplicate = forms.IntegerField(widget=forms.HiddenInput)


class MrnFormatForm(StrictForm):
    # Not "prefix": that name is the form's own attribute (field name prefixes).
    mrn_prefix = forms.CharField(
        label="Prefix",
        max_length=6,
        required=False,
        help_text="Up to six letters or digits, e.g. NS.",
    )
    digits = forms.IntegerField(
        min_value=4, max_value=10, initial=6, help_text="The number is padded with zeros."
    )
