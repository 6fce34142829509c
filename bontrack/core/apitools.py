"""What every app's api.py shares: the declared error responses and the scope of a request.

``ERRORS`` is the response map each operation declares next to its 200/201 (the error handlers
in ``bontrack/api.py`` produce these bodies); ``require_scope`` is the 403 for a role without
the permission, before any query runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from ninja.errors import HttpError

from bontrack.core.schemas import ErrorOut

if TYPE_CHECKING:
    from bontrack.accounts.models import Scope

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
# Read-only or stateless operations that never answer 409.
ERRORS_WITHOUT_CONFLICT = {k: v for k, v in ERRORS.items() if k != 409}


def require_scope(request: HttpRequest, perm: str) -> Scope:
    """The caller's scope for `perm`, or 403 when the role does not grant it."""
    scope = request.user.scope(perm)  # type: ignore[union-attr]
    if scope is None:
        raise HttpError(403, "Your role does not allow this.")
    return scope
