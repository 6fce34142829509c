from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class ContactChannel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone call"
    SMS = "sms", "Text message"
    PORTAL = "portal", "Portal message"


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Spanish"
    FR = "fr", "French"
    DE = "de", "German"
    PT = "pt", "Portuguese"
    ZH = "zh", "Chinese"
    AR = "ar", "Arabic"
    VI = "vi", "Vietnamese"
    OTHER = "other", "Other"


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PROSPECTIVE = "prospective", "Prospective (to verify)"
    INACTIVE = "inactive", "Inactive"
    MERGED = "merged", "Merged into another chart"


class SubscriberRelationship(models.TextChoices):
    SELF = "self", "Self"
    SPOUSE = "spouse", "Spouse or partner"
    PARENT = "parent", "Parent or guardian"
    OTHER = "other", "Other"


class MergeStatus(models.TextChoices):
    PENDING = "pending", "Pending (can be undone)"
    CONFIRMED = "confirmed", "Confirmed"
    UNDONE = "undone", "Undone"


class Indication(models.TextChoices):
    # Codes shared with clinic_rules' vocabulary.
    CHRONIC_MIGRAINE = "chronic_migraine", "Chronic migraine"
    CERVICAL_DYSTONIA = "cervical_dystonia", "Cervical dystonia"
    BLEPHAROSPASM = "blepharospasm", "Blepharospasm"
    UPPER_LIMB_SPASTICITY = "upper_limb_spasticity", "Upper limb spasticity"
    LOWER_LIMB_SPASTICITY = "lower_limb_spasticity", "Lower limb spasticity"


class Flag(models.TextChoices):
    # Contraindications (block treatment) and warnings (need attention); codes shared with clinic_rules.
    BOTULINUM_HYPERSENSITIVITY = (
        "botulinum_hypersensitivity",
        "Known hypersensitivity to a botulinum toxin",
    )
    INJECTION_SITE_INFECTION = "injection_site_infection", "Infection at a proposed injection site"
    NEUROMUSCULAR_DISORDER = "neuromuscular_disorder", "Neuromuscular junction disorder"
    PREGNANCY_OR_BREASTFEEDING = "pregnancy_or_breastfeeding", "Pregnant or breastfeeding"
    AMINOGLYCOSIDE_USE = "aminoglycoside_use", "Taking an aminoglycoside"
    DYSPHAGIA_OR_BREATHING = (
        "dysphagia_or_breathing",
        "Pre-existing swallowing or breathing problems",
    )
    OTHER_TOXIN_LAST_4_MONTHS = (
        "other_toxin_last_4_months",
        "Other botulinum toxin in the last 4 months",
    )


CONTRAINDICATION_FLAGS = frozenset({Flag.BOTULINUM_HYPERSENSITIVITY, Flag.INJECTION_SITE_INFECTION})


class PreventiveClass(models.TextChoices):
    BETA_BLOCKER = "beta_blocker", "Beta blocker"
    ANTICONVULSANT = "anticonvulsant", "Anticonvulsant"
    TRICYCLIC = "tricyclic", "Tricyclic antidepressant"
    SNRI = "snri", "SNRI"
    CALCIUM_CHANNEL_BLOCKER = "calcium_channel_blocker", "Calcium channel blocker"
    ARB_ACE = "arb_ace", "ARB / ACE inhibitor"
    CGRP_ANTIBODY = "cgrp_antibody", "CGRP monoclonal antibody"
    GEPANT = "gepant", "Gepant"
    BOTULINUM_TOXIN = "botulinum_toxin", "Botulinum toxin"
    OTHER = "other", "Other"


class PriorOutcome(models.TextChoices):
    INEFFECTIVE = "ineffective", "Ineffective"
    NOT_TOLERATED = "not_tolerated", "Not tolerated"
    CONTRAINDICATED = "contraindicated", "Contraindicated"
