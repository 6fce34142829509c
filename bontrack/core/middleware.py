from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from bontrack.core import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def channel_for(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/portal/"):
        return "portal"
    return "ui"


class RequestContextMiddleware:
    """Gives every request an id (or keeps a well-formed X-Request-ID) for audit rows."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        ctx = context.RequestContext(
            request_id=request_id,
            source_ip=request.META.get("REMOTE_ADDR") or None,
            channel=channel_for(request.path),
        )
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.activate(ctx)
        try:
            response = self.get_response(request)
        finally:
            context.deactivate(token)
        response["X-Request-ID"] = request_id
        return response
