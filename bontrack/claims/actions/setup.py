"""The practice's billing profile (billing provider, EDI identities, fee schedule): the
practice-wide clinic administrator keeps it; every change is audited with its before and after."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.claims.models import BillingProfile

FIELDS = (
    "name",
    "npi",
    "tax_id",
    "address",
    "city",
    "state",
    "zip_code",
    "phone",
    "contact",
    "submitter_id",
    "receiver_name",
    "receiver_id",
    "usage",
    "fees",
)


def _npi_ok(npi: str) -> bool:
    """The NPI check digit (Luhn over the prefix 80840 and the first nine digits)."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


@transaction.atomic(durable=True)
def save_profile(*, actor: User, **values: Any) -> BillingProfile:
    scope = actor.scope(Perm.CLAIM_SETUP)
    if scope is None or not scope.all_clinics:
        raise PermissionDenied("The billing profile is kept by a practice-wide administrator.")
    errors: dict[str, list[str]] = {}
    if not _npi_ok(str(values.get("npi", ""))):
        errors["npi"] = ["This is not a valid NPI (ten digits with its check digit)."]
    for name, size in (("tax_id", 9), ("zip_code", 9), ("phone", 10)):
        if not re.fullmatch(rf"\d{{{size}}}", str(values.get(name, ""))):
            errors[name] = [f"{size} digits."]
    if not re.fullmatch(r"[A-Za-z]{2}", str(values.get("state", ""))):
        errors["state"] = ["Two letters, e.g. IL."]
    if values.get("usage") not in ("T", "P"):
        errors["usage"] = ["Test or production."]
    if errors:
        raise ValidationError(errors)
    values["state"] = str(values["state"]).upper()
    profile = (
        BillingProfile.objects.select_for_update().filter(practice_id=scope.practice_id).first()
    )
    before = {k: getattr(profile, k) for k in FIELDS} if profile else {}
    if profile is None:
        profile = BillingProfile(practice_id=scope.practice_id)
    for k in FIELDS:
        setattr(profile, k, values[k])
    profile.save()
    audit.record(
        actor=actor,
        action="update" if before else "create",
        obj=profile,
        practice_id=scope.practice_id,
        summary="Billing profile saved",
        changes={k: [before.get(k), values[k]] for k in FIELDS if before.get(k) != values[k]},
    )
    return profile
