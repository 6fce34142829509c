"""Typed requests for views: what the guards and the middleware guarantee about `request`.

A view behind `staff_view` annotates `request: StaffRequest` (the user is a signed-in staff member);
a view behind `patient_view` annotates `request: PortalRequest` (the user has a portal account).
These classes only describe requests for the type checker: Django still builds a plain HttpRequest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from bontrack.accounts.models import User


class BontrackRequest(HttpRequest):
    """Every request: the attributes our middleware sets (bontrack.core.middleware, django-htmx)."""

    htmx: HtmxDetails
    request_id: str


class StaffRequest(BontrackRequest):
    """Behind `staff_view(perm)`: a signed-in staff member (`user.scope(perm)` is not None; the
    decorator passes that scope to the view as the `scope` keyword)."""

    user: User  # never AnonymousUser behind the guard


class PortalRequest(BontrackRequest):
    """Behind `patient_view`: a signed-in patient; `user.portal_account.patient` is their record
    (the decorator passes it to the view as the `patient` keyword)."""

    user: User  # a User with a portal_account


class ApiRequest(BontrackRequest):
    """A staff API operation (bontrack/api.py authenticates every router with a staff session or an
    integration token): `user` is a staff member; permission checks stay in the operation."""

    user: User
