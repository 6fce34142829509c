"""Value types shared by every rule: enums, frozen input dataclasses and findings."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime


class Severity(enum.StrEnum):
    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


SEVERITY_RANK: dict[Severity, int] = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}


class AckBy(enum.StrEnum):
    """Who must acknowledge a warning when not any clinician charting the session may.

    ``physician``: a physician acknowledges it with a written reason (off-label treatment,
    clinical facts §8). A finding without ``ack_by`` is acknowledged by whoever charts.
    """

    PHYSICIAN = "physician"


class FindingCode(enum.StrEnum):
    CUMULATIVE_DOSE = "cumulative-dose"
    LIMB_DOSE = "limb-dose"
    SESSION_DOSE = "session-dose"
    MUSCLE_DOSE = "muscle-dose"
    SITE_DOSE = "site-dose"
    PROTOCOL_DEVIATION = "protocol-deviation"
    FOLLOW_THE_PAIN = "follow-the-pain"
    RETREATMENT_INTERVAL = "retreatment-interval"
    BLEPHAROSPASM_30_DAY = "blepharospasm-30-day"
    AGE = "age"
    CONTRAINDICATION = "contraindication"
    WARNING_FLAG = "warning-flag"
    PRODUCT = "product"
    DILUTION = "dilution"
    VIAL_EXPIRED = "vial-expired"
    WEIGHT_REQUIRED = "weight-required"
    ELIGIBILITY = "eligibility"
    MEDICATION_OVERUSE = "medication-overuse"
    DATA_COMPLETENESS = "data-completeness"
    BILLING = "billing"


class Indication(enum.StrEnum):
    CHRONIC_MIGRAINE = "chronic_migraine"
    CERVICAL_DYSTONIA = "cervical_dystonia"
    BLEPHAROSPASM = "blepharospasm"
    UPPER_LIMB_SPASTICITY = "upper_limb_spasticity"
    LOWER_LIMB_SPASTICITY = "lower_limb_spasticity"
    # Facial pain and other conditions the label does not cover: a clinic-defined protocol
    # (issue 10 item 11) that only the product-wide (class-wide) limits check.
    FACIAL_PAIN = "facial_pain"


# Indications without a labelled BOTOX protocol: only the class-wide rules apply (cumulative
# window, re-treatment interval, contraindications, product); no labelled age, dose or site rule.
OFF_LABEL = frozenset({Indication.FACIAL_PAIN})

SPASTICITY = frozenset({Indication.UPPER_LIMB_SPASTICITY, Indication.LOWER_LIMB_SPASTICITY})


class Product(enum.StrEnum):
    ONABOTULINUMTOXIN_A = "onabotulinumtoxinA"
    ABOBOTULINUMTOXIN_A = "abobotulinumtoxinA"
    INCOBOTULINUMTOXIN_A = "incobotulinumtoxinA"
    RIMABOTULINUMTOXIN_B = "rimabotulinumtoxinB"
    DAXIBOTULINUMTOXIN_A = "daxibotulinumtoxinA"


BOTOX = Product.ONABOTULINUMTOXIN_A


class Side(enum.StrEnum):
    LEFT = "left"
    RIGHT = "right"
    MIDLINE = "midline"
    BILATERAL = "bilateral"


class Flag(enum.StrEnum):
    BOTULINUM_HYPERSENSITIVITY = "botulinum_hypersensitivity"
    INJECTION_SITE_INFECTION = "injection_site_infection"
    NEUROMUSCULAR_DISORDER = "neuromuscular_disorder"
    PREGNANCY_OR_BREASTFEEDING = "pregnancy_or_breastfeeding"
    AMINOGLYCOSIDE_USE = "aminoglycoside_use"
    DYSPHAGIA_OR_BREATHING = "dysphagia_or_breathing"
    OTHER_TOXIN_LAST_4_MONTHS = "other_toxin_last_4_months"


class AcuteClass(enum.StrEnum):
    TRIPTAN = "triptan"
    ERGOT = "ergot"
    SIMPLE_ANALGESIC = "simple_analgesic"
    OPIOID = "opioid"
    COMBINATION_ANALGESIC = "combination_analgesic"
    OTHER = "other"


class DayClass(enum.StrEnum):
    MIGRAINE = "migraine"
    PROBABLE_MIGRAINE = "probable_migraine"
    HEADACHE = "headache"
    HEADACHE_FREE = "headache_free"
    MISSING = "missing"


class PreventiveClass(enum.StrEnum):
    BETA_BLOCKER = "beta_blocker"
    ANTIEPILEPTIC = "antiepileptic"
    TRICYCLIC_ANTIDEPRESSANT = "tricyclic_antidepressant"
    SNRI = "snri"
    CALCIUM_CHANNEL_BLOCKER = "calcium_channel_blocker"
    ANGIOTENSIN_BLOCKER = "angiotensin_blocker"
    CGRP_ANTIBODY = "cgrp_antibody"
    GEPANT = "gepant"
    OTHER = "other"


class PreventiveOutcome(enum.StrEnum):
    INEFFECTIVE = "ineffective"
    NOT_TOLERATED = "not_tolerated"
    CONTRAINDICATED = "contraindicated"
    EFFECTIVE = "effective"
    ONGOING = "ongoing"


FAILED_OUTCOMES = frozenset(
    {
        PreventiveOutcome.INEFFECTIVE,
        PreventiveOutcome.NOT_TOLERATED,
        PreventiveOutcome.CONTRAINDICATED,
    }
)


class ResponseRuleSet(enum.StrEnum):
    AHS = "ahs"
    NICE = "nice"
    EHF = "ehf"


class Recommendation(enum.StrEnum):
    CONTINUE = "continue"
    CONSIDER_STOPPING = "consider_stopping"
    STOP = "stop"
    TOO_EARLY = "too_early"


class Limb(enum.StrEnum):
    LEFT_ARM = "left_arm"
    RIGHT_ARM = "right_arm"
    LEFT_LEG = "left_leg"
    RIGHT_LEG = "right_leg"
    TRUNK = "trunk"


class Guidance(enum.StrEnum):
    NONE = "none"
    EMG = "emg"
    ESTIM = "estim"
    ULTRASOUND = "ultrasound"


class BilateralBilling(enum.StrEnum):
    MODIFIER_50 = "modifier_50"
    RT_LT = "rt_lt"


class ScoreInstrument(enum.StrEnum):
    MIDAS = "midas"
    HIT6 = "hit6"


@dataclass(frozen=True, slots=True)
class Finding:
    code: FindingCode
    rule_id: str
    severity: Severity
    message: str
    source: str
    confirmed: bool
    ack_by: AckBy | None = None

    def sort_key(self) -> tuple[int, str, str, str]:
        return (SEVERITY_RANK[self.severity], self.code.value, self.rule_id, self.message)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code.value,
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "message": self.message,
            "source": self.source,
            "confirmed": self.confirmed,
            "ack_by": None if self.ack_by is None else self.ack_by.value,
        }


def findings_json(findings: list[Finding]) -> list[dict[str, object]]:
    """Deterministic order (severity, code, rule_id, message); exact duplicates collapse."""
    return [f.to_json() for f in sorted(set(findings), key=Finding.sort_key)]


@dataclass(frozen=True, slots=True)
class Policy:
    window_days: int
    early_cm_retreatment: Severity
    off_label_age: Severity
    response_rule_set: ResponseRuleSet
    failed_preventive_classes_required: int
    require_4h_for_headache_day: bool
    count_probable_as_migraine: bool
    min_diary_completeness: float
    bilateral_billing: BilateralBilling


@dataclass(frozen=True, slots=True)
class Patient:
    birth_date: date
    weight_kg: float | None = None
    flags: frozenset[Flag] = frozenset()
    # When the weight was measured: a child's weight older than the program's limit
    # (POLICY-PEDS-WEIGHT-MAX-AGE) before the session does not count for the per-kg limits.
    weight_measured_on: date | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    date: date
    product: Product
    indication: Indication
    total_units: float


@dataclass(frozen=True, slots=True)
class Injection:
    indication: Indication
    muscle: str
    side: Side
    sites: int
    units: float


@dataclass(frozen=True, slots=True)
class Vial:
    size_units: float
    diluent_ml: float
    reconstituted_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    date: date
    product: Product
    injections: tuple[Injection, ...]
    vials: tuple[Vial, ...] = ()
    performed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DoseCheckInput:
    as_of: date
    patient: Patient
    history: tuple[HistoryEntry, ...]
    session: Session
    policy: Policy


@dataclass(frozen=True, slots=True)
class DiaryDay:
    date: date
    headache: bool
    hours: float = 0.0
    severity: int = 0
    unilateral: bool = False
    pulsating: bool = False
    worse_with_activity: bool = False
    nausea: bool = False
    vomiting: bool = False
    photophobia: bool = False
    phonophobia: bool = False
    aura: bool = False
    aura_minutes: int | None = None
    acute_medications: frozenset[AcuteClass] = frozenset()
    triptan_or_ergot_relief: bool = False


@dataclass(frozen=True, slots=True)
class DiaryInput:
    as_of: date
    days: tuple[DiaryDay, ...]
    period_days: int
    policy: Policy


@dataclass(frozen=True, slots=True)
class Preventive:
    drug: str
    drug_class: PreventiveClass
    outcome: PreventiveOutcome


@dataclass(frozen=True, slots=True)
class EligibilityInput:
    as_of: date
    patient: Patient
    indication: Indication
    days: tuple[DiaryDay, ...]
    prior_preventives: tuple[Preventive, ...]
    period_days: int
    policy: Policy


@dataclass(frozen=True, slots=True)
class TreatmentSession:
    date: date
    indication: Indication


@dataclass(frozen=True, slots=True)
class DatedScore:
    date: date
    instrument: ScoreInstrument
    score: float


@dataclass(frozen=True, slots=True)
class ResponseInput:
    as_of: date
    sessions: tuple[TreatmentSession, ...]
    days: tuple[DiaryDay, ...]
    scores: tuple[DatedScore, ...]
    rule_set: ResponseRuleSet
    policy: Policy


@dataclass(frozen=True, slots=True)
class BillingInjection:
    indication: Indication
    muscle: str
    side: Side
    limb: Limb | None = None


@dataclass(frozen=True, slots=True)
class BillingInput:
    date: date
    injections: tuple[BillingInjection, ...]
    guidance: Guidance
    vial_sizes: tuple[int, ...]
    units_given: float
    diagnoses: tuple[str, ...]
    policy: Policy


def age_on(birth_date: date, on: date) -> int:
    """Completed years on a date (a 29 February birthday falls on 1 March in common years)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def num(value: float) -> int | float:
    """JSON number rounded to 2 decimals; integral values as int. Rounding first makes the result
    independent of the order in which float units were summed (70.99999999999999 is 71)."""
    rounded = round(float(value), 2)
    if rounded.is_integer():
        return int(rounded)
    return rounded
