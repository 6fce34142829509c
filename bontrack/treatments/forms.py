from __future__ import annotations

from decimal import Decimal

from django import forms

from bontrack.core.forms import StrictForm
from bontrack.treatments.choices import (
    AdverseEffectKind,
    Diluent,
    Guidance,
    InjectionStatus,
    ReviewDecision,
    Side,
)

DT_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


GUIDANCE_CHOICES = [("", "Not recorded"), *Guidance.choices]


def sites_field(label: str = "Number of sites") -> forms.IntegerField:
    # Blank: one site for a new row, unchanged for an edited one.
    return forms.IntegerField(label=label, min_value=1, max_value=100, initial=1, required=False)


def dilution_field() -> forms.DecimalField:
    return forms.DecimalField(
        label="Dilution (units per 0.1 mL)",
        required=False,
        min_value=Decimal("0.01"),
        max_value=200,
        decimal_places=2,
        help_text="Leave blank when the site was drawn from the session's vial as recorded.",
    )


def guidance_field() -> forms.ChoiceField:
    return forms.ChoiceField(label="Guidance", choices=GUIDANCE_CHOICES, required=False)


class SiteForm(StrictForm):
    units = forms.DecimalField(
        label="Units", min_value=Decimal("0.01"), max_value=1000, decimal_places=2
    )
    sites = sites_field()
    dilution = dilution_field()
    guidance = guidance_field()
    status = forms.ChoiceField(
        label="Status", choices=InjectionStatus.choices, widget=forms.RadioSelect
    )

    @classmethod
    def for_site(cls, site: object) -> SiteForm:
        """The editor of a charted site, filled with what it records."""
        return cls(
            initial={
                f: getattr(site, f) for f in ("units", "status", "sites", "dilution", "guidance")
            }
        )

    override_reason = forms.CharField(
        label="Physician override reason",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AddSiteForm(StrictForm):
    muscle = forms.ChoiceField(label="Muscle")
    side = forms.ChoiceField(label="Side", choices=Side.choices)
    units = forms.DecimalField(
        label="Units", min_value=Decimal("0.01"), max_value=1000, decimal_places=2, required=False
    )
    sites = sites_field()
    dilution = dilution_field()
    guidance = guidance_field()
    override_reason = forms.CharField(
        label="Physician override reason", required=False, max_length=1000
    )

    def __init__(self, *args, muscles: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["muscle"].choices = muscles


class DetailsForm(StrictForm):
    performed_at = forms.DateTimeField(label="Injected at", widget=DT_INPUT)
    consent_obtained = forms.BooleanField(label="Consent obtained", required=False)
    medication_guide_offered = forms.BooleanField(label="Medication Guide offered", required=False)
    diluent = forms.ChoiceField(label="Diluent", choices=Diluent.choices)
    note = forms.CharField(
        label="Procedure note",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VialForm(StrictForm):
    vial_id = forms.TypedChoiceField(label="Vial (lot, expiry, size)", coerce=int)
    diluent_ml = forms.DecimalField(
        label="Diluent (mL)", min_value=Decimal("0.1"), max_value=100, decimal_places=2
    )
    reconstituted_at = forms.DateTimeField(label="Reconstituted at", widget=DT_INPUT)

    def __init__(self, *args, vials: list[tuple[int, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["vial_id"].choices = vials


class DecisionForm(StrictForm):
    rule_id = forms.CharField(max_length=60, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    ack = forms.BooleanField(label="I have read this warning", required=False)
    # The confirmation of an override (a block): ticked on the screen, checked by the view.
    confirm = forms.BooleanField(label="I confirm this override", required=False)


class AmendForm(StrictForm):
    reason = forms.CharField(label="What does the amendment correct?", max_length=1000)


class AdverseEffectForm(StrictForm):
    # No effect is pre-selected: an empty submit is a form error, never a recorded ptosis.
    kind = forms.ChoiceField(
        label="Effect",
        choices=[("", "Choose the effect…"), *AdverseEffectKind.choices],
        error_messages={"required": "Choose the effect the patient reports."},
    )
    detail = forms.CharField(label="Details", required=False, max_length=2000)


class PlanForm(StrictForm):
    """A new plan: the last one (or PREEMPT) plus one follow-the-pain addition."""

    muscle = forms.ChoiceField(label="Follow-the-pain muscle")
    side = forms.ChoiceField(label="Side", choices=[(Side.LEFT, "Left"), (Side.RIGHT, "Right")])
    sites = forms.IntegerField(label="Extra sites", min_value=1, max_value=100, initial=1)
    units = forms.DecimalField(
        label="Units (blank: the per-site dose for each site)",
        min_value=Decimal("0.01"),
        max_value=1000,
        decimal_places=2,
        required=False,
    )
    note = forms.CharField(label="Why", required=False, max_length=1000)

    def __init__(self, *args, muscles: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["muscle"].choices = muscles

    def additions(self) -> list[dict[str, object]]:
        d = self.cleaned_data
        add: dict[str, object] = {"muscle": d["muscle"], "side": d["side"], "sites": d["sites"]}
        if d.get("units") is not None:
            add["units"] = d["units"]
        return [add]


class ResolveForm(StrictForm):
    resolution = forms.CharField(label="Resolution", required=False, max_length=1000)


class ReviewForm(StrictForm):
    decision = forms.ChoiceField(
        label="Decision", choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="What and why",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    adjust_muscle = forms.ChoiceField(label="Adjust muscle", required=False)
    adjust_side = forms.ChoiceField(
        label="Side",
        required=False,
        choices=[("", "—"), (Side.LEFT, "Left"), (Side.RIGHT, "Right"), (Side.MIDLINE, "Midline")],
    )
    adjust_sites = forms.IntegerField(label="Sites", required=False, min_value=0, max_value=100)
    adjust_units = forms.DecimalField(
        label="Units", required=False, min_value=0, max_value=1000, decimal_places=2
    )

    def __init__(self, *args, muscles: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["adjust_muscle"].choices = [("", "—"), *muscles]

    def adjustments(self) -> list[dict[str, object]]:
        d = self.cleaned_data
        if not d.get("adjust_muscle"):
            return []
        return [
            {
                "muscle": d["adjust_muscle"],
                "side": d.get("adjust_side") or "",
                "sites": d.get("adjust_sites") or 0,
                "units": d.get("adjust_units") or 0,
            }
        ]


class CheckInForm(StrictForm):
    kinds = forms.MultipleChoiceField(
        label="Since your treatment, have you had…",
        choices=AdverseEffectKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_detail = forms.CharField(
        label="Something else — tell us", required=False, max_length=2000
    )
    comment = forms.CharField(
        label="Anything else for your care team?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SideEffectReportForm(StrictForm):
    """A side effect the patient reports from the portal at any time."""

    kinds = forms.MultipleChoiceField(
        label="What have you noticed since your treatment?",
        choices=AdverseEffectKind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick what you have noticed."},
    )
    other_detail = forms.CharField(
        label="Something else — tell us", required=False, max_length=2000
    )
    comment = forms.CharField(
        label="When did it start, and anything else for your care team?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class UrgentReviewForm(StrictForm):
    note = forms.CharField(
        label="What was done (optional)",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Called the patient; sent to the ED"}),
    )
