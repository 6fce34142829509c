"""Audit rows for requests that were refused and for failed or locked sign-ins (rate-limited).

- Denied requests: the middleware below writes one `access` row with outcome `denied` for a 403 met
  by a signed-in user (session or API token), and for a 404 on a URL that names an object by id (a
  patient, a session, ...) met by a signed-in staff member or patient: out-of-scope objects answer
  404, so such a 404 is a refused cross-tenant request. The row holds the method and path, never a
  patient id (the object was out of scope, or does not exist).
- Failed sign-ins (staff and portal) through Django's `user_login_failed`, lockouts through
  django-axes' `user_locked_out`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse

from bontrack.audit import audit, ratelimit
from bontrack.audit.models import AuditEvent
from bontrack.core import context

DENIED = AuditEvent.Outcome.DENIED


def _limited(kind: str, limit: int, *, ip: str | None, user: str | None, what: str) -> bool:
    """True when the row must not be written; writes the one `rate_limited` note at the cap."""
    verdict = ratelimit.check(kind, limit, ip=ip, user=user)
    if verdict is ratelimit.Verdict.FIRST_SUPPRESSED:
        audit.record(
            actor=None,
            action="rate_limited",
            outcome=DENIED,
            summary=f"More than {limit} {what} in a minute from {ip or '-'} "
            f"(user {user or '-'}): further ones this minute are not recorded",
        )
    return verdict is not ratelimit.Verdict.RECORD


def record_denied(request: HttpRequest, status: int) -> None:
    user = request.user
    ip = context.current().source_ip
    if _limited(
        "denied",
        settings.AUDIT_DENIED_EVENTS_PER_MINUTE,
        ip=ip,
        user=str(user.pk),
        what="denied requests",
    ):
        return
    audit.record(
        actor=user,
        action="access",
        outcome=DENIED,
        summary=f"Denied {request.method} {request.path} ({status})",
    )


def record_refusal(
    *, key: str, summary: str, obj: Any = None, practice_id: int | None = None
) -> None:
    """A refusal met without a signed-in user (e.g. a calendar feed token), rate-limited by `key`."""
    ip = context.current().source_ip
    if _limited(
        "denied", settings.AUDIT_DENIED_EVENTS_PER_MINUTE, ip=ip, user=key, what="denied requests"
    ):
        return
    audit.record(
        actor=None,
        action="access",
        outcome=DENIED,
        obj=obj,
        practice_id=practice_id,
        summary=summary,
    )


class DeniedRequestAuditMiddleware:
    """After AuthenticationMiddleware: sees 403/404 answers of views, API handlers and guards."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in (403, 404) and self._is_refusal(request, response.status_code):
            record_denied(request, response.status_code)
        return response

    @staticmethod
    def _is_refusal(request: HttpRequest, status: int) -> bool:
        user = getattr(request, "user", None)  # API tokens set request.user in the handler
        if user is None or not user.is_authenticated:
            return False
        if status == 403:
            return True
        match = request.resolver_match
        named_object = match is not None and bool(match.kwargs)
        signed_in = getattr(user, "is_staff_member", False) or hasattr(user, "portal_account")
        return named_object and signed_in


def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    from django.contrib.auth import get_user_model

    User = get_user_model()  # noqa: N806 - accounts.User (accounts sits above audit)

    username = str(credentials.get("username") or "")[:150]
    ip = context.current().source_ip
    if _limited(
        "signin",
        settings.AUDIT_FAILED_SIGNIN_EVENTS_PER_MINUTE,
        ip=ip,
        user=username,
        what="failed sign-ins",
    ):
        return
    known = User.objects.filter(username=username).values_list("pk", "practice_id").first()
    where = (
        "patient portal" if request is not None and request.path.startswith("/portal/") else "staff"
    )
    audit.record(
        actor=None,
        action="login_failed",
        outcome=AuditEvent.Outcome.FAILURE,
        object_type="accounts.user" if known else "",
        object_id=str(known[0]) if known else "",
        practice_id=known[1] if known else None,
        summary=f"Failed {where} sign-in as {username!r}",
    )


def _locked_out(sender: Any, request: Any = None, username: str = "", **kw: Any) -> None:
    from django.contrib.auth import get_user_model

    User = get_user_model()  # noqa: N806 - accounts.User (accounts sits above audit)

    username = str(username or "")[:150]
    ip = kw.get("ip_address") or context.current().source_ip
    if _limited(
        "signin",
        settings.AUDIT_FAILED_SIGNIN_EVENTS_PER_MINUTE,
        ip=ip,
        user=username,
        what="failed sign-ins",
    ):
        return
    known = User.objects.filter(username=username).values_list("pk", "practice_id").first()
    audit.record(
        actor=None,
        action="lockout",
        outcome=DENIED,
        object_type="accounts.user" if known else "",
        object_id=str(known[0]) if known else "",
        practice_id=known[1] if known else None,
        summary=f"Sign-in locked for {username!r} from {ip or '-'} after repeated failures",
    )


def _practice_created(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A new practice gets its chain's head at once, so that even its first audit row takes the
    one-statement append (chain.py); a chain without a head still gets one on its first row."""
    if created:
        from bontrack.audit.chain import chain_key, ensure_head

        ensure_head(chain_key(instance.pk))


def connect() -> None:
    from axes.signals import user_locked_out
    from django.db.models.signals import post_save

    from bontrack.core.models import Practice

    post_save.connect(_practice_created, sender=Practice, dispatch_uid="bontrack.audit.practice")

    user_login_failed.connect(_login_failed, dispatch_uid="bontrack.audit.login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="bontrack.audit.locked_out")
