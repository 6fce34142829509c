from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from bontrack.accounts.models import Scope
from bontrack.accounts.requests import ApiRequest
from bontrack.accounts.roles import Perm
from bontrack.core.apitools import ERRORS, require_scope
from bontrack.core.jsonagg import json_rows
from bontrack.core.models import Clinic
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.core.schemas import (
    MAX_ID,
    Email,
    Integer,
    IsoDate,
    Name,
    StrictSchema,
    Text,
)
from bontrack.core.sqlcache import Prepared
from bontrack.patients import services
from bontrack.patients.choices import (
    ContactChannel,
    Flag,
    Language,
    PatientStatus,
    Sex,
    SubscriberRelationship,
)
from bontrack.patients.models import NAME_ORDER, SEARCH_ORDER, Condition, Patient, PatientFlag

router = Router(tags=["patients"])


class FlagOut(Schema):
    flag: Flag
    noted_on: date
    active: bool


class ConditionOut(Schema):
    indication: str
    icd10_code: str
    diagnosed_on: date | None
    active: bool


class PatientOut(Schema):
    id: int
    clinic_id: int
    mrn: str
    first_name: str
    last_name: str
    preferred_name: str
    date_of_birth: date
    sex: Sex
    phone: str
    email: str
    preferred_contact: ContactChannel
    preferred_language: Language
    status: PatientStatus
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    insurance_payer: str
    insurance_member_id: str
    insurance_group: str
    subscriber_name: str
    subscriber_relationship: SubscriberRelationship | Literal[""]
    created_at: datetime
    updated_at: datetime


class PatientDetailOut(PatientOut):
    conditions: list[ConditionOut] = Field(validation_alias="conditions_out")
    flags: list[FlagOut] = Field(validation_alias="flags_out")


class PatientPage(Schema):
    items: list[PatientOut]
    next_cursor: str | None


class PatientIn(StrictSchema):
    clinic_id: int = Field(gt=0, le=MAX_ID, strict=True)
    mrn: Text(32) = ""  # type: ignore[valid-type]
    first_name: Name  # type: ignore[valid-type]
    last_name: Name  # type: ignore[valid-type]
    preferred_name: Text(100) = ""  # type: ignore[valid-type]
    date_of_birth: IsoDate
    sex: Sex = Sex.UNKNOWN
    phone: Text(32) = ""  # type: ignore[valid-type]
    email: Email = ""  # type: ignore[valid-type]
    preferred_contact: ContactChannel = ContactChannel.EMAIL
    preferred_language: Language = Language.EN
    status: PatientStatus = PatientStatus.ACTIVE
    address_line1: Text(200) = ""  # type: ignore[valid-type]
    address_line2: Text(200) = ""  # type: ignore[valid-type]
    city: Text(100) = ""  # type: ignore[valid-type]
    state: Text(40) = ""  # type: ignore[valid-type]
    postal_code: Text(12) = ""  # type: ignore[valid-type]
    insurance_payer: Text(120) = ""  # type: ignore[valid-type]
    insurance_member_id: Text(40) = ""  # type: ignore[valid-type]
    insurance_group: Text(40) = ""  # type: ignore[valid-type]
    subscriber_name: Text(200) = ""  # type: ignore[valid-type]
    subscriber_relationship: SubscriberRelationship | Literal[""] = ""


class PatientPatch(StrictSchema):
    clinic_id: int | None = Field(default=None, gt=0, le=MAX_ID, strict=True)
    mrn: Text(32, 1) | None = None  # type: ignore[valid-type]
    first_name: Name | None = None  # type: ignore[valid-type]
    last_name: Name | None = None  # type: ignore[valid-type]
    preferred_name: Text(100) | None = None  # type: ignore[valid-type]
    date_of_birth: IsoDate | None = None
    sex: Sex | None = None
    phone: Text(32) | None = None  # type: ignore[valid-type]
    email: Email | None = None  # type: ignore[valid-type]
    preferred_contact: ContactChannel | None = None
    preferred_language: Language | None = None
    status: PatientStatus | None = None
    address_line1: Text(200) | None = None  # type: ignore[valid-type]
    address_line2: Text(200) | None = None  # type: ignore[valid-type]
    city: Text(100) | None = None  # type: ignore[valid-type]
    state: Text(40) | None = None  # type: ignore[valid-type]
    postal_code: Text(12) | None = None  # type: ignore[valid-type]
    insurance_payer: Text(120) | None = None  # type: ignore[valid-type]
    insurance_member_id: Text(40) | None = None  # type: ignore[valid-type]
    insurance_group: Text(40) | None = None  # type: ignore[valid-type]
    subscriber_name: Text(200) | None = None  # type: ignore[valid-type]
    subscriber_relationship: SubscriberRelationship | Literal[""] | None = None


class ListQuery(StrictSchema):
    q: Text(100) = ""  # type: ignore[valid-type]
    cursor: Text(400) = ""  # type: ignore[valid-type]
    limit: Integer(1, 100, max_digits=6) = 25  # type: ignore[valid-type]


def _clinic(request: ApiRequest, clinic_id: int) -> Clinic:
    clinic = Clinic.objects.filter(pk=clinic_id, practice_id=request.user.practice_id).first()
    if clinic is None:
        raise ValidationError({"clinic_id": ["Choose a clinic of your practice."]})
    return clinic


@router.get("/", response={200: PatientPage, **ERRORS}, summary="List or search patients")
def list_patients(request: ApiRequest, filters: Query[ListQuery]) -> PatientPage:
    scope = require_scope(request, Perm.PATIENT_VIEW)
    qs = Patient.objects.in_scope(scope)
    if filters.q:
        qs = qs.search(filters.q)
    try:
        page = keyset_page(
            qs,
            fields=SEARCH_ORDER if filters.q else NAME_ORDER,
            cursor=filters.cursor or None,
            size=filters.limit,
        )
    except BadCursor as exc:
        raise ValidationError({"cursor": [str(exc)]}) from exc
    services.record_search(
        actor=request.user, practice_id=scope.practice_id, rows=len(page.items), query=filters.q
    )
    return PatientPage(items=page.items, next_cursor=page.next_cursor)


_CONDITION_FIELDS = {
    "id": "id",
    "indication": "indication",
    "icd10_code": "icd10_code",
    "diagnosed_on": "diagnosed_on",
    "active": "active",
}
_FLAG_FIELDS = {"id": "id", "flag": "flag", "noted_on": "noted_on", "active": "active"}


def _detail_query(patient_id: int, practice_id: int, *clinic_ids: int) -> QuerySet[Patient]:
    scope = Scope(
        practice_id=practice_id, all_clinics=not clinic_ids, clinic_ids=frozenset(clinic_ids)
    )
    return (
        Patient.objects.in_scope(scope)
        .annotate(
            conditions_rows=json_rows(
                Condition.objects.filter(patient=OuterRef("pk")), _CONDITION_FIELDS, "patient"
            ),
            flags_rows=json_rows(
                PatientFlag.objects.filter(patient=OuterRef("pk")), _FLAG_FIELDS, "patient"
            ),
        )
        .filter(pk=patient_id)
    )


# Compiled once per process and scope shape (core/sqlcache.py): every API patient read runs it.
_DETAIL_QUERY = Prepared(_detail_query)


def _patient_detail(scope: Scope, patient_id: int) -> Patient:
    """The patient with its conditions and flags in ONE query (each as a JSON array column),
    in the models' order (active first, then code, then id); 404 outside the scope."""
    clinic_ids = () if scope.all_clinics else tuple(sorted(scope.clinic_ids))
    if not scope.all_clinics and not clinic_ids:
        raise Http404
    found = _DETAIL_QUERY.fetch(
        ("detail", len(clinic_ids)), patient_id, scope.practice_id, *clinic_ids
    )
    if not found:
        raise Http404
    patient: Patient = found[0]  # type: ignore[assignment]
    rows = patient.conditions_rows or []  # type: ignore[attr-defined]
    patient.conditions_out = sorted(  # type: ignore[attr-defined]
        rows, key=lambda r: (not r["active"], r["indication"], r["id"])
    )
    rows = patient.flags_rows or []  # type: ignore[attr-defined]
    patient.flags_out = sorted(  # type: ignore[attr-defined]
        rows, key=lambda r: (not r["active"], r["flag"], r["id"])
    )
    return patient


@router.get("/{patient_id}", response={200: PatientDetailOut, **ERRORS}, summary="Get one patient")
def get_patient(request: ApiRequest, patient_id: int) -> Patient:
    scope = require_scope(request, Perm.PATIENT_VIEW)
    patient = _patient_detail(scope, patient_id)
    services.record_chart_view(actor=request.user, patient=patient, what="record via API")
    return patient


@router.post("/", response={201: PatientOut, **ERRORS}, summary="Register a patient")
def create_patient(request: ApiRequest, payload: PatientIn) -> Status[Patient]:
    require_scope(request, Perm.PATIENT_CREATE)
    data = payload.model_dump()
    clinic = _clinic(request, data.pop("clinic_id"))
    patient = services.register_patient(actor=request.user, clinic=clinic, **data)
    return Status(201, patient)


@router.patch(
    "/{patient_id}", response={200: PatientOut, **ERRORS}, summary="Update a patient's demographics"
)
def update_patient(request: ApiRequest, patient_id: int, payload: PatientPatch) -> Patient:
    scope = require_scope(request, Perm.PATIENT_EDIT)
    patient = get_object_or_404(Patient.objects.in_scope(scope), pk=patient_id)
    data = payload.model_dump(exclude_unset=True)
    nulls = [k for k, v in data.items() if v is None]
    if nulls:
        raise ValidationError({k: ["This field cannot be null."] for k in nulls})
    if "clinic_id" in data:
        data["clinic"] = _clinic(request, data.pop("clinic_id"))
    return services.update_patient(actor=request.user, patient=patient, **data)
