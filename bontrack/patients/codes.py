"""ICD-10-CM codes accepted for each program indication (clinical-facts §4.4, source S33/S33b)."""

from __future__ import annotations

from bontrack.patients.choices import Indication

_SPASTICITY = (
    "I69.351",
    "I69.352",
    "I69.353",
    "I69.354",
    "G81.10",
    "G81.11",
    "G81.12",
    "G81.13",
    "G81.14",
    "G80.0",
    "G80.1",
    "G80.2",
    "G35",
)

ICD10_BY_INDICATION: dict[str, tuple[str, ...]] = {
    Indication.CHRONIC_MIGRAINE: (
        "G43.701",
        "G43.709",
        "G43.711",
        "G43.719",
        "G43.E01",
        "G43.E09",
        "G43.E11",
        "G43.E19",
    ),
    Indication.CERVICAL_DYSTONIA: ("G24.3",),
    Indication.BLEPHAROSPASM: ("G24.5",),
    Indication.UPPER_LIMB_SPASTICITY: _SPASTICITY,
    Indication.LOWER_LIMB_SPASTICITY: _SPASTICITY,
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
