"""The JSON API under /api/v1/: one router per app, one error format."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from bontrack.accounts.services import authenticate_token
from bontrack.core import context
from bontrack.core.http_errors import SERVER_ERROR, too_big_message
from bontrack.patients.services import Conflict

logger = logging.getLogger("bontrack.api")


class StaffSession(APIKeyCookie):
    """Browser session of a signed-in staff member (CSRF-checked)."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and getattr(user, "is_staff_member", False):
            return user
        return None


READ_METHODS = frozenset({"GET", "HEAD"})


class StaffToken(HttpBearer):
    """Integration token: `Authorization: Bearer bt_<id>_<secret>`.

    A token is a separate credential issued under step-up TOTP, so it works without a session's
    TOTP. Expired or revoked tokens are 401; a read-only token is 403 on any other method than
    GET/HEAD. Audit rows written during the request carry the token's id."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = authenticate_token(token)
        if api_token is None or not api_token.user.is_staff_member:
            return None
        user = api_token.user
        request.user = user
        request.api_token = api_token  # type: ignore[attr-defined]
        context.activate(replace(context.current(), api_token_id=api_token.pk))
        if api_token.read_only and request.method not in READ_METHODS:
            raise PermissionDenied("This API token is read-only: it can only read, not change.")
        return user


def staff_docs_only(view: Any) -> Any:
    """The OpenAPI document and docs page are for staff: a session or an API token."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and getattr(user, "is_staff_member", False)):
            header = request.headers.get("Authorization", "")
            token = authenticate_token(header[7:]) if header.startswith("Bearer ") else None
            if token is None or not token.user.is_staff_member:
                if user.is_authenticated:
                    return JsonResponse(
                        {"detail": "The API documentation is for clinic staff.", "errors": {}},
                        status=403,
                    )
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return view(request, *args, **kwargs)

    return wrapper


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _plain_float(text: str) -> float:
    if "e" in text or "E" in text:
        raise ValueError("numbers with an exponent are not accepted")
    return float(text)


class StrictJsonParser(Parser):
    """JSON bodies without NaN/Infinity or exponents (Python's json accepts NaN by default)."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json.loads(request.body, parse_constant=_no_constant, parse_float=_plain_float)


api = NinjaAPI(
    title="BoNTrack API",
    version="1",
    description="Staff API for BoNTrack. Every error is JSON: `{detail, errors}` with field messages.",
    auth=[StaffToken(), StaffSession()],
    urls_namespace="api",
    docs_decorator=staff_docs_only,
    parser=StrictJsonParser(),
)


def _field(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path")]
    return ".".join(parts) or "__all__"


def error(
    request: HttpRequest, status: int, detail: str, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        message = str(item.get("msg", "Invalid value.")).removeprefix("Value error, ")
        errors.setdefault(_field(list(item.get("loc", []))), []).append(message)
    return error(request, 422, "The input is not valid.", errors)


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = exc.message_dict
        rule_ids = getattr(exc, "rule_ids", None)  # blocking findings: their rule IDs as codes
        if rule_ids:
            errors = {**errors, "rule_id": list(rule_ids)}
        return error(request, 422, "The input is not valid.", errors)
    return error(request, 422, "The input is not valid.", {"__all__": exc.messages})


@api.exception_handler(Conflict)
def on_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return error(request, 409, str(exc), {exc.field: [str(exc)]} if exc.field else {})


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error(request, 403, str(exc) or "Your role does not allow this.")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "Not found.")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(request, 401, "Sign in or send a valid API token.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error(request, exc.status_code, str(exc))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error(request, 413, too_big_message())


@api.exception_handler(Exception)
def on_server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Any other failure: logged with its traceback, answered as JSON 500 (never a traceback)."""
    logger.error("API error on %s", request.path, exc_info=exc)
    return error(request, 500, SERVER_ERROR)


def _register_routers() -> None:
    from bontrack.patients.api import router as patients_router
    from bontrack.rules.api import router as rules_router

    api.add_router("/patients", patients_router)
    api.add_router("/rules", rules_router)
    api.add_router("/scheduling", "bontrack.scheduling.api.router")
    api.add_router("/diaries", "bontrack.diaries.api.router")
    api.add_router("/treatments", "bontrack.treatments.api_pathways.router")
    api.add_router("/authorizations", "bontrack.authorizations.api.router")
    api.add_router("/inventory", "bontrack.inventory.api.router")
    api.add_router("/claims", "bontrack.claims.api.router")


_register_routers()
