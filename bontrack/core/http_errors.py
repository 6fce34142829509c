"""Error pages and JSON errors for requests that fail before or outside a view.

Under ``/api/`` every error is JSON ``{"detail": ..., "errors": {}}``; elsewhere the error page.
``handler400/404/500`` in ``bontrack.urls`` point here; ``ApiJsonErrorsMiddleware`` turns any other
non-JSON error under ``/api/`` (405 from the router, CSRF) into the same JSON shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger("bontrack.errors")

SERVER_ERROR = "Something went wrong on our side. The error was logged; please try again."
DETAILS = {
    400: "The request is not valid.",
    401: "Sign in or send a valid API token.",
    403: "Your role does not allow this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "",
    500: SERVER_ERROR,
}


def too_big_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    mb = limit / (1024 * 1024)
    return f"The request body is too large (limit {mb:g} MB)."


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, detail: str | None = None) -> JsonResponse:
    text = detail or DETAILS.get(status) or (too_big_message() if status == 413 else "Error.")
    return JsonResponse({"detail": text, "errors": {}}, status=status)


def _page(
    request: HttpRequest, status: int, template: str, context: dict[str, object]
) -> HttpResponse:
    try:
        body = loader.render_to_string(template, context, request)
    except Exception:  # noqa: BLE001 - the error page itself must not fail
        body = f"<h1>{context.get('title', 'Error')}</h1><p>{context.get('message', '')}</p>"
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    too_big = isinstance(exception, RequestDataTooBig)
    status = 413 if too_big else 400
    if is_api(request):
        return api_error(status)
    message = (
        too_big_message() + " Send a smaller file or less text."
        if too_big
        else "The page received a request it cannot read. Go back and try again."
    )
    title = "Too large" if too_big else "Bad request"
    return _page(request, status, "400.html", {"title": title, "message": message})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return api_error(404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)  # type: ignore[arg-type]


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return api_error(500)
    from django.views.defaults import server_error as django_server_error

    return django_server_error(request)


class ApiJsonErrorsMiddleware:
    """Every error answer under /api/ is JSON ``{detail, errors}`` (405, CSRF and the like)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_api(request) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        converted = api_error(response.status_code)
        for header in ("Allow", "WWW-Authenticate", "Retry-After", "X-Request-ID"):
            if header in response:
                converted[header] = response[header]
        return converted

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return api_error(413)
        logger.error("Error on %s", request.path, exc_info=exception)
        return api_error(500)
