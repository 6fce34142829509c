"""Codes of the diary app. Class codes are clinic_rules' (`AcuteClass`, `DayClass`)."""

from __future__ import annotations

from django.db import models


class Severity(models.IntegerChoices):
    # The diary-summary scale of clinic_rules: 0 none, 1 mild, 2 moderate, 3 severe.
    NONE = 0, "None"
    MILD = 1, "Mild"
    MODERATE = 2, "Moderate"
    SEVERE = 3, "Severe"


class DiarySource(models.TextChoices):
    PATIENT = "patient", "Patient (portal)"
    TRANSCRIBED = "transcribed", "Transcribed by staff"
    IMPORT = "import", "Imported"


class AcuteClass(models.TextChoices):
    # Codes shared with clinic_rules.model.AcuteClass.
    TRIPTAN = "triptan", "Triptan"
    ERGOT = "ergot", "Ergot"
    SIMPLE_ANALGESIC = "simple_analgesic", "Simple analgesic"
    OPIOID = "opioid", "Opioid"
    COMBINATION_ANALGESIC = "combination_analgesic", "Combination analgesic"
    OTHER = "other", "Other"


class Instrument(models.TextChoices):
    MIDAS = "midas", "MIDAS"
    HIT6 = "hit6", "HIT-6"


class AssignedFor(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    PRE_TREATMENT = "pre_treatment", "Before treatment"


class Decision(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    DEFER = "defer", "Defer"


class TreatDecision(models.TextChoices):
    """The physician's decision at the end of a consultation for one indication."""

    TREAT = "treat", "Treat with BOTOX"
    DO_NOT_TREAT = "do_not_treat", "Do not treat"
    DEFER = "defer", "Defer the decision"


class ToxinProduct(models.TextChoices):
    # clinic_rules Product codes. Units of different products are never converted (S26, S26b).
    ONABOTULINUMTOXIN_A = "onabotulinumtoxinA", "onabotulinumtoxinA (BOTOX)"
    ABOBOTULINUMTOXIN_A = "abobotulinumtoxinA", "abobotulinumtoxinA (Dysport)"
    INCOBOTULINUMTOXIN_A = "incobotulinumtoxinA", "incobotulinumtoxinA (Xeomin)"
    RIMABOTULINUMTOXIN_B = "rimabotulinumtoxinB", "rimabotulinumtoxinB (Myobloc)"
    DAXIBOTULINUMTOXIN_A = "daxibotulinumtoxinA", "daxibotulinumtoxinA (Daxxify)"


class PostureComponent(models.TextChoices):
    """Cervical dystonia posture components recorded at each visit (the Tsui/TWSTRS items)."""

    ROTATION = "rotation", "Rotation (torticollis)"
    LATEROCOLLIS = "laterocollis", "Head tilt (laterocollis)"
    ANTEROCOLLIS = "anterocollis", "Head forward (anterocollis)"
    RETROCOLLIS = "retrocollis", "Head back (retrocollis)"
    SHOULDER_ELEVATION = "shoulder_elevation", "Shoulder elevation"
    LATERAL_SHIFT = "lateral_shift", "Lateral shift"
    TREMOR = "tremor", "Head tremor"


class PostureDirection(models.TextChoices):
    LEFT = "left", "to the left"
    RIGHT = "right", "to the right"
    FORWARD = "forward", "forward"
    BACK = "back", "back"


# The directions each component can take (definitions, not clinical numbers): antero- and
# retrocollis are named by their direction; the others go to the left or right; a tremor
# is described by the direction of its movement.
POSTURE_DIRECTIONS: dict[str, tuple[str, ...]] = {
    PostureComponent.ROTATION: ("left", "right"),
    PostureComponent.LATEROCOLLIS: ("left", "right"),
    PostureComponent.ANTEROCOLLIS: ("forward",),
    PostureComponent.RETROCOLLIS: ("back",),
    PostureComponent.SHOULDER_ELEVATION: ("left", "right"),
    PostureComponent.LATERAL_SHIFT: ("left", "right"),
    PostureComponent.TREMOR: ("left", "right", "forward", "back"),
}


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Validating"
    WRITING = "writing", "Writing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# A name -> class vocabulary for the diary picklist (names of medicines, not clinical numbers).
MEDICINES: dict[str, tuple[str, str]] = {
    "sumatriptan": ("Sumatriptan", AcuteClass.TRIPTAN),
    "rizatriptan": ("Rizatriptan", AcuteClass.TRIPTAN),
    "zolmitriptan": ("Zolmitriptan", AcuteClass.TRIPTAN),
    "eletriptan": ("Eletriptan", AcuteClass.TRIPTAN),
    "naratriptan": ("Naratriptan", AcuteClass.TRIPTAN),
    "almotriptan": ("Almotriptan", AcuteClass.TRIPTAN),
    "frovatriptan": ("Frovatriptan", AcuteClass.TRIPTAN),
    "ergotamine": ("Ergotamine", AcuteClass.ERGOT),
    "dihydroergotamine": ("Dihydroergotamine (DHE)", AcuteClass.ERGOT),
    "paracetamol": ("Paracetamol (acetaminophen)", AcuteClass.SIMPLE_ANALGESIC),
    "ibuprofen": ("Ibuprofen", AcuteClass.SIMPLE_ANALGESIC),
    "naproxen": ("Naproxen", AcuteClass.SIMPLE_ANALGESIC),
    "aspirin": ("Aspirin", AcuteClass.SIMPLE_ANALGESIC),
    "diclofenac": ("Diclofenac", AcuteClass.SIMPLE_ANALGESIC),
    "codeine": ("Codeine", AcuteClass.OPIOID),
    "tramadol": ("Tramadol", AcuteClass.OPIOID),
    "oxycodone": ("Oxycodone", AcuteClass.OPIOID),
    "paracetamol_codeine": ("Paracetamol + codeine", AcuteClass.COMBINATION_ANALGESIC),
    "aspirin_paracetamol_caffeine": (
        "Aspirin + paracetamol + caffeine",
        AcuteClass.COMBINATION_ANALGESIC,
    ),
    "butalbital": ("Butalbital combination", AcuteClass.COMBINATION_ANALGESIC),
    "other": ("Other medicine", AcuteClass.OTHER),
}
MEDICINE_ALIASES = {
    "acetaminophen": "paracetamol",
    "dhe": "dihydroergotamine",
    "excedrin": "aspirin_paracetamol_caffeine",
    "tylenol with codeine": "paracetamol_codeine",
    "paracetamol+codeine": "paracetamol_codeine",
    "aspirin+paracetamol+caffeine": "aspirin_paracetamol_caffeine",
}


def medicine_class(name: str) -> str | None:
    key = name.strip().casefold()
    key = MEDICINE_ALIASES.get(key, key)
    entry = MEDICINES.get(key)
    return entry[1] if entry else None


def medicine_key(name: str) -> str | None:
    key = name.strip().casefold()
    key = MEDICINE_ALIASES.get(key, key)
    return key if key in MEDICINES else None
