"""The stable JSON contract: ``run(name, document)``, ``list_rules()``, ``vocabulary()``.

A finding is ``{code, rule_id, severity, message, source, confirmed, ack_by}``: ``ack_by`` is
``"physician"`` on a warning only a physician may acknowledge, with a written reason (treatment
outside a labelled age: off-label, clinical facts §8; the ``off_label_age`` policy knob may make
it a block), otherwise ``null``. See ``docs/rules.md``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any

from . import (
    billing,
    diary,
    dose,
    eligibility,
    questionnaires,
    reconstitution,
    response,
    safety,
    scales,
)
from .data import Rule, default_policy, rule
from .fields import (
    Bool,
    Choice,
    Date,
    DateTime,
    Errors,
    F,
    IntChoice,
    Invalid,
    ListOf,
    Num,
    Obj,
    Select,
    Spec,
    Str,
    Word,
    add_error,
    join,
)
from .fields import Int as IntSpec
from .model import (
    SPASTICITY,
    AcuteClass,
    BilateralBilling,
    BillingInjection,
    BillingInput,
    DatedScore,
    DiaryDay,
    DiaryInput,
    DoseCheckInput,
    EligibilityInput,
    Flag,
    Guidance,
    HistoryEntry,
    Indication,
    Injection,
    Limb,
    Patient,
    Policy,
    Preventive,
    PreventiveClass,
    PreventiveOutcome,
    Product,
    ResponseInput,
    ResponseRuleSet,
    ScoreInstrument,
    Session,
    Severity,
    Side,
    TreatmentSession,
    Vial,
)
from .protocols import protocols_json
from .vocabulary import MUSCLES
from .vocabulary import vocabulary as _vocabulary

__all__ = ["InputError", "list_rules", "run", "vocabulary"]

R = Mapping[str, Any]
# Input limits (sanity bounds, not clinical numbers): clinical bounds below are read from
# the rule data (``clinic_rules/data/*.toml``) so that a number is typed in one place only.
MAX_UNITS = 10000.0  # any unit count
MAX_DIARY_DAYS = 3700  # diary days in one document
MAX_FAILED_PREVENTIVE_CLASSES = 20  # policy knob input
DIARY_SEVERITY_MAX = 3  # diary encoding 0 none, 1 mild, 2 moderate, 3 severe (ICHD-MIGRAINE-DAY)


class InputError(Exception):
    """Invalid input document; ``errors`` maps dotted field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(f"{sum(len(v) for v in errors.values())} input error(s)")
        self.errors = errors


def _opt(spec: Spec[Any], default: object = None, doc: str = "") -> F[Any]:
    return F(spec, required=False, default=default, doc=doc)


def _req(spec: Spec[Any], doc: str = "") -> F[Any]:
    return F(spec, doc=doc)


# ---- shared pieces ---------------------------------------------------------------------


def _build_policy(v: R) -> Policy:
    base = default_policy()
    return dataclasses.replace(base, **{k: val for k, val in v.items() if val is not None})


def _allowed_ints(r: Rule) -> IntChoice:
    """The knob's ``allowed`` values from its policy rule."""
    return IntChoice(*(int(v) for v in r.nums("allowed")))


def _allowed_strs(r: Rule) -> tuple[str, ...]:
    return r.strs("allowed")


def _default_doc(r: Rule, prefix: str = "") -> str:
    value = r.params["default"]
    shown = str(value).lower() if isinstance(value, bool) else f"{value}"
    return f"{prefix}default {shown}"


_WINDOW = rule("POLICY-CUMULATIVE-WINDOW")
_EARLY_CM = rule("POLICY-CM-EARLY-RETREATMENT")
_OFF_LABEL_AGE = rule("POLICY-OFF-LABEL-AGE")
_RULE_SET = rule("POLICY-RESPONSE-RULE-SET")
_FAILED_CLASSES = rule("POLICY-FAILED-PREVENTIVE-CLASSES")
_PERIOD = rule("POLICY-PERIOD-DAYS")
_BILATERAL = rule("POLICY-BILATERAL-BILLING")

POLICY: Obj[Policy] = Obj(
    {
        "window_days": _opt(
            _allowed_ints(_WINDOW), doc=_default_doc(_WINDOW, "cumulative window, ")
        ),
        "early_cm_retreatment": _opt(
            Choice(Severity, tuple(Severity(v) for v in _allowed_strs(_EARLY_CM))),
            doc=_default_doc(_EARLY_CM),
        ),
        "off_label_age": _opt(
            Choice(Severity, tuple(Severity(v) for v in _allowed_strs(_OFF_LABEL_AGE))),
            doc=_default_doc(_OFF_LABEL_AGE, "treatment outside a labelled age, "),
        ),
        "response_rule_set": _opt(
            Choice(ResponseRuleSet, tuple(ResponseRuleSet(v) for v in _allowed_strs(_RULE_SET))),
            doc=_default_doc(_RULE_SET),
        ),
        "failed_preventive_classes_required": _opt(
            IntSpec(minimum=0, maximum=MAX_FAILED_PREVENTIVE_CLASSES),
            doc=f"{_default_doc(_FAILED_CLASSES)} (NICE, {_FAILED_CLASSES.source_text})",
        ),
        "require_4h_for_headache_day": _opt(
            Bool(), doc=_default_doc(rule("POLICY-REQUIRE-4H-HEADACHE-DAY"))
        ),
        "count_probable_as_migraine": _opt(
            Bool(), doc=_default_doc(rule("POLICY-COUNT-PROBABLE-MIGRAINE"))
        ),
        "min_diary_completeness": _opt(
            Num(minimum=0, maximum=1),
            doc=_default_doc(rule("POLICY-DIARY-COMPLETENESS"), "practice policy, "),
        ),
        "bilateral_billing": _opt(
            Choice(BilateralBilling, tuple(BilateralBilling(v) for v in _allowed_strs(_BILATERAL))),
            doc=_default_doc(_BILATERAL),
        ),
    },
    _build_policy,
    doc="practice policy knobs; omitted knobs take the documented defaults",
)


def _policy_field() -> F[Any]:
    return _opt(POLICY, doc="practice policy")


def _policy(v: R) -> Policy:
    p = v.get("policy")
    return p if isinstance(p, Policy) else default_policy()


FLAGS = ListOf(Choice(Flag), max_items=len(Flag), unique_by=lambda f: f)
PATIENT: Obj[Patient] = Obj(
    {
        "birth_date": _req(Date()),
        "weight_kg": _opt(Num(exclusive_minimum=0, maximum=500)),
        "flags": _opt(FLAGS, default=()),
        "weight_measured_on": _opt(
            Date(),
            doc="when weight_kg was measured; a child's weight more than "
            f"{rule('POLICY-PEDS-WEIGHT-MAX-AGE').int_('default')} days before the session "
            "does not count for the per-kg limits",
        ),
    },
    lambda v: Patient(
        v["birth_date"], v["weight_kg"], frozenset(v["flags"]), v["weight_measured_on"]
    ),
)
PATIENT_NO_WEIGHT: Obj[Patient] = Obj(
    {"birth_date": _req(Date()), "flags": _opt(FLAGS, default=())},
    lambda v: Patient(v["birth_date"], None, frozenset(v["flags"])),
)
UNITS = Num(exclusive_minimum=0, maximum=MAX_UNITS)


def _check_diary_day(day: DiaryDay, path: str, errors: Errors) -> None:
    if not day.headache and (day.hours or day.severity):
        add_error(
            errors, join(path, "headache"), "a headache-free day cannot have hours or severity"
        )
    if day.headache and not day.severity:
        add_error(errors, join(path, "severity"), "a headache day needs severity 1-3")
    if day.aura_minutes is not None and not day.aura:
        add_error(errors, join(path, "aura_minutes"), "aura_minutes given without aura")
    if day.triptan_or_ergot_relief and not day.acute_medications & diary.TRIPTAN_ERGOT:
        add_error(
            errors,
            join(path, "triptan_or_ergot_relief"),
            "needs a triptan or ergot in acute_medications",
        )


DIARY_DAY: Obj[DiaryDay] = Obj(
    {
        "date": _req(Date()),
        "headache": _req(Bool()),
        "hours": _opt(Num(minimum=0, maximum=24), 0.0, "headache hours that day"),
        "severity": _opt(
            IntSpec(minimum=0, maximum=DIARY_SEVERITY_MAX),
            0,
            "0 none, 1 mild, 2 moderate, 3 severe",
        ),
        "unilateral": _opt(Bool(), False),
        "pulsating": _opt(Bool(), False),
        "worse_with_activity": _opt(Bool(), False),
        "nausea": _opt(Bool(), False),
        "vomiting": _opt(Bool(), False),
        "photophobia": _opt(Bool(), False),
        "phonophobia": _opt(Bool(), False),
        "aura": _opt(Bool(), False),
        "aura_minutes": _opt(IntSpec(minimum=0, maximum=1440)),
        "acute_medications": _opt(
            ListOf(
                Obj({"class": _req(Choice(AcuteClass))}, lambda v: v["class"]),
                max_items=20,
            ),
            (),
        ),
        "triptan_or_ergot_relief": _opt(Bool(), False),
    },
    lambda v: DiaryDay(
        date=v["date"],
        headache=v["headache"],
        hours=v["hours"],
        severity=v["severity"],
        unilateral=v["unilateral"],
        pulsating=v["pulsating"],
        worse_with_activity=v["worse_with_activity"],
        nausea=v["nausea"],
        vomiting=v["vomiting"],
        photophobia=v["photophobia"],
        phonophobia=v["phonophobia"],
        aura=v["aura"],
        aura_minutes=v["aura_minutes"],
        acute_medications=frozenset(v["acute_medications"]),
        triptan_or_ergot_relief=v["triptan_or_ergot_relief"],
    ),
    check=_check_diary_day,
)
DAYS = ListOf(DIARY_DAY, max_items=MAX_DIARY_DAYS, unique_by=lambda d: d.date, unique_field="date")
PERIOD_DAYS = _allowed_ints(_PERIOD)
PERIOD_DAYS_DEFAULT = _PERIOD.int_("default")


def _not_after(
    as_of_key: str, items: str, attr: str = "date"
) -> Callable[[Any, str, Errors], None]:
    def check(obj: Any, path: str, errors: Errors) -> None:
        as_of = getattr(obj, as_of_key)
        for i, item in enumerate(getattr(obj, items)):
            if getattr(item, attr) > as_of:
                add_error(errors, join(join(join(path, items), i), attr), f"after {as_of_key}")

    return check


# ---- dose-check ------------------------------------------------------------------------


def _check_injection(inj: Injection, path: str, errors: Errors) -> None:
    if inj.indication in SPASTICITY and inj.side is Side.MIDLINE:
        add_error(
            errors, join(path, "side"), "a limb is injected left, right or bilateral, not midline"
        )


INJECTION: Obj[Injection] = Obj(
    {
        "indication": _req(Choice(Indication)),
        "muscle": _req(Word(MUSCLES)),
        "side": _req(Choice(Side)),
        "sites": _req(IntSpec(minimum=1, maximum=100)),
        "units": _req(UNITS),
    },
    lambda v: Injection(v["indication"], v["muscle"], v["side"], v["sites"], v["units"]),
    check=_check_injection,
)
VIAL: Obj[Vial] = Obj(
    {
        "size_units": _req(UNITS),
        "diluent_ml": _req(Num(exclusive_minimum=0, maximum=100)),
        "reconstituted_at": _req(DateTime(), "ISO date-time with offset"),
    },
    lambda v: Vial(v["size_units"], v["diluent_ml"], v["reconstituted_at"]),
)


def _check_session(s: Session, path: str, errors: Errors) -> None:
    if s.performed_at is not None and s.performed_at.date() != s.date:
        add_error(errors, join(path, "performed_at"), "local date differs from session date")
    for i, vial in enumerate(s.vials):
        recon = vial.reconstituted_at
        latest = (
            s.performed_at
            if s.performed_at is not None
            else datetime.combine(s.date + timedelta(days=1), time.min, tzinfo=recon.tzinfo)
        )
        if recon > latest:
            add_error(
                errors,
                join(join(join(path, "vials"), i), "reconstituted_at"),
                "after the session",
            )


SESSION: Obj[Session] = Obj(
    {
        "date": _req(Date()),
        "performed_at": _opt(DateTime(), doc="time of injection (recommended for the 24 h rule)"),
        "product": _req(Choice(Product)),
        "injections": _req(ListOf(INJECTION, min_items=1, max_items=200)),
        "vials": _opt(ListOf(VIAL, max_items=20), ()),
    },
    lambda v: Session(v["date"], v["product"], v["injections"], v["vials"], v["performed_at"]),
    check=_check_session,
)
HISTORY_ENTRY: Obj[HistoryEntry] = Obj(
    {
        "date": _req(Date()),
        "product": _req(Choice(Product)),
        "indication": _req(Choice(Indication)),
        "total_units": _req(UNITS),
    },
    lambda v: HistoryEntry(v["date"], v["product"], v["indication"], v["total_units"]),
)
DOSE_CHECK: Obj[DoseCheckInput] = Obj(
    {
        "as_of": _req(Date()),
        "patient": _req(PATIENT),
        "history": _opt(ListOf(HISTORY_ENTRY, max_items=1000), ()),
        "session": _req(SESSION),
        "policy": _policy_field(),
    },
    lambda v: DoseCheckInput(v["as_of"], v["patient"], v["history"], v["session"], _policy(v)),
    check=_not_after("as_of", "history"),
)

# ---- reconstitution ----------------------------------------------------------------------

CONCENTRATION: Obj[reconstitution.Concentration] = Obj(
    {
        "size_units": _req(UNITS),
        "diluent_ml": _req(Num(exclusive_minimum=0, maximum=100)),
    },
    lambda v: reconstitution.Concentration(v["size_units"], v["diluent_ml"]),
    doc="units per 0.1 mL and per mL of a reconstituted vial",
)
PLAN: Obj[reconstitution.PlanRequest] = Obj(
    {
        "dose_units": _req(Num(exclusive_minimum=0, maximum=5000)),
        "size_units_available": _req(
            ListOf(IntSpec(minimum=1, maximum=1000), min_items=1, max_items=10)
        ),
    },
    lambda v: reconstitution.PlanRequest(v["dose_units"], v["size_units_available"]),
    doc="fewest single-dose vials covering the dose, then least waste",
)
RECONSTITUTION: Select[Any] = Select(
    lambda d: (
        "plan"
        if "dose_units" in d or "size_units_available" in d
        else ("concentration" if "size_units" in d or "diluent_ml" in d else None)
    ),
    {"concentration": CONCENTRATION, "plan": PLAN},
    "expected {size_units, diluent_ml} or {dose_units, size_units_available}",
)

# ---- diary-summary, eligibility ------------------------------------------------------------

DIARY: Obj[DiaryInput] = Obj(
    {
        "as_of": _req(Date()),
        "days": _req(DAYS),
        "period_days": _opt(PERIOD_DAYS, PERIOD_DAYS_DEFAULT),
        "policy": _policy_field(),
    },
    lambda v: DiaryInput(v["as_of"], v["days"], v["period_days"], _policy(v)),
    check=_not_after("as_of", "days"),
)
PREVENTIVE: Obj[Preventive] = Obj(
    {
        "drug": _req(Str(max_length=100)),
        "class": _req(Choice(PreventiveClass)),
        "outcome": _req(Choice(PreventiveOutcome)),
    },
    lambda v: Preventive(v["drug"], v["class"], v["outcome"]),
)
ELIGIBILITY: Obj[EligibilityInput] = Obj(
    {
        "as_of": _req(Date()),
        "patient": _req(PATIENT_NO_WEIGHT),
        "indication": _req(Choice(Indication, (Indication.CHRONIC_MIGRAINE,))),
        "days": _req(DAYS),
        "prior_preventives": _opt(ListOf(PREVENTIVE, max_items=50), ()),
        "period_days": _opt(PERIOD_DAYS, PERIOD_DAYS_DEFAULT),
        "policy": _policy_field(),
    },
    lambda v: EligibilityInput(
        v["as_of"],
        v["patient"],
        v["indication"],
        v["days"],
        v["prior_preventives"],
        v["period_days"],
        _policy(v),
    ),
    check=_not_after("as_of", "days"),
)

# ---- questionnaire ---------------------------------------------------------------------------

_MIDAS = rule("SCORE-MIDAS")
_HIT6 = rule("SCORE-HIT6")
_JANKOVIC = rule("SCORE-JANKOVIC")
_TSUI = rule("SCORE-TSUI")
_TWSTRS = rule("SCORE-TWSTRS")
_TWSTRS_ITEMS = rule("SCORE-TWSTRS-DISABILITY-ITEMS")
_MAS = rule("SCORE-MAS")
_MAS_ORDER = rule("SCORE-MAS-ORDER")
_BDI = rule("SCORE-BDI")
_PAIN = rule("SCORE-PAIN-NRS")
_GAS = rule("SCORE-GAS")


def _at_least_one(message: str) -> Callable[[Mapping[str, object], str, Errors], None]:
    def check(obj: Mapping[str, object], path: str, errors: Errors) -> None:
        if not obj:
            add_error(errors, path or "$", message)

    return check


def _twstrs_check(obj: Mapping[str, object], path: str, errors: Errors) -> None:
    _at_least_one("rate at least one TWSTRS subscale")(obj, path, errors)
    if obj.get("disability") is not None and obj.get("disability_items") is not None:
        add_error(
            errors,
            f"{path}.disability" if path else "disability",
            "give the disability total or its items, not both",
        )


def _upto(r: Rule, *keys: str) -> IntSpec:
    """0 to the largest of the rule's ``keys`` params (sources that disagree: the wider)."""
    return IntSpec(minimum=0, maximum=max(r.int_(k) for k in keys))


def hit6_total_range(r: Rule) -> tuple[int, int]:
    """HIT-6 total range from the item count and the answer points (36-78)."""
    points = r.num_table("points").values()
    n = len(r.strs("items"))
    return int(n * min(points)), int(n * max(points))


HIT6_TOTAL = hit6_total_range(_HIT6)
_MIDAS_DAYS = _upto(_MIDAS, "max_days")
_MIDAS_PAIN = _upto(_MIDAS, "pain_max")
_ANSWERS: dict[str, Obj[Any]] = {
    "midas": Obj(
        {
            **{f"q{i}": _req(_MIDAS_DAYS) for i in range(1, _MIDAS.int_("questions") + 1)},
            "a": _opt(_MIDAS_DAYS, doc="headache days, unscored"),
            "b": _opt(_MIDAS_PAIN, doc=f"average pain 0-{_MIDAS_PAIN.num.maximum:g}, unscored"),
        },
        lambda v: {k: x for k, x in v.items() if x is not None},
    ),
    "hit6": Obj(
        {item: _opt(Word(tuple(_HIT6.table("points")))) for item in _HIT6.strs("items")},
        lambda v: {k: x for k, x in v.items() if x is not None},
    ),
    "jankovic": Obj(
        {
            "severity": _req(_upto(_JANKOVIC, "severity_max")),
            "frequency": _req(_upto(_JANKOVIC, "frequency_max")),
        },
        dict,
    ),
    "tsui": Obj(
        {
            k: _req(_upto(_TSUI, "total_max"))
            for k in (
                "rotation",
                "tilt",
                "antero_retrocollis",
                "duration",
                "shoulder_elevation",
                "tremor",
            )
        },
        dict,
    ),
    "twstrs": Obj(
        {
            "severity": _opt(_upto(_TWSTRS, "severity_max")),
            "disability": _opt(_upto(_TWSTRS, "disability_max", "disability_max_alternative")),
            "disability_items": _opt(
                Obj(
                    {
                        i: _req(_upto(_TWSTRS_ITEMS, "item_max"))
                        for i in _TWSTRS_ITEMS.strs("items")
                    },
                    dict,
                ),
                doc="the disability subscale as its items (summed); not with a disability total",
            ),
            "pain": _opt(_upto(_TWSTRS, "pain_max")),
        },
        lambda v: {k: x for k, x in v.items() if x is not None},
        check=_twstrs_check,
    ),
    "mas": Obj(
        {
            "entries": _req(
                ListOf(
                    Obj(
                        {
                            "muscle": _req(Str(max_length=60, pattern=r"^[a-z][a-z0-9_]*$")),
                            "side": _req(Choice(Side, (Side.LEFT, Side.RIGHT, Side.MIDLINE))),
                            "grade": _req(Word(tuple(_MAS.table("grades")))),
                        },
                        lambda v: {
                            "muscle": v["muscle"],
                            "side": str(v["side"]),
                            "grade": v["grade"],
                        },
                    ),
                    min_items=1,
                    max_items=_MAS_ORDER.int_("max_entries"),
                    unique_by=lambda e: (e["muscle"], e["side"]),
                    unique_field="muscle",
                )
            )
        },
        lambda v: {"entries": [dict(e) for e in v["entries"]]},
    ),
    "bdi": Obj(
        {item: _opt(_upto(_BDI, "item_max")) for item in _BDI.strs("items")},
        lambda v: {k: x for k, x in v.items() if x is not None},
    ),
    "pain_nrs": Obj({"score": _req(_upto(_PAIN, "max"))}, dict),
    "gas": Obj(
        {
            "goals": _req(
                ListOf(
                    Obj(
                        {
                            "goal": _req(Str(max_length=300)),
                            "weight": _req(IntSpec(minimum=1, maximum=_GAS.int_("weight_max"))),
                            "level": _req(
                                IntSpec(
                                    minimum=_GAS.int_("level_min"), maximum=_GAS.int_("level_max")
                                )
                            ),
                        },
                        dict,
                    ),
                    min_items=1,
                    max_items=_GAS.int_("goals_max"),
                )
            )
        },
        lambda v: {"goals": [dict(g) for g in v["goals"]]},
    ),
}


def _questionnaire_variant(name: str) -> Obj[tuple[str, Any]]:
    return Obj(
        {"instrument": _req(Word((name,))), "answers": _req(_ANSWERS[name])},
        lambda v: (v["instrument"], v["answers"]),
    )


QUESTIONNAIRE: Select[tuple[str, Any]] = Select(
    lambda d: (
        d["instrument"]
        if isinstance(d.get("instrument"), str) and d["instrument"] in _ANSWERS
        else None
    ),
    {name: _questionnaire_variant(name) for name in _ANSWERS},
    f"instrument must be one of {list(_ANSWERS)}",
)

# ---- response ----------------------------------------------------------------------------------


def _check_score(s: DatedScore, path: str, errors: Errors) -> None:
    low, high = HIT6_TOTAL
    if s.instrument is ScoreInstrument.HIT6 and not low <= s.score <= high:
        add_error(errors, join(path, "score"), f"HIT-6 total must be {low}-{high}")
    if s.instrument is ScoreInstrument.MIDAS and not s.score.is_integer():
        add_error(errors, join(path, "score"), "MIDAS total is an integer")


def _check_response(obj: ResponseInput, path: str, errors: Errors) -> None:
    for items in ("sessions", "days", "scores"):
        _not_after("as_of", items)(obj, path, errors)


RESPONSE: Obj[ResponseInput] = Obj(
    {
        "as_of": _req(Date()),
        "sessions": _req(
            ListOf(
                Obj(
                    {
                        "date": _req(Date()),
                        "indication": _req(Choice(Indication, (Indication.CHRONIC_MIGRAINE,))),
                    },
                    lambda v: TreatmentSession(v["date"], v["indication"]),
                ),
                min_items=1,
                max_items=100,
                unique_by=lambda s: s.date,
                unique_field="date",
            )
        ),
        "days": _req(DAYS),
        "scores": _opt(
            ListOf(
                Obj(
                    {
                        "date": _req(Date()),
                        "instrument": _req(Choice(ScoreInstrument)),
                        "score": _req(Num(minimum=0, maximum=500)),
                    },
                    lambda v: DatedScore(v["date"], v["instrument"], v["score"]),
                    check=_check_score,
                ),
                max_items=200,
            ),
            (),
        ),
        "rule_set": _opt(Choice(ResponseRuleSet), doc="default: policy.response_rule_set"),
        "policy": _policy_field(),
    },
    lambda v: ResponseInput(
        v["as_of"],
        v["sessions"],
        v["days"],
        v["scores"],
        v["rule_set"] or _policy(v).response_rule_set,
        _policy(v),
    ),
    check=_check_response,
)

# ---- billing-lines -----------------------------------------------------------------------------


def _check_billing_injection(inj: BillingInjection, path: str, errors: Errors) -> None:
    if inj.indication in SPASTICITY and inj.limb is None:
        add_error(errors, join(path, "limb"), "required for spasticity injections")
    if inj.indication not in SPASTICITY and inj.limb is not None:
        add_error(errors, join(path, "limb"), "only for spasticity injections")


def _check_billing(b: BillingInput, path: str, errors: Errors) -> None:
    if b.units_given > sum(b.vial_sizes):
        add_error(errors, "session.units_given", "more than the units in the vials opened")


BILLING: Obj[BillingInput] = Obj(
    {
        "session": _req(
            Obj(
                {
                    "date": _req(Date()),
                    "injections": _req(
                        ListOf(
                            Obj(
                                {
                                    "indication": _req(Choice(Indication)),
                                    "muscle": _req(Word(MUSCLES)),
                                    "limb": _opt(Choice(Limb)),
                                    "side": _req(Choice(Side)),
                                },
                                lambda v: BillingInjection(
                                    v["indication"], v["muscle"], v["side"], v["limb"]
                                ),
                                check=_check_billing_injection,
                            ),
                            min_items=1,
                            max_items=200,
                        )
                    ),
                    "guidance": _opt(Choice(Guidance), Guidance.NONE),
                    "vials": _req(
                        ListOf(
                            Obj(
                                {"size_units": _req(IntSpec(minimum=1, maximum=1000))},
                                lambda v: v["size_units"],
                            ),
                            min_items=1,
                            max_items=20,
                        )
                    ),
                    "units_given": _req(UNITS),
                },
                dict,
            )
        ),
        "diagnoses": _req(
            ListOf(
                Str(max_length=8, pattern=r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"),
                max_items=12,
                unique_by=lambda d: d,
            )
        ),
        "policy": _policy_field(),
    },
    lambda v: BillingInput(
        v["session"]["date"],
        v["session"]["injections"],
        v["session"]["guidance"],
        v["session"]["vials"],
        v["session"]["units_given"],
        v["diagnoses"],
        _policy(v),
    ),
    check=_check_billing,
)

# ---- adverse-effect-triage ---------------------------------------------------------------------

TRIAGE: Obj[tuple[str, ...]] = Obj(
    {
        "symptoms": _req(
            ListOf(
                Str(max_length=30, pattern=r"^[a-z][a-z_]*$"), max_items=20, unique_by=lambda s: s
            )
        )
    },
    lambda v: v["symptoms"],
)

# ---- scale-schedule and cycle-review ------------------------------------------------------------

_SCALE_INDICATION = Word(scales.indications())
_MAX_CYCLES = 100  # sessions in one document (input bound)
_MAX_ENTRIES = 2000  # scale entries in one document (input bound)


SCALE_SCHEDULE: Obj[scales.ScheduleInput] = Obj(
    {
        "indication": _req(_SCALE_INDICATION),
        "as_of": _req(Date()),
        "sessions": _req(ListOf(Date(), max_items=_MAX_CYCLES, unique_by=lambda d: d)),
        "entries": _req(
            ListOf(
                Obj(
                    {"instrument": _req(Word(tuple(_ANSWERS))), "date": _req(Date())},
                    lambda v: (v["instrument"], v["date"]),
                ),
                max_items=_MAX_ENTRIES,
            )
        ),
    },
    lambda v: scales.ScheduleInput(v["indication"], v["as_of"], v["sessions"], v["entries"]),
)

_ENTRY = Obj(
    {"date": _req(Date()), "questionnaire": _req(QUESTIONNAIRE)},
    lambda v: scales.Entry(v["date"], v["questionnaire"][0], v["questionnaire"][1]),
)


def _check_review(obj: scales.ReviewInput, path: str, errors: Errors) -> None:
    for i, c in enumerate(obj.sessions):
        if c.wearing_off is not None and c.wearing_off < c.date:
            add_error(errors, join(path, f"sessions.{i}.wearing_off"), "before the session")
    _not_after("as_of", "entries")(obj, path, errors)


CYCLE_REVIEW: Obj[scales.ReviewInput] = Obj(
    {
        "indication": _req(Word(tuple(dict.fromkeys((*scales.indications(), *Indication))))),
        "as_of": _req(Date()),
        "sessions": _req(
            ListOf(
                Obj(
                    {
                        "date": _req(Date()),
                        "wearing_off": _opt(Date()),
                        "adverse_effects": _opt(
                            ListOf(Str(max_length=40, pattern=r"^[a-z_]+$"), max_items=20), ()
                        ),
                    },
                    lambda v: scales.Cycle(
                        v["date"], v["wearing_off"], tuple(v["adverse_effects"])
                    ),
                ),
                max_items=_MAX_CYCLES,
                unique_by=lambda c: c.date,
                unique_field="date",
            )
        ),
        "entries": _req(ListOf(_ENTRY, max_items=_MAX_ENTRIES)),
        "injections": _opt(
            ListOf(
                Obj(
                    {
                        "muscle": _req(Word(tuple(MUSCLES))),
                        "side": _req(Choice(Side)),
                        "sites": _req(IntSpec(minimum=1, maximum=100)),
                        "units": _req(UNITS),
                    },
                    lambda v: scales.Line(v["muscle"], str(v["side"]), v["sites"], v["units"]),
                ),
                max_items=200,
            ),
            (),
        ),
    },
    lambda v: scales.ReviewInput(
        v["indication"], v["as_of"], v["sessions"], v["entries"], v["injections"]
    ),
    check=_check_review,
)

# ---- registry ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _RuleDef:
    description: str
    spec: Spec[Any]
    evaluate: Callable[[Any], dict[str, object]]


def _questionnaire(parsed: tuple[str, Any]) -> dict[str, object]:
    return questionnaires.score(parsed[0], parsed[1])


def _reconstitution(parsed: Any) -> dict[str, object]:
    if isinstance(parsed, reconstitution.PlanRequest):
        return reconstitution.plan(parsed)
    return reconstitution.concentration(parsed)


RULES: Mapping[str, _RuleDef] = {
    "dose-check": _RuleDef(
        "A BOTOX session against label doses, windows, intervals, ages, safety flags, dilution and vials",
        DOSE_CHECK,
        dose.evaluate,
    ),
    "reconstitution": _RuleDef(
        "Units per 0.1 mL of a reconstituted vial, or the vial plan for a dose",
        RECONSTITUTION,
        _reconstitution,
    ),
    "diary-summary": _RuleDef(
        "ICHD-3 day classes, diary periods and medication-overuse flags", DIARY, diary.summarize
    ),
    "eligibility": _RuleDef(
        "Chronic-migraine BOTOX eligibility from diary, preventives and flags",
        ELIGIBILITY,
        eligibility.evaluate,
    ),
    "questionnaire": _RuleDef(
        "MIDAS, HIT-6, Jankovic, Tsui, TWSTRS, BDI, Modified Ashworth, pain NRS and GAS scoring",
        QUESTIONNAIRE,
        _questionnaire,
    ),
    "response": _RuleDef(
        "Per-cycle change vs baseline and the AHS/NICE/EHF continuation recommendation",
        RESPONSE,
        response.evaluate,
    ),
    "adverse-effect-triage": _RuleDef(
        "Reported symptoms the label's distant-spread warning makes urgent (same-day review)",
        TRIAGE,
        safety.triage,
    ),
    "scale-schedule": _RuleDef(
        "Which outcome scales of an indication are due: before each session and at its review",
        SCALE_SCHEDULE,
        scales.schedule,
    ),
    "cycle-review": _RuleDef(
        "Scale changes from baseline per cycle, effect duration, adverse effects and suggestions",
        CYCLE_REVIEW,
        scales.review,
    ),
    "billing-lines": _RuleDef(
        "CPT, guidance, J0585 with JW/JZ and ICD-10-CM lines for a session",
        BILLING,
        billing.evaluate,
    ),
}


def parse(name: str, document: object) -> Any:
    """Validate ``document`` for rule ``name`` into frozen dataclasses (raises InputError)."""
    definition = RULES[name]
    errors: Errors = {}
    parsed = definition.spec.parse(document, "", errors)
    if errors or isinstance(parsed, Invalid):
        raise InputError(errors or {"$": ["invalid document"]})
    return parsed


def run(name: str, document: object) -> dict[str, object]:
    definition = RULES[name]
    return definition.evaluate(parse(name, document))


@functools.cache
def _rules_listing() -> tuple[dict[str, object], ...]:
    return tuple(
        {"name": name, "description": d.description, "input_schema": d.spec.schema()}
        for name, d in RULES.items()
    )


def list_rules() -> list[dict[str, object]]:
    import copy

    return copy.deepcopy(list(_rules_listing()))


def vocabulary() -> dict[str, object]:
    """Codes and labels for UI and API, plus every treatment protocol under ``protocols``."""
    return {**_vocabulary(), "protocols": protocols_json()}
