"""Coverage starts from the registration: the values the front desk typed (payer, member ID,
group, subscriber, the patient's address) become billing's insurance form, so nothing is typed
twice. Payer ID and claim filing indicator are billing's own. ``drift`` tells billing, in a
sentence, when the registration was edited after the coverage was saved and now disagrees on the
payer or the member ID."""

from __future__ import annotations

import re

from bontrack.claims.models import Coverage
from bontrack.patients.choices import SubscriberRelationship
from bontrack.patients.models import Patient

# Coverage fields the registration fills (the rest, payer ID and filing indicator, are billing's).
FROM_REGISTRATION = (
    "payer_name",
    "member_id",
    "group_number",
    "subscriber_relationship",
    "subscriber_last_name",
    "subscriber_first_name",
    "address",
    "address2",
    "city",
    "state",
    "zip_code",
)
# The two values whose later change in the registration billing is warned about.
WATCHED = {"payer_name": "payer", "member_id": "member ID"}


def split_name(name: str) -> tuple[str, str]:
    """(last, first) of a name as the desk types it: "Last, First" or "First Middle Last"."""
    name = re.sub(r"\s+", " ", (name or "").strip())
    if not name:
        return "", ""
    if "," in name:
        last, _, first = name.partition(",")
        return last.strip(), first.strip()
    first, _, last = name.rpartition(" ")
    return last, first


def values(patient: Patient) -> dict[str, str]:
    """The coverage form's values as the registration gives them."""
    relationship = patient.subscriber_relationship or SubscriberRelationship.SELF
    last, first = ("", "")
    if relationship != SubscriberRelationship.SELF:
        last, first = split_name(patient.subscriber_name)
    state = (patient.state or "").strip()
    postal = re.sub(r"\D", "", patient.postal_code or "")
    return {
        "payer_name": patient.insurance_payer.strip(),
        "member_id": patient.insurance_member_id.strip(),
        "group_number": patient.insurance_group.strip(),
        "subscriber_relationship": str(relationship),
        "subscriber_last_name": last,
        "subscriber_first_name": first,
        "address": patient.address_line1.strip(),
        "address2": patient.address_line2.strip(),
        "city": patient.city.strip(),
        "state": state.upper() if len(state) == 2 else state,
        "zip_code": postal,
    }


def has_insurance(patient: Patient) -> bool:
    return bool(patient.insurance_payer.strip() or patient.insurance_member_id.strip())


def _same(a: str, b: str) -> bool:
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


def sources(coverage: Coverage | None, patient: Patient) -> dict[str, bool]:
    """For each registration-filled field: does the form's value come from the registration?
    (No coverage yet: the prefilled values do, where the registration has one.)"""
    reg = values(patient)
    if coverage is None:
        return {k: bool(reg[k]) for k in FROM_REGISTRATION}
    snap = coverage.registration or reg
    return {
        k: bool(snap.get(k)) and _same(str(getattr(coverage, k)), str(snap.get(k, "")))
        for k in FROM_REGISTRATION
    }


def drift(coverage: Coverage | None, patient: Patient) -> list[str]:
    """Sentences for each watched value the registration changed after the coverage was saved
    and that now disagrees with the coverage."""
    if coverage is None:
        return []
    reg = values(patient)
    snap = coverage.registration
    out = []
    for field, label in WATCHED.items():
        now, kept = reg[field], str(getattr(coverage, field))
        if not now or _same(now, kept):
            continue
        if snap:
            changed = not _same(now, str(snap.get(field, "")))
        else:  # saved before registrations were kept: the edit dates tell
            changed = patient.updated_at > coverage.updated_at
        if changed:
            out.append(
                f"The registration's {label} was changed after this insurance was saved: the "
                f"registration now says “{now}”, the insurance says “{kept}”. Check the "
                "patient's insurance card and correct the one that is wrong."
            )
    return out
