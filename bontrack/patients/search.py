"""Patient search: name tokens, an exact MRN, or a date of birth."""

from __future__ import annotations

import re
from datetime import date

from django.db.models import Q

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_dob(text: str) -> date | None:
    m = _ISO.match(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _US.match(text)
        if not m:
            return None
        mo, d, y = (int(g) for g in m.groups())
    try:
        return date(y, mo, d)
    except ValueError:
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
