"""View guards. Object-level tenancy is applied in querysets (`for_user`), not here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from bontrack.accounts.models import Scope

View = TypeVar("View", bound=Callable[..., HttpResponse])


def staff_view(perm: str) -> Callable[[View], View]:
    """Require a signed-in staff member holding `perm` in at least one clinic; pass `scope`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not getattr(user, "is_staff_member", False):
                raise PermissionDenied("This page is for clinic staff.")
            scope: Scope | None = user.scope(perm)
            if scope is None:
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, scope=scope, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def patient_view(view: View) -> View:
    """Require a signed-in patient; pass `patient` (the only record they can reach)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "portal:login")
        account = getattr(user, "portal_account", None)
        if account is None:
            raise PermissionDenied("The portal is for patients.")
        return view(request, *args, patient=account.patient, **kwargs)

    return wrapper  # type: ignore[return-value]


def require_clinic_perm(actor: Any, perm: str, clinic_id: int) -> None:
    """Services call this for the object's clinic: the same check whatever the channel (UI, API, CLI)."""
    if actor is None or not actor.has_clinic_perm(perm, clinic_id):
        raise PermissionDenied("Your role does not allow this in that clinic.")
