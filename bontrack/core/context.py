"""Per-request context (request id, client IP, user) for the audit trail."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    source_ip: str | None = None
    channel: str = "system"  # ui | portal | api | cli | system
    api_token_id: int | None = None  # the bearer token that authenticated this API request


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "bontrack_request_context",
    default=RequestContext(),  # noqa: B039 - a frozen dataclass, immutable
)


def current() -> RequestContext:
    return _current.get()


def activate(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(ctx)


def deactivate(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
