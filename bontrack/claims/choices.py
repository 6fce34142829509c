"""Codes of the claims app (queue states, guidance, claim filing indicators)."""

from django.db import models


class ClaimStatus(models.TextChoices):
    READY = "ready", "Ready to export"
    NEEDS_ATTENTION = "attention", "Needs attention"
    EXPORTED = "exported", "Exported"
    PAID = "paid", "Paid"
    DENIED = "denied", "Denied"
    # The session was corrected by a signed amendment before this claim left: the amendment's
    # claim replaces it (kept for the record, out of the queue).
    SUPERSEDED = "superseded", "Replaced by an amendment's claim"


QUEUE_STATES = (
    ClaimStatus.READY,
    ClaimStatus.NEEDS_ATTENTION,
    ClaimStatus.EXPORTED,
    ClaimStatus.PAID,
    ClaimStatus.DENIED,
)
# States in which billing may still edit lines, guidance and coverage.
EDITABLE_STATES = (ClaimStatus.READY, ClaimStatus.NEEDS_ATTENTION)


class Guidance(models.TextChoices):
    """clinic_rules Guidance values. A new claim takes it from the charted sites' guidance
    (generate.charted_guidance); billing can change it with a reason."""

    NONE = "none", "No guidance"
    EMG = "emg", "Needle EMG guidance"
    ESTIM = "estim", "Electrical stimulation guidance"
    ULTRASOUND = "ultrasound", "Ultrasound guidance"


class FilingIndicator(models.TextChoices):
    """X12 SBR09 claim filing indicator codes (the ones a neurology clinic meets)."""

    MEDICARE_B = "MB", "Medicare Part B"
    MEDICAID = "MC", "Medicaid"
    COMMERCIAL = "CI", "Commercial insurance"
    BLUE_CROSS = "BL", "Blue Cross Blue Shield"
    HMO = "HM", "Health maintenance organization"
