"""View guards. Object-level tenancy is applied in querysets (`for_user`), not here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, TypeVar, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from bontrack.accounts.models import Scope
from bontrack.accounts.requests import PortalRequest, StaffRequest

# A staff view takes a StaffRequest (or any wider request type) first, and `scope=` by keyword.
StaffView = TypeVar("StaffView", bound=Callable[Concatenate[StaffRequest, ...], HttpResponseBase])
# A portal view takes a PortalRequest (or wider) first, and `patient=` by keyword.
PortalView = TypeVar(
    "PortalView", bound=Callable[Concatenate[PortalRequest, ...], HttpResponseBase]
)


def staff_view(perm: str) -> Callable[[StaffView], StaffView]:
    """Require a signed-in staff member holding `perm` in at least one clinic; pass `scope`."""

    def decorator(view: StaffView) -> StaffView:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not getattr(user, "is_staff_member", False):
                raise PermissionDenied("This page is for clinic staff.")
            scope: Scope | None = user.scope(perm)
            if scope is None:
                raise PermissionDenied("Your role does not allow this.")
            return view(cast(StaffRequest, request), *args, scope=scope, **kwargs)

        return cast(StaffView, wrapper)

    return decorator


def patient_view(view: PortalView) -> PortalView:
    """Require a signed-in patient; pass `patient` (the only record they can reach)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "portal:login")
        account = getattr(user, "portal_account", None)
        if account is None:
            raise PermissionDenied("The portal is for patients.")
        return view(cast(PortalRequest, request), *args, patient=account.patient, **kwargs)

    return cast(PortalView, wrapper)


def require_clinic_perm(actor: Any, perm: str, clinic_id: int) -> None:
    """Services call this for the object's clinic: the same check whatever the channel (UI, API, CLI)."""
    if actor is None or not actor.has_clinic_perm(perm, clinic_id):
        raise PermissionDenied("Your role does not allow this in that clinic.")
