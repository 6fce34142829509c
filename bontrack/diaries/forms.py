from __future__ import annotations

from typing import Any

from django import forms

from bontrack.core.forms import StrictForm
from bontrack.core.parsing import ParseError, parse_int
from bontrack.diaries.actions.diary_days import DayInput
from bontrack.diaries.choices import (
    MEDICINES,
    Decision,
    PostureComponent,
    PostureDirection,
    ToxinProduct,
    TreatDecision,
)

# The picklist shown first in the portal (the rest sit behind "More medicines").
COMMON_MEDICINES = ["sumatriptan", "rizatriptan", "ibuprofen", "paracetamol", "naproxen"]

FEATURE_LABELS = [
    ("unilateral", "One side of the head"),
    ("pulsating", "Pulsating or throbbing"),
    ("worse_with_activity", "Worse with activity"),
    ("nausea", "Nausea"),
    ("vomiting", "Vomiting"),
    ("photophobia", "Light bothered me"),
    ("phonophobia", "Sound bothered me"),
    ("aura", "Aura (visual or other warning signs)"),
]


def doses_from(data: Any) -> dict[str, int]:
    """Doses per medicine from ``doses_<key>`` fields (1 to 50); raises ParseError."""
    out = {}
    for key, value in data.items():
        if key.startswith("doses_") and str(value).strip():
            try:
                out[key.removeprefix("doses_")] = parse_int(
                    value, min_value=1, max_value=50, max_digits=2
                )
            except ParseError as exc:
                raise ParseError(f"Doses: {exc}") from exc
    return out


class DayForm(StrictForm):
    headache = forms.TypedChoiceField(
        choices=[("yes", "Headache"), ("no", "No headache")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    hours = forms.DecimalField(
        required=False, min_value=0, max_value=24, decimal_places=1, label="How many hours?"
    )
    severity = forms.TypedChoiceField(
        required=False,
        choices=[("1", "Mild"), ("2", "Moderate"), ("3", "Severe")],
        coerce=int,
        empty_value=0,
        widget=forms.RadioSelect,
        label="Worst pain",
    )
    unilateral = forms.BooleanField(required=False, label="One side of the head")
    pulsating = forms.BooleanField(required=False, label="Pulsating or throbbing")
    worse_with_activity = forms.BooleanField(required=False, label="Worse with activity")
    nausea = forms.BooleanField(required=False, label="Nausea")
    vomiting = forms.BooleanField(required=False, label="Vomiting")
    photophobia = forms.BooleanField(required=False, label="Light bothered me")
    phonophobia = forms.BooleanField(required=False, label="Sound bothered me")
    aura = forms.BooleanField(required=False, label="Aura (warning signs before the pain)")
    aura_minutes = forms.IntegerField(
        required=False, min_value=0, max_value=1440, label="Aura minutes"
    )
    medicines = forms.MultipleChoiceField(
        required=False,
        choices=[(k, v[0]) for k, v in MEDICINES.items() if k != "other"],
        widget=forms.CheckboxSelectMultiple,
        label="Medicines taken for the headache",
    )
    triptan_or_ergot_relief = forms.BooleanField(
        required=False, label="A triptan or ergot relieved the headache"
    )
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def to_input(self, day: Any, doses: dict[str, int] | None = None) -> DayInput:
        data = dict(self.cleaned_data)
        meds = [{"name": k, "doses": (doses or {}).get(k, 1)} for k in data.pop("medicines", [])]
        headache = data.pop("headache")
        if not headache:
            # Unticked boxes of a hidden headache section are not an error on a headache-free day.
            for key in ("hours", "aura_minutes"):
                data[key] = None
            data["severity"] = 0
            for key, _ in FEATURE_LABELS:
                data[key] = False
        return DayInput(date=day, headache=headache, medications=meds, **data)

    @staticmethod
    def initial_from(day: Any) -> dict[str, Any]:
        if day is None:
            return {}
        initial = {
            "headache": "yes" if day.headache else "no",
            "hours": day.hours,
            "severity": str(day.severity) if day.severity else None,
            "aura_minutes": day.aura_minutes,
            "triptan_or_ergot_relief": day.triptan_or_ergot_relief,
            "note": day.note,
            "medicines": [],
        }
        for key, _ in FEATURE_LABELS:
            initial[key] = getattr(day, key)
        from bontrack.diaries.choices import medicine_key

        initial["medicines"] = [
            k for k in (medicine_key(m.name) for m in day.medications.all()) if k
        ]
        return initial


class DecisionForm(StrictForm):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ConsultationForm(StrictForm):
    visit_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    history = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)
    symptoms = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)
    previous_treatments = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)
    goals = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)
    examination = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)
    plan = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)
    decision = forms.ChoiceField(
        label="Decision to treat",
        required=False,
        choices=[("", "Not decided yet"), *TreatDecision.choices],
    )
    decision_reasons = forms.CharField(
        label="Reasons for the decision",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PriorToxinForm(StrictForm):
    product = forms.ChoiceField(choices=ToxinProduct.choices)
    units = forms.DecimalField(
        label="Units given (in this product's own units)",
        max_digits=7,
        decimal_places=2,
        min_value=0.01,
    )
    last_given_on = forms.DateField(
        label="Last given on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    muscles = forms.CharField(label="Muscles", required=False, max_length=300)
    response = forms.CharField(label="Response and side effects", required=False, max_length=500)


class PostureForm(StrictForm):
    """One checkbox per component and direction the component can take."""

    visit_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(required=False, max_length=500, label="Note (severity, sensory tricks)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from bontrack.diaries.choices import POSTURE_DIRECTIONS

        super().__init__(*args, **kwargs)
        self.grid: list[tuple[str, list[tuple[str, Any]]]] = []
        for component, directions in POSTURE_DIRECTIONS.items():
            cells = []
            for d in directions:
                name = f"p_{component}_{d}"
                self.fields[name] = forms.BooleanField(
                    required=False,
                    label=f"{PostureComponent(component).label} {PostureDirection(d).label}",
                )
                cells.append((PostureDirection(d).label, name))
            self.grid.append((PostureComponent(component).label, cells))

    def findings(self) -> list[tuple[str, str]]:
        from bontrack.diaries.choices import POSTURE_DIRECTIONS

        return [
            (c, d)
            for c, directions in POSTURE_DIRECTIONS.items()
            for d in directions
            if self.cleaned_data.get(f"p_{c}_{d}")
        ]

    def rows(self) -> list[tuple[str, list[tuple[str, Any]]]]:
        return [(label, [(dl, self[name]) for dl, name in cells]) for label, cells in self.grid]


class PreVisitForm(StrictForm):
    patient_history = forms.CharField(
        required=False,
        max_length=5000,
        label="Your history (when it started, how it changed)",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    patient_symptoms = forms.CharField(
        required=False,
        max_length=5000,
        label="Your symptoms now",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    patient_previous_treatments = forms.CharField(
        required=False,
        max_length=5000,
        label="Treatments you have tried and how they worked",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    patient_goals = forms.CharField(
        required=False,
        max_length=5000,
        label="What you hope to achieve, in your own words",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ImportForm(StrictForm):
    file = forms.FileField(label="CSV file")


MIDAS_QUESTIONS = [
    (
        "q1",
        "On how many days in the last 3 months did you miss work or school because of your headaches?",
    ),
    (
        "q2",
        "How many days in the last 3 months was your productivity at work or school reduced by "
        "half or more because of your headaches? (Do not include days you counted in question 1.)",
    ),
    (
        "q3",
        "On how many days in the last 3 months did you not do household work because of your headaches?",
    ),
    (
        "q4",
        "How many days in the last 3 months was your productivity in household work reduced by "
        "half or more because of your headaches? (Do not include days you counted in question 3.)",
    ),
    (
        "q5",
        "On how many days in the last 3 months did you miss family, social or leisure activities "
        "because of your headaches?",
    ),
]
HIT6_QUESTIONS = [
    ("pain_severity", "When you have headaches, how often is the pain severe?"),
    (
        "limits_daily_activities",
        "How often do headaches limit your ability to do usual daily activities including "
        "household work, work, school, or social activities?",
    ),
    ("wish_to_lie_down", "When you have a headache, how often do you wish you could lie down?"),
    (
        "too_tired",
        "In the past 4 weeks, how often have you felt too tired to do work or daily activities "
        "because of your headaches?",
    ),
    (
        "fed_up_or_irritated",
        "In the past 4 weeks, how often have you felt fed up or irritated because of your headaches?",
    ),
    (
        "limits_concentration",
        "In the past 4 weeks, how often did headaches limit your ability to concentrate on work "
        "or daily activities?",
    ),
]
HIT6_CHOICES = [
    ("never", "Never"),
    ("rarely", "Rarely"),
    ("sometimes", "Sometimes"),
    ("very_often", "Very often"),
    ("always", "Always"),
]


def questionnaire_form(instrument: str, data: Any = None) -> forms.Form:
    form = StrictForm(data)
    if instrument == "midas":
        for key, text in MIDAS_QUESTIONS:
            form.fields[key] = forms.IntegerField(min_value=0, max_value=92, label=text)
    else:
        for key, text in HIT6_QUESTIONS:
            form.fields[key] = forms.ChoiceField(
                choices=HIT6_CHOICES, widget=forms.RadioSelect, label=text
            )
    return form


class PolicyForm(StrictForm):
    """The program policy knobs; choices and bounds from clinic_rules (``core.policy.facts``).

    Every field may be left on "Default" (clinic_rules' documented default applies)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from bontrack.core.policy import facts as policy

        super().__init__(*args, **kwargs)
        spec = policy.schema()
        for knob in policy.KNOBS:
            s = spec[knob.key]
            default = policy.value_label(policy.default(knob.field))
            first = ("", f"Default ({default})")
            help_text = policy.description(knob.field)
            field: forms.Field
            if "enum" in s:
                field = forms.TypedChoiceField(
                    choices=[first, *((str(v), policy.value_label(v)) for v in s["enum"])],
                    coerce=int if s["type"] == "integer" else str,
                    empty_value=None,
                    required=False,
                )
            elif s["type"] == "boolean":
                field = forms.TypedChoiceField(
                    choices=[first, ("true", "Yes"), ("false", "No")],
                    coerce=lambda v: v == "true",
                    empty_value=None,
                    required=False,
                )
            elif s["type"] == "integer":
                field = forms.IntegerField(
                    required=False, min_value=s.get("minimum"), max_value=s.get("maximum")
                )
                help_text += f" (default {default})"
            else:
                field = forms.DecimalField(
                    required=False,
                    min_value=s.get("minimum"),
                    max_value=s.get("maximum"),
                    decimal_places=2,
                )
                help_text += f" (default {default})"
            field.label = knob.label
            field.help_text = help_text
            self.fields[knob.field] = field

    @staticmethod
    def initial_from(row: Any) -> dict[str, Any]:
        from bontrack.core.policy import facts as policy

        out: dict[str, Any] = {}
        for f in policy.FIELDS:
            v = getattr(row, f, None) if row is not None else None
            if isinstance(v, bool):
                v = "true" if v else "false"
            out[f] = "" if v is None else v
        return out


class AssignForm(StrictForm):
    due_date = forms.DateField(
        label="Due date (treatment or visit)", widget=forms.DateInput(attrs={"type": "date"})
    )
