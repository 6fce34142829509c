"""Caps on the audit rows an attacker can cause (denied requests, failed sign-ins).

Counters live in Django's cache, per kind, per source IP and per user, per clock minute. A request
past a cap writes nothing, except the first one past it: that writes one `rate_limited` row so that the
flood itself stays visible. Limits: settings.AUDIT_DENIED_EVENTS_PER_MINUTE and
settings.AUDIT_FAILED_SIGNIN_EVENTS_PER_MINUTE.
"""

from __future__ import annotations

import time
from enum import Enum

from django.core.cache import cache


class Verdict(Enum):
    RECORD = "record"
    FIRST_SUPPRESSED = "first_suppressed"  # write one note that further rows are suppressed
    SUPPRESS = "suppress"


def check(kind: str, limit: int, *, ip: str | None, user: str | None) -> Verdict:
    minute = int(time.time() // 60)
    counts = []
    for who, value in (("ip", ip), ("user", user)):
        if not value:
            continue
        key = f"audit-rl:{kind}:{who}:{value}:{minute}"
        cache.add(key, 0, timeout=120)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=120)
            counts.append(1)
    if all(n <= limit for n in counts):
        return Verdict.RECORD
    if any(n == limit + 1 for n in counts):
        return Verdict.FIRST_SUPPRESSED
    return Verdict.SUPPRESS
