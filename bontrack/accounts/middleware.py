from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

# Paths a signed-in user reaches before passing TOTP (sign-in, 2FA set-up and verification,
# sign-out) and infrastructure. Everything else, pages and API, answers with the 2FA step.
MFA_EXEMPT_PATHS = frozenset(
    {
        "/accounts/login/",
        "/accounts/logout/",
        "/accounts/2fa/",
        "/portal/login/",
        "/healthz",
        "/favicon.ico",
    }
)
MFA_EXEMPT_PREFIXES = ("/static/",)
# A user with a one-time password reaches only these until they change it.
PASSWORD_CHANGE_EXEMPT_PATHS = MFA_EXEMPT_PATHS | {"/accounts/password/"}

# Session keys: when the user signed in (max session age) and last passed TOTP (step-up).
AUTH_AT = "bontrack_auth_at"
OTP_AT = "bontrack_otp_at"
# When the idle expiry was last slid forward (the session row rewritten).
SLID_AT = "bontrack_slid_at"


def slide_expiry(session: object, idle_seconds: int, *, force: bool = False) -> None:
    """Push the session's expiry to `idle_seconds` from now, writing the session row at most once
    per SESSION_SLIDE_SECONDS (not on every request). The stored expiry is never later than the
    idle timeout after the last request; it may be up to SESSION_SLIDE_SECONDS earlier."""
    now = int(time.time())
    slid_at = session.get(SLID_AT)  # type: ignore[attr-defined]
    if (
        force
        or slid_at is None
        or session.get_expiry_age() != idle_seconds  # type: ignore[attr-defined]
        or not 0 <= now - slid_at < settings.SESSION_SLIDE_SECONDS
    ):
        session[SLID_AT] = now  # type: ignore[index]
        session.set_expiry(idle_seconds)  # type: ignore[attr-defined]


def mark_signed_in(sender: object, request: HttpRequest, user: object, **kwargs: object) -> None:
    """user_logged_in receiver: the session records when it was authenticated."""
    if hasattr(request, "session"):
        request.session[AUTH_AT] = int(time.time())
        # The idle timeout starts at sign-in (the sign-in writes the session row anyway).
        idle = (
            settings.STAFF_IDLE_TIMEOUT_SECONDS
            if getattr(user, "is_staff_member", False)
            else settings.PATIENT_IDLE_TIMEOUT_SECONDS
        )
        slide_expiry(request.session, idle, force=True)


def _is_exempt(path: str, exempt: frozenset[str]) -> bool:
    return path in exempt or path.startswith(MFA_EXEMPT_PREFIXES)


class SessionPolicyMiddleware:
    """Idle timeouts (15 min staff, 30 min patients), a maximum staff session age (12 h), mandatory
    TOTP for some staff roles, a forced change of one-time passwords, and times shown in the staff
    member's clinic zone (stored in UTC; CLINIC_TIME_ZONE when several clinics)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self._handle(request)
        finally:
            timezone.deactivate()  # never leak one request's zone into the next on this thread

    def _handle(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and hasattr(request, "session")):
            return self.get_response(request)
        api = request.path.startswith("/api/")
        if getattr(user, "is_staff_member", False):
            signed_in_at = request.session.get(AUTH_AT)
            if signed_in_at is None:
                request.session[AUTH_AT] = signed_in_at = int(time.time())
            if time.time() - signed_in_at > settings.STAFF_SESSION_MAX_AGE_SECONDS:
                auth.logout(request)
                if api:
                    return JsonResponse(
                        {"detail": "Your session has ended. Sign in again.", "errors": {}},
                        status=401,
                    )
                query = urlencode({"next": request.path, "ended": "1"})
                return redirect(f"{reverse(settings.LOGIN_URL)}?{query}")
            slide_expiry(request.session, settings.STAFF_IDLE_TIMEOUT_SECONDS)
            zone = user.display_time_zone()
            if zone:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            if (
                user.requires_mfa()
                and not user.is_verified()
                and not _is_exempt(request.path, MFA_EXEMPT_PATHS)
            ):
                if api:
                    return JsonResponse(
                        {
                            "detail": "Two-factor authentication is required for this account: "
                            "enter your authenticator code at /accounts/2fa/ first.",
                            "errors": {},
                        },
                        status=403,
                    )
                return redirect(f"/accounts/2fa/?{urlencode({'next': request.get_full_path()})}")
        else:
            slide_expiry(request.session, settings.PATIENT_IDLE_TIMEOUT_SECONDS)
        if getattr(user, "must_change_password", False) and not _is_exempt(
            request.path, PASSWORD_CHANGE_EXEMPT_PATHS
        ):
            if api:
                return JsonResponse(
                    {
                        "detail": "Change your one-time password at /accounts/password/ first.",
                        "errors": {},
                    },
                    status=403,
                )
            return redirect("accounts:password_change")
        return self.get_response(request)
