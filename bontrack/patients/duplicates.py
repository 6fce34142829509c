"""Likely duplicates of a chart about to be created: same person under another chart.

A candidate is a patient of the practice with the same date of birth and the same last or first
name (compared with accents and case folded: "José Müller" = "jose muller"), or the same e-mail
address (case-insensitive), or the same phone number (digits only). One query, bounded.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from bontrack.patients.choices import PatientStatus
from bontrack.patients.models import Patient

LIMIT = 10


def fold(text: str) -> str:
    """Case and accents folded, spaces normalised: the form names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().replace("-", " ").split())


def digits(phone: str) -> str:
    only = "".join(c for c in phone or "" if c.isdigit() and c.isascii())
    # A US number with or without its country code is the same number.
    return only[1:] if len(only) == 11 and only.startswith("1") else only


@dataclass(frozen=True)
class Candidate:
    patient: Patient
    reasons: tuple[str, ...]

    @property
    def sentence(self) -> str:
        return "Same " + ", ".join(self.reasons) + "."


def likely_duplicates(
    *,
    practice_id: int,
    first_name: str,
    last_name: str,
    date_of_birth: date | None,
    phone: str = "",
    email: str = "",
    exclude_ids: tuple[int, ...] = (),
) -> list[Candidate]:
    cond = Q()
    if date_of_birth is not None:
        cond |= Q(date_of_birth=date_of_birth)
    if email.strip():
        cond |= Q(email__iexact=email.strip())
    number = digits(phone)
    if len(number) >= 7:
        # Stored numbers differ in punctuation: narrow by the last four digits, compare in Python.
        cond |= Q(phone__endswith=number[-4:])
    if not cond:
        return []
    rows = (
        Patient.objects.filter(practice_id=practice_id)
        .filter(cond)
        .exclude(pk__in=exclude_ids)
        .exclude(status=PatientStatus.MERGED)
        .select_related("clinic")
        .order_by("name_key", "id")[:200]
    )
    first, last = fold(first_name), fold(last_name)
    found: list[Candidate] = []
    for p in rows:
        reasons: list[str] = []
        if date_of_birth is not None and p.date_of_birth == date_of_birth:
            same_last = bool(last) and fold(p.last_name) == last
            same_first = bool(first) and fold(p.first_name) == first
            if same_last and same_first:
                reasons.append("name and date of birth")
            elif same_last or same_first:
                reasons.append(("last" if same_last else "first") + " name and date of birth")
        if email.strip() and p.email and p.email.casefold() == email.strip().casefold():
            reasons.append("e-mail address")
        if len(number) >= 7 and digits(p.phone) == number:
            reasons.append("phone number")
        if reasons:
            found.append(Candidate(p, tuple(reasons)))
    found.sort(key=lambda c: -len(c.reasons))
    return found[:LIMIT]
