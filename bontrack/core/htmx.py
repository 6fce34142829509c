from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the whole page, or only `template#fragment` for an HTMX request."""
    if fragment and getattr(request, "htmx", False):
        return render(request, f"{template}#{fragment}", context, status=status)
    return render(request, template, context, status=status)
