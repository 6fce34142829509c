"""The patients app's door to clinic_rules: ICD-10-CM codes per program indication with their labels,
and the pediatric age."""

from __future__ import annotations

from bontrack.patients.choices import Indication
from clinic_rules.data import rule

# The code lists are clinical data: they come from clinic_rules (rule BILL-ICD10-MATCH, source S33/S33b).
ICD10_BY_INDICATION: dict[str, tuple[str, ...]] = {
    indication: tuple(codes)  # type: ignore[arg-type]
    for indication, codes in rule("BILL-ICD10-MATCH").table("codes").items()
    if indication in Indication.values
}

ICD10_LABELS: dict[str, str] = {
    "G43.701": "Chronic migraine without aura, not intractable, with status migrainosus",
    "G43.709": "Chronic migraine without aura, not intractable, without status migrainosus",
    "G43.711": "Chronic migraine without aura, intractable, with status migrainosus",
    "G43.719": "Chronic migraine without aura, intractable, without status migrainosus",
    "G43.E01": "Chronic migraine with aura, not intractable, with status migrainosus",
    "G43.E09": "Chronic migraine with aura, not intractable, without status migrainosus",
    "G43.E11": "Chronic migraine with aura, intractable, with status migrainosus",
    "G43.E19": "Chronic migraine with aura, intractable, without status migrainosus",
    "G24.3": "Spasmodic torticollis",
    "G24.5": "Blepharospasm",
    "I69.351": "Hemiplegia following cerebral infarction, right dominant side",
    "I69.352": "Hemiplegia following cerebral infarction, left dominant side",
    "I69.353": "Hemiplegia following cerebral infarction, right non-dominant side",
    "I69.354": "Hemiplegia following cerebral infarction, left non-dominant side",
    "I69.359": "Hemiplegia following cerebral infarction, unspecified side (code status unconfirmed)",
    "G81.10": "Spastic hemiplegia affecting unspecified side",
    "G81.11": "Spastic hemiplegia affecting right dominant side",
    "G81.12": "Spastic hemiplegia affecting left dominant side",
    "G81.13": "Spastic hemiplegia affecting right nondominant side",
    "G81.14": "Spastic hemiplegia affecting left nondominant side",
    "G80.0": "Spastic quadriplegic cerebral palsy",
    "G80.1": "Spastic diplegic cerebral palsy",
    "G80.2": "Spastic hemiplegic cerebral palsy",
    "G35": "Multiple sclerosis",
}


def codes_for(indication: str) -> tuple[str, ...]:
    return ICD10_BY_INDICATION.get(indication, ())


def adult_age() -> int:
    """Patients younger than this follow the pediatric rules (BTX-PEDIATRIC-AGE: S15, S29d, S19)."""
    return rule("BTX-PEDIATRIC-AGE").int_("adult_age")


def is_pediatric(age: int) -> bool:
    return age < adult_age()
