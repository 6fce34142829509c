from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone

MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/portal/", "/healthz")


class SessionPolicyMiddleware:
    """Idle timeouts (15 min staff, 30 min patients), mandatory TOTP for some staff roles, and times
    shown in the staff member's clinic zone (stored in UTC; CLINIC_TIME_ZONE when several clinics)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self._handle(request)
        finally:
            timezone.deactivate()  # never leak one request's zone into the next on this thread

    def _handle(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and hasattr(request, "session"):
            if getattr(user, "is_staff_member", False):
                request.session.set_expiry(settings.STAFF_IDLE_TIMEOUT_SECONDS)
                zone = user.display_time_zone()
                if zone:
                    timezone.activate(zoneinfo.ZoneInfo(zone))
                if (
                    user.requires_mfa()
                    and not user.is_verified()
                    and not request.path.startswith(MFA_EXEMPT_PREFIXES)
                ):
                    if request.path.startswith("/api/"):
                        return JsonResponse(
                            {"detail": "Two-factor authentication is required for this account."},
                            status=403,
                        )
                    return redirect("accounts:mfa")
            else:
                request.session.set_expiry(settings.PATIENT_IDLE_TIMEOUT_SECONDS)
        return self.get_response(request)
