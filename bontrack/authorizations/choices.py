"""Codes of the authorizations app."""

from django.db import models


class AuthStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    EXPIRED = "expired", "Expired"


class DocumentKind(models.TextChoices):
    UPLOAD = "upload", "Uploaded file"
    INITIAL_PACKET = "initial", "Initial authorization packet"
    RENEWAL_PACKET = "renewal", "Renewal packet"


PACKET_KINDS = (DocumentKind.INITIAL_PACKET, DocumentKind.RENEWAL_PACKET)
