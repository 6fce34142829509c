from django.db import models


class VialStatus(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    RECONSTITUTED = "reconstituted", "Reconstituted"
    USED = "used", "Used"
    DISCARDED = "discarded", "Discarded"
    # Blocked by a lot recall while still in stock: never used, never counted as on hand.
    RECALLED = "recalled", "Recalled"


class VialSource(models.TextChoices):
    CLINIC_STOCK = "clinic_stock", "Clinic stock (buy and bill)"
    SPECIALTY_PHARMACY = "specialty_pharmacy", "Specialty pharmacy (one patient)"


class WasteReason(models.TextChoices):
    SINGLE_DOSE_REMAINDER = "single_dose_remainder", "Rest of a single-dose vial after the dose"
    PAST_USE_WINDOW = "past_use_window", "Not used within its use window after mixing"
    CONTAMINATED = "contaminated", "Contaminated or dropped"
    VACUUM_FAILED = "vacuum_failed", "Vacuum did not draw in the diluent"
    EXPIRED = "expired", "Expired before use"
    COLD_CHAIN = "cold_chain", "Cold chain broken"
    RECALLED = "recalled", "Lot recalled"
    OTHER = "other", "Other (see note)"


class ContactMethod(models.TextChoices):
    CALLED = "called", "Called, spoke to the patient"
    LEFT_MESSAGE = "left_message", "Left a message"
    LETTER_SENT = "letter_sent", "Letter sent"
