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
