from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms

from bontrack.core.forms import StrictForm
from bontrack.inventory.choices import WasteReason
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


class WasteForm(StrictForm):
    waste_reason = forms.ChoiceField(label="Why wasted", choices=WasteReason.choices)
    waste_note = forms.CharField(label="Note", max_length=300, required=False)


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


TEMPLATE_ROWS = 8  # blank rows a template form offers beyond its saved ones (not clinical)


class ClinicTemplateForm(StrictForm):
    """A clinic template: indication, name, note and up to N rows of muscle, side, sites, units.
    The service checks the muscles against the indication's protocol."""

    clinic = forms.TypedChoiceField(label="Clinic", coerce=int)
    indication = forms.ChoiceField(label="Indication")
    name = forms.CharField(label="Template name", max_length=120)
    note = forms.CharField(label="Note for the team", required=False, max_length=1000)

    def __init__(  # type: ignore[no-untyped-def]
        self,
        *args,
        clinics: list[tuple[int, str]],
        indications: list[tuple[str, str]],
        muscles: list[tuple[str, object]],
        rows: int,
        editing: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["clinic"]).choices = clinics
        cast(forms.ChoiceField, self.fields["indication"]).choices = indications
        if editing:
            del self.fields["clinic"]
            del self.fields["indication"]
        self.rows = rows
        for i in range(rows):
            self.fields[f"muscle_{i}"] = forms.ChoiceField(
                label=f"Row {i + 1}: muscle", required=False, choices=[("", "—"), *muscles]
            )
            self.fields[f"side_{i}"] = forms.ChoiceField(
                label="Side", required=False, choices=[("", "—"), *Side.choices]
            )
            self.fields[f"sites_{i}"] = forms.IntegerField(
                label="Sites", required=False, min_value=1, max_value=100
            )
            self.fields[f"units_{i}"] = forms.DecimalField(
                label="Units",
                required=False,
                min_value=Decimal("0.01"),
                max_value=1000,
                decimal_places=2,
            )

    def row_fields(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"{k}_{i}"] for k in ("muscle", "side", "sites", "units")]
            for i in range(self.rows)
        ]

    def head_fields(self) -> list[forms.BoundField]:
        return [self[k] for k in ("clinic", "indication", "name", "note") if k in self.fields]

    def lines(self) -> list[dict[str, object]]:
        """The filled rows (a row with a muscle); a muscle's side, sites and units are checked
        by the service."""
        d = self.cleaned_data
        out: list[dict[str, object]] = []
        for i in range(self.rows):
            if not d.get(f"muscle_{i}"):
                continue
            out.append(
                {
                    "muscle": d[f"muscle_{i}"].split("|")[-1],
                    "side": d.get(f"side_{i}") or "",
                    "sites": d.get(f"sites_{i}") or 0,
                    "units": d.get(f"units_{i}") if d.get(f"units_{i}") is not None else "",
                }
            )
        return out

    def row_index(self, service_key: str) -> str | None:
        """``lines.2.units`` → ``units_<n>`` for the n-th filled row."""
        parts = service_key.split(".")
        if len(parts) != 3 or parts[0] != "lines" or not parts[1].isdigit():
            return None
        filled = [i for i in range(self.rows) if self.cleaned_data.get(f"muscle_{i}")]
        n = int(parts[1])
        if n >= len(filled):
            return None
        name = f"{parts[2]}_{filled[n]}"
        return name if name in self.fields else None


class PlanStartForm(StrictForm):
    """A new plan of one indication from its start (last session, clinic or labelled template)."""

    indication = forms.ChoiceField(label="Indication")
    note = forms.CharField(label="Why", required=False, max_length=1000)

    def __init__(self, *args, indications: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["indication"]).choices = indications


class ClinicProtocolForm(StrictForm):
    """A clinic-defined, off-label protocol: the condition and, per head, face or neck muscle
    and side, the sites and units the physician chooses (blank rows are left out)."""

    name = forms.CharField(label="Protocol name", max_length=120)
    condition = forms.CharField(label="Condition (off-label)", max_length=200)
    clinic = forms.ChoiceField(label="Clinic")
    rationale = forms.CharField(
        label="Rationale and references",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: object,
        clinics: list[tuple[int, str]],
        grid: list[tuple[str, str, list[str]]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["clinic"].choices = [(str(pk), name) for pk, name in clinics]  # type: ignore[attr-defined]
        self.grid_rows: list[tuple[str, str, str, str, str]] = []
        for muscle, label, sides in grid:
            for side in sides:
                key = f"{muscle}__{side}"
                self.fields[f"s_{key}"] = forms.IntegerField(
                    label=f"{label}, {side}: sites", required=False, min_value=1, max_value=100
                )
                self.fields[f"u_{key}"] = forms.DecimalField(
                    label=f"{label}, {side}: units",
                    required=False,
                    min_value=Decimal("0.01"),
                    max_value=1000,
                    decimal_places=2,
                )
                self.grid_rows.append((muscle, label, side, f"s_{key}", f"u_{key}"))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for _m, _l, _s, sites, units in self.grid_rows:
            if (data.get(sites) is None) != (data.get(units) is None):
                self.add_error(units, "Give both the sites and the units, or neither.")
        return data

    def lines(self) -> list[dict[str, object]]:
        return [
            {
                "muscle": muscle,
                "side": side,
                "sites": self.cleaned_data[sites],
                "units": self.cleaned_data[units],
            }
            for muscle, _label, side, sites, units in self.grid_rows
            if self.cleaned_data.get(sites) is not None
        ]

    def rows(self) -> list[tuple[str, str, object, object]]:
        return [(label, side, self[s], self[u]) for _m, label, side, s, u in self.grid_rows]


class OrderProtocolForm(StrictForm):
    protocol = forms.ChoiceField(label="Clinic-defined protocol")
    note = forms.CharField(label="Note on the order", required=False, max_length=1000)

    def __init__(self, *args: object, protocols: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["protocol"].choices = [(str(pk), name) for pk, name in protocols]  # type: ignore[attr-defined]
