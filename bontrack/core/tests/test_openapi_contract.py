"""The OpenAPI contract: one class per schema name, and every content type documented as it is sent."""

from __future__ import annotations

import enum
import json
import types
import typing
from collections import defaultdict

import pytest
from pydantic import BaseModel

from bontrack.ops.management.commands.openapi import current_schema


def _operations():
    from bontrack.api import api

    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                yield prefix + path, operation


def _named_classes(annotation, seen: set) -> typing.Iterator[type]:
    """Every pydantic model and enum reachable from a type annotation (as pydantic would name it)."""
    if annotation is None or id(annotation) in seen:
        return
    seen.add(id(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        yield annotation
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _named_classes(field.annotation, seen)
        return
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            yield from _named_classes(arg, seen)


def registered_classes() -> dict[str, set[type]]:
    """Schema name -> the distinct classes django-ninja registers under it, over every operation.

    django-ninja builds each operation's schema separately and merges the definitions into one
    dict, so two classes with one name silently overwrite each other in the final document."""
    by_name: dict[str, set[type]] = defaultdict(set)
    for _path, operation in _operations():
        models = list(operation.models) + [
            m for m in operation.response_models.values() if isinstance(m, type)
        ]
        for model in models:
            seen: set[int] = set()
            for field in model.model_fields.values():  # the wrapper models are flattened away
                for cls in _named_classes(field.annotation, seen):
                    by_name[cls.__name__].add(cls)
    return by_name


def test_no_two_classes_share_a_schema_name():
    clashes = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in registered_classes().items()
        if len(classes) > 1
    }
    assert clashes == {}


def test_the_walk_sees_the_documented_schemas():
    """Guards the test above: the classes it compares are the ones in the document."""
    documented = set(json.loads(current_schema())["components"]["schemas"])
    assert documented <= set(registered_classes())


def test_the_diary_decision_endpoint_documents_its_own_body():
    schema = json.loads(current_schema())
    body = schema["paths"]["/api/v1/diaries/patients/{patient_id}/eligibility/decisions"]["post"]
    ref = body["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(component["properties"]) == {"decision", "note"}
    decision = component["properties"]["decision"]
    enum_ref = decision.get("$ref") or decision["allOf"][0]["$ref"]
    values = schema["components"]["schemas"][enum_ref.rsplit("/", 1)[1]]["enum"]
    assert set(values) == {"eligible", "not_eligible", "defer"}


DOWNLOADS = {
    ("get", "/api/v1/diaries/patients/{patient_id}/days.csv"): "text/csv",
    ("get", "/api/v1/authorizations/{auth_id}/packets/{kind}.pdf"): "application/pdf",
}


def _downloads_in_the_code() -> dict[tuple[str, str], str]:
    """Operations whose path names a file type: they must be in DOWNLOADS."""
    schema = json.loads(current_schema())
    found = {}
    for path, operations in schema["paths"].items():
        for method in operations:
            if path.endswith((".csv", ".pdf", ".ics")):
                found[(method, path)] = path.rsplit(".", 1)[1]
    return found


def test_every_download_is_listed():
    assert set(_downloads_in_the_code()) <= set(DOWNLOADS)


@pytest.mark.parametrize(("method", "path"), sorted(DOWNLOADS))
def test_downloads_are_documented_with_their_content_type(method, path):
    operation = json.loads(current_schema())["paths"][path][method]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {DOWNLOADS[(method, path)]}
    body = content[DOWNLOADS[(method, path)]]["schema"]
    assert body["type"] == "string"
    if DOWNLOADS[(method, path)] == "application/pdf":
        assert body["format"] == "binary"


def test_every_operation_documents_json_errors():
    schema = json.loads(current_schema())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert set(response.get("content", {})) == {"application/json"}, (
                        f"{method.upper()} {path} {status}"
                    )


# Found by schemathesis: the document says a date-time string, but pydantic read a number as
# seconds since 1970 (`{"performed_at": 0}` charted a session on 1970-01-01).
@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, 1_700_000_000, 1.5, True])
def test_a_number_is_not_a_date_time(world, value):
    from bontrack.audit.models import AuditEvent
    from bontrack.scheduling.models import Appointment
    from bontrack.treatments.models import TreatmentSession

    nurse = world.client("nurse")
    events = AuditEvent.objects.count()
    r = nurse.post(
        f"/api/v1/treatments/patients/{world.patient.pk}/sessions",
        data=json.dumps({"performed_at": value}),
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    assert "performed_at" in r.json()["errors"]
    r = nurse.post(
        "/api/v1/scheduling/appointments",
        data=json.dumps({"patient_id": world.patient.pk, "type_id": 1, "starts_at": value}),
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    assert "starts_at" in r.json()["errors"]
    assert not TreatmentSession.objects.exists() and not Appointment.objects.exists()
    assert AuditEvent.objects.count() == events
