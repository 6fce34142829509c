"""Every URL and API operation refuses anonymous visitors and patients unless it is public by design.

This walks the URL configuration and the OpenAPI document, so a new endpoint is covered the day it
is added. Detailed per-role behaviour lives in each app's permission-matrix tests.
"""

from __future__ import annotations

import re

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

from bontrack.api import api

pytestmark = pytest.mark.django_db

# Public by design: sign-in pages, the health check, and the patient-facing booking flow whose
# secrets are in the URL (signed tokens) or that show only a clinic's public information.
PUBLIC = [
    r"^$",
    r"^healthz$",
    r"^favicon\.ico$",  # a redirect to the static icon (browsers ask for it on every page)
    r"^accounts/login/$",
    r"^accounts/password-reset/$",
    r"^accounts/password-reset/sent/$",
    r"^accounts/reset/<uidb64>/<token>/$",
    r"^portal/login/$",
    r"^portal/invite/<str:token>/$",  # the signed, expiring portal invitation (online booking)
    r"^book/",
    r"^programs/",
    r"^visit/",
    r"^schedule/feeds/<str:token>\.ics$",
    r"^static/",
]
PORTAL = [r"^portal/"]
# For anyone signed in, staff or patient: their own password.
ANY_SIGNED_IN = [r"^accounts/password/$"]
# Staff only (a patient is refused): the step-up TOTP page, and everything not listed above.
SAMPLE = {"int": "1", "slug": "x", "str": "x", "path": "x"}


def _walk(resolver: URLResolver, prefix: str = ""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _concrete(route: str) -> str:
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)


ROUTES = sorted(r for r in _walk(get_resolver()) if not r.startswith("api/v1/"))
STAFF_ROUTES = [
    r for r in ROUTES if not any(re.search(p, r) for p in PUBLIC + PORTAL + ANY_SIGNED_IN)
]
SIGNED_IN_ROUTES = [r for r in ROUTES if any(re.search(p, r) for p in ANY_SIGNED_IN)]
PORTAL_ROUTES = [
    r
    for r in ROUTES
    if any(re.search(p, r) for p in PORTAL) and not re.search(r"^portal/login/$", r)
]
REFUSED = {301, 302, 401, 403, 404, 405}


@pytest.mark.parametrize("route", STAFF_ROUTES + PORTAL_ROUTES + SIGNED_IN_ROUTES)
def test_anonymous_visitors_are_refused(world, route):
    client = world.client("anonymous")
    assert client.get(_concrete(route)).status_code in REFUSED, route
    assert client.post(_concrete(route), {}).status_code in REFUSED | {400}, route


@pytest.mark.parametrize("route", STAFF_ROUTES)
def test_patients_never_reach_staff_pages(world, route):
    client = world.client("patient")
    assert client.get(_concrete(route)).status_code in REFUSED, route
    assert client.post(_concrete(route), {}).status_code in REFUSED | {400}, route


@pytest.mark.parametrize("route", PORTAL_ROUTES)
def test_staff_are_not_patients_in_the_portal(world, route):
    response = world.client("nurse").get(_concrete(route))
    assert response.status_code in REFUSED, route


def _operations():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


OPERATIONS = sorted((m, p) for m, p, _ in _operations())
PUBLIC_OPERATIONS = sorted((m, p) for m, p, op in _operations() if op.get("security") == [])


@pytest.mark.parametrize("method,path", [op for op in OPERATIONS if op not in PUBLIC_OPERATIONS])
def test_every_api_operation_needs_staff_credentials(world, method, path):
    url = re.sub(r"\{\w+\}", "1", path)
    for persona in ("anonymous", "patient"):
        client = world.client(persona)
        if method in ("get", "delete"):
            response = getattr(client, method)(url)
        else:
            response = getattr(client, method)(url, "{}", content_type="application/json")
        assert response.status_code == 401, (persona, method, path, response.status_code)


def test_the_public_api_operations_are_the_booking_ones():
    assert all("/scheduling/" in path for _, path in PUBLIC_OPERATIONS), PUBLIC_OPERATIONS


# Pages added for a reason that must never become public (each listed with why).
STAFF_ONLY = {
    "schedule/matches/": "online bookings that match an existing chart (front desk)",
    "schedule/matches/<int:pk>/": "confirm or reject one match (front desk)",
    "patients/<int:pk>/merge/": "merge a duplicate chart (front desk, clinic administrator)",
    "patients/merges/<int:pk>/": "confirm or undo a chart merge (front desk, clinic administrator)",
    "patients/record-numbers/": "the practice's MRN format (clinic administrator)",
    "dashboard/": "program dashboard (physicians and clinic administrators)",
    "dashboard/patients/": "the patients behind a dashboard number (names, dates of birth)",
    "dashboard/export/<slug:slug>.csv": "a dashboard figure as CSV",
    "authorizations/": "prior authorizations of the practice (patients, payers, numbers)",
    "authorizations/export.csv": "the authorization list as CSV",
    "authorizations/documents/<int:doc_id>/": "a payer letter or packet of a patient",
    "authorizations/<int:auth_id>/packet/<slug:kind>.pdf": "a payer packet (clinical data)",
    "patients/<int:pk>/authorizations/panel/": "the chart's authorization panel",
    "diaries/patients/<int:pk>/consultation/<str:indication>/": "consultation of one indication",
    "treatments/clinic-protocols/": "clinic-defined off-label protocols (physicians)",
    "treatments/clinic-protocols/new/": "protocol builder (physicians)",
    "treatments/clinic-protocols/<int:cpid>/": "protocol builder (physicians)",
    "treatments/clinic-protocols/<int:cpid>/retire/": "retire a protocol (physicians)",
    "treatments/patients/<int:pk>/off-label-plan/": "a patient's off-label plan",
    "treatments/patients/<int:pk>/scales/<str:indication>/suggestions/recalculate/": (
        "recalculate a patient's adjustment suggestions (physicians)"
    ),
    "claims/": "the billing work queue (billing and clinic administrators)",
    "claims/<int:pk>/": "a claim: patient, diagnoses, lines",
    "claims/<int:pk>/coverage/": "a patient's insurance: member ID, policy holder, address",
    "claims/batches/<int:pk>/837p.x12": "an 837P batch with patients' names and member IDs",
    "claims/batches/<int:pk>/claims.csv": "a batch's claim lines as CSV",
    "claims/batches/<int:pk>/superbill.pdf": "a batch's superbills",
    "claims/reports/<slug:slug>.csv": "a billing report as CSV",
}


@pytest.mark.parametrize("route", sorted(STAFF_ONLY))
def test_the_listed_staff_pages_are_walked_as_staff_only(route):
    assert route in STAFF_ROUTES, STAFF_ONLY[route]


# API operations added for a reason that must stay staff-only (each with who reads or writes it).
STAFF_ONLY_OPERATIONS = {
    ("get", "/api/v1/treatments/patients/{patient_id}/plans"): "plans of every indication",
    ("post", "/api/v1/treatments/plans/{plan_id}/sign"): "a physician's order (physicians)",
    ("get", "/api/v1/treatments/patients/{patient_id}/scale-entries"): "outcome scale scores",
    ("post", "/api/v1/treatments/patients/{patient_id}/scale-entries"): "a score (injectors)",
    ("get", "/api/v1/treatments/patients/{patient_id}/scales/{indication}"): "figures per cycle",
    ("get", "/api/v1/treatments/patients/{patient_id}/reviews"): "reviews of every indication",
    ("get", "/api/v1/treatments/patients/{patient_id}/suggestions"): "adjustment suggestions",
    ("post", "/api/v1/treatments/patients/{patient_id}/suggestions/refresh"): "new suggestions",
    ("post", "/api/v1/treatments/suggestions/{suggestion_id}/decision"): "accept or reject",
    ("get", "/api/v1/treatments/clinic-protocols"): "clinic-defined off-label protocols",
    (
        "get",
        "/api/v1/diaries/patients/{patient_id}/consultations/{indication}",
    ): "consultations of one indication (clinicians)",
}


@pytest.mark.parametrize("operation", sorted(STAFF_ONLY_OPERATIONS))
def test_the_listed_api_operations_are_walked_as_staff_only(operation):
    assert operation in OPERATIONS, STAFF_ONLY_OPERATIONS[operation]
    assert operation not in PUBLIC_OPERATIONS, STAFF_ONLY_OPERATIONS[operation]
