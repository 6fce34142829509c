"""POST /api/v1/rules/NAME: the same JSON contract as `bontrack rules NAME`."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse, JsonResponse
from ninja import Router, Schema
from ninja.errors import HttpError

from bontrack.accounts.requests import ApiRequest
from bontrack.accounts.roles import Perm
from bontrack.core.apitools import ERRORS_WITHOUT_CONFLICT
from bontrack.rules.facts import contract

router = Router(tags=["rules"])
ERRORS = ERRORS_WITHOUT_CONFLICT
MAX_BODY = 5 * 1024 * 1024


class RuleInfo(Schema):
    name: str
    description: str
    input_schema: dict[str, Any]


def _require(request: ApiRequest) -> Any:
    if request.user.scope(Perm.RULES_RUN) is None:
        raise HttpError(403, "Your role does not allow running clinical rules.")
    return contract


@router.get(
    "/", response={200: list[RuleInfo], **ERRORS}, summary="List the rules and their input schemas"
)
def list_rules(request: ApiRequest) -> list[dict[str, object]]:
    return _require(request).list_rules()


@router.get(
    "/vocabulary",
    response={200: dict[str, Any], **ERRORS},
    summary="Indication, muscle and product codes",
)
def vocabulary(request: ApiRequest) -> dict[str, object]:
    return _require(request).vocabulary()


@router.post(
    "/{name}",
    response={200: dict[str, Any], **ERRORS},
    summary="Evaluate a rule",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "required": True,
        }
    },
)
def run_rule(request: ApiRequest, name: str) -> HttpResponse | dict[str, object]:
    contract = _require(request)
    if len(request.body) > MAX_BODY:
        raise HttpError(400, "The document is too large.")
    try:
        document = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "The body is not valid JSON.") from exc
    try:
        return contract.run(name, document)
    except KeyError as exc:
        raise HttpError(404, f"There is no rule named {name!r}.") from exc
    except contract.InputError as exc:
        return JsonResponse({"detail": "The input is not valid.", "errors": exc.errors}, status=422)
