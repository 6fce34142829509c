"""Forms of the outcome scales (one per instrument), the wearing-off date and the decisions.

Bounds shown on the forms come from the score rules (``treatments.facts.scales``); the contract
checks them again when the entry is scored.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from bontrack.core.forms import StrictForm
from bontrack.treatments.choices import ReviewDecision, Side
from bontrack.treatments.facts import protocols as protocol_facts
from bontrack.treatments.facts import scales as facts

MAS_ROWS = 6
ADJUST_ROWS = 3
TSUI_ITEMS = (
    ("rotation", "Rotation (amplitude)"),
    ("tilt", "Tilt (amplitude)"),
    ("antero_retrocollis", "Antero- or retrocollis (amplitude)"),
    ("duration", "Duration of the posture"),
    ("shoulder_elevation", "Shoulder elevation"),
    ("tremor", "Tremor"),
)
BDI_LABELS = {
    "driving": "Driving a vehicle",
    "reading": "Reading",
    "watching_tv": "Watching television",
    "shopping": "Shopping",
    "walking": "Walking",
    "everyday_activities": "Doing everyday activities",
}
BDI_CHOICES = [
    ("", "Not applicable"),
    ("0", "0: no impairment"),
    ("1", "1: slight"),
    ("2", "2: moderate"),
    ("3", "3: severe"),
    ("4", "4: not possible because of the illness"),
]
TWSTRS_LABELS = {
    "severity": "Severity (rated by the clinician)",
    "disability": "Disability",
    "pain": "Pain",
}
# The portal asks the disability subscale as its items (SCORE-TWSTRS-DISABILITY-ITEMS).
TWSTRS_ITEM_LABELS = {
    "work": "Work (your job or the work you do at home)",
    "daily_activities": "Everyday activities such as washing, dressing and eating",
    "driving": "Driving",
    "reading": "Reading",
    "television": "Watching television",
    "activities_outside_home": "Activities outside the home",
}
ITEM_PREFIX = "disability_"


def _int(label: str, top: int, *, required: bool = True, low: int = 0) -> forms.IntegerField:
    return forms.IntegerField(
        label=f"{label} ({low}–{top})", min_value=low, max_value=top, required=required
    )


class ScaleForm(StrictForm):
    """``instrument`` decides the fields; ``portal`` keeps only what the patient reports."""

    taken_on = forms.DateField(label="Date rated", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self, *args: Any, instrument: str, indication: str, portal: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {"taken_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        reported = facts.patient_reported().get(instrument, ())
        f = self.fields
        self.item_names: list[str] = []
        if instrument == "twstrs":
            for key, label in TWSTRS_LABELS.items():
                if portal and key not in reported:
                    continue
                if portal and key == "disability":
                    self._disability_items()
                    continue
                f[key] = _int(label, facts.bound("twstrs", f"{key}_max"), required=False)
        elif instrument == "tsui":
            for key, label in TSUI_ITEMS:
                f[key] = _int(label, facts.bound("tsui", "total_max"))
        elif instrument == "jankovic":
            f["severity"] = _int("Severity", facts.bound("jankovic", "severity_max"))
            f["frequency"] = _int("Frequency", facts.bound("jankovic", "frequency_max"))
        elif instrument == "bdi":
            top = facts.bound("bdi", "item_max")
            for key in facts.bdi_items():
                f[key] = forms.TypedChoiceField(
                    label=BDI_LABELS.get(key, key),
                    choices=BDI_CHOICES[: top + 2],
                    coerce=int,
                    empty_value=None,
                    required=False,
                )
        elif instrument == "pain_nrs":
            f["score"] = forms.TypedChoiceField(
                label="Pain now (0 none, 10 the worst imaginable)",
                choices=[(str(i), str(i)) for i in range(facts.bound("pain_nrs", "max") + 1)],
                coerce=int,
                widget=forms.RadioSelect,
            )
        elif instrument == "mas":
            muscles = [("", "—"), *protocol_facts.protocol_muscle_choices(indication)]
            grades = [("", "—"), *((g, g) for g in facts.mas_order())]
            for i in range(MAS_ROWS):
                f[f"mas_{i}_muscle"] = forms.ChoiceField(
                    label="Muscle or joint", choices=muscles, required=False
                )
                f[f"mas_{i}_side"] = forms.ChoiceField(
                    label="Side",
                    choices=[("left", "Left"), ("right", "Right")],
                    required=False,
                )
                f[f"mas_{i}_grade"] = forms.ChoiceField(
                    label="Grade", choices=grades, required=False
                )
        elif instrument == "gas":
            lim = facts.gas_limits()
            levels = [(str(x), f"{x:+d}") for x in range(lim["level_min"], lim["level_max"] + 1)]
            for i in range(lim["goals_max"]):
                f[f"gas_{i}_goal"] = forms.CharField(
                    label=f"Goal {i + 1}", max_length=300, required=False
                )
                f[f"gas_{i}_weight"] = forms.IntegerField(
                    label="Weight", min_value=1, max_value=lim["weight_max"], required=False
                )
                f[f"gas_{i}_level"] = forms.TypedChoiceField(
                    label="Attainment",
                    choices=[("", "—"), *levels],
                    coerce=int,
                    empty_value=None,
                    required=False,
                )

    def _disability_items(self) -> None:
        items, top = facts.twstrs_disability_items()
        choices = [("", "—")] + [
            (str(i), f"{i} (none)" if i == 0 else f"{i} (the most)" if i == top else str(i))
            for i in range(top + 1)
        ]
        for item in items:
            name = ITEM_PREFIX + item
            self.fields[name] = forms.TypedChoiceField(
                label=TWSTRS_ITEM_LABELS.get(item, item.replace("_", " ").capitalize()),
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
            )
            self.item_names.append(name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        answered = [n for n in self.item_names if data.get(n) is not None]
        if answered and len(answered) < len(self.item_names):
            for n in self.item_names:
                if data.get(n) is None:
                    self.add_error(n, "Answer this one too: the six questions go together.")
        return data

    def item_fields(self) -> list[Any]:
        return [self[n] for n in self.item_names]

    def other_fields(self) -> list[Any]:
        """Every field but the date and the items (the portal places those itself)."""
        return [self[n] for n in self.fields if n not in self.item_names and n != "taken_on"]

    def rows(self, prefix: str, count: int) -> list[list[Any]]:
        return [
            [self[name] for name in self.fields if name.startswith(f"{prefix}_{i}_")]
            for i in range(count)
        ]

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        if self.instrument == "mas":
            entries = []
            for i in range(MAS_ROWS):
                muscle, grade = data.get(f"mas_{i}_muscle"), data.get(f"mas_{i}_grade")
                if muscle and grade:
                    entries.append(
                        {
                            "muscle": muscle,
                            "side": data.get(f"mas_{i}_side") or "left",
                            "grade": grade,
                        }
                    )
            return {"entries": entries}
        if self.instrument == "gas":
            goals = []
            for i in range(facts.gas_limits()["goals_max"]):
                goal = (data.get(f"gas_{i}_goal") or "").strip()
                if goal:
                    goals.append(
                        {
                            "goal": goal,
                            "weight": data.get(f"gas_{i}_weight") or 1,
                            "level": data.get(f"gas_{i}_level"),
                        }
                    )
            return {"goals": goals}
        out = {
            k: v
            for k, v in data.items()
            if k != "taken_on" and k not in self.item_names and v is not None
        }
        if self.item_names and data.get(self.item_names[0]) is not None:
            out["disability_items"] = {
                n.removeprefix(ITEM_PREFIX): data[n] for n in self.item_names
            }
        return out


class WearingOffForm(StrictForm):
    worn_off_on = forms.DateField(
        label="The effect wore off on", widget=forms.DateInput(attrs={"type": "date"})
    )


class SuggestionDecisionForm(StrictForm):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    note = forms.CharField(label="Note (required to reject)", max_length=1000, required=False)


class CycleReviewForm(StrictForm):
    decision = forms.ChoiceField(
        choices=ReviewDecision.choices, widget=forms.RadioSelect, label="Decision"
    )
    reason = forms.CharField(
        label="Reasons", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, indication: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        muscles = [("", "—"), *protocol_facts.protocol_muscle_choices(indication)]
        for i in range(ADJUST_ROWS):
            self.fields[f"adj_{i}_muscle"] = forms.ChoiceField(
                label="Muscle", choices=muscles, required=False
            )
            self.fields[f"adj_{i}_side"] = forms.ChoiceField(
                label="Side", choices=Side.choices, required=False
            )
            self.fields[f"adj_{i}_sites"] = forms.IntegerField(
                label="Sites (0 removes)", min_value=0, max_value=100, required=False
            )
            self.fields[f"adj_{i}_units"] = forms.DecimalField(
                label="Units", min_value=0, max_value=1000, decimal_places=2, required=False
            )

    def rows(self) -> list[list[Any]]:
        return [
            [self[n] for n in self.fields if n.startswith(f"adj_{i}_")] for i in range(ADJUST_ROWS)
        ]

    def adjustments(self) -> list[dict[str, Any]]:
        out = []
        for i in range(ADJUST_ROWS):
            d = self.cleaned_data
            if d.get(f"adj_{i}_muscle"):
                out.append(
                    {
                        "muscle": d[f"adj_{i}_muscle"],
                        "side": d.get(f"adj_{i}_side") or "left",
                        "sites": d.get(f"adj_{i}_sites") or 0,
                        "units": d.get(f"adj_{i}_units") or 0,
                    }
                )
        return out
