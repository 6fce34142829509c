"""Patient search: name tokens, an exact MRN, or a date of birth."""

from __future__ import annotations

import re
from datetime import date

from django.db.models import Q

from bontrack.core.parsing import ParseError, parse_date

_US = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


def parse_dob(text: str) -> date | None:
    """``YYYY-MM-DD`` or ``M/D/YYYY`` (ASCII digits, 1900-2100), else None (a name search)."""
    try:
        return parse_date(text)
    except ParseError:
        pass
    m = _US.match(text)
    if not m:
        return None
    mo, d, y = m.groups()
    try:
        return parse_date(f"{y}-{int(mo):02d}-{int(d):02d}")
    except ParseError:
        return None


def search_filter(text: str) -> Q:
    text = text.strip()
    if not text:
        return Q()
    dob = parse_dob(text)
    if dob is not None:
        return Q(date_of_birth=dob)
    tokens = [t for t in re.split(r"[\s,]+", text.casefold()) if t]
    by_name = Q()
    for token in tokens[:4]:
        by_name &= Q(name_key__contains=token)
    return Q(mrn__iexact=text) | by_name
