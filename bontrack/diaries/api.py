"""Diary, questionnaire, consultation and eligibility endpoints (staff API)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import Field, StrictBool, StrictInt

from bontrack.accounts.requests import ApiRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.apitools import ERRORS, ERRORS_WITHOUT_CONFLICT, require_scope
from bontrack.core.models import ProgramPolicy
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.core.policy import facts as policy_knobs
from bontrack.core.schemas import Dec, IsoDate, StrictSchema, Text
from bontrack.diaries import facts
from bontrack.diaries.actions import (
    actors,
    consultation,
    diary_days,
    program_policy,
    questionnaires,
)
from bontrack.diaries.choices import AcuteClass, AssignedFor, Decision, DiarySource, Instrument
from bontrack.diaries.csv import export as csv_export
from bontrack.diaries.models import (
    ConsultationNote,
    DiaryDay,
    EligibilityAssessment,
    PostureAssessment,
    PriorToxinTreatment,
    QuestionnaireResponse,
)
from bontrack.patients.models import Patient
from bontrack.patients.services import record_chart_view

router = Router(tags=["diaries"])

MAX_RANGE_DAYS = 3700


def _patient(request: ApiRequest, patient_id: int, perm: str) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(require_scope(request, perm)), pk=patient_id)


# ---- schemas ---------------------------------------------------------------------------------


class MedicationIn(StrictSchema):
    name: Text(100, 1)  # type: ignore[valid-type]
    drug_class: AcuteClass | None = Field(
        default=None, description="required when the name is not on the medicine list"
    )
    doses: StrictInt = Field(default=1, ge=1, le=50)


class DayIn(StrictSchema):
    date: IsoDate
    headache: StrictBool
    hours: Dec | None = Field(default=None, ge=0, le=24)
    severity: StrictInt = Field(
        default=0, ge=0, le=3, description="0 none, 1 mild, 2 moderate, 3 severe"
    )
    unilateral: StrictBool = False
    pulsating: StrictBool = False
    worse_with_activity: StrictBool = False
    nausea: StrictBool = False
    vomiting: StrictBool = False
    photophobia: StrictBool = False
    phonophobia: StrictBool = False
    aura: StrictBool = False
    aura_minutes: StrictInt | None = Field(default=None, ge=0, le=1440)
    triptan_or_ergot_relief: StrictBool = False
    note: Text(500) = ""  # type: ignore[valid-type]
    medications: list[MedicationIn] = Field(default_factory=list, max_length=20)


class DaysIn(StrictSchema):
    days: list[DayIn] = Field(min_length=1, max_length=400)


class UpsertOut(Schema):
    created: int
    updated: int
    unchanged: int


class MedicationOut(Schema):
    name: str
    drug_class: str
    doses: int


class DayOut(Schema):
    date: date
    headache: bool
    hours: Decimal | None
    severity: int
    unilateral: bool
    pulsating: bool
    worse_with_activity: bool
    nausea: bool
    vomiting: bool
    photophobia: bool
    phonophobia: bool
    aura: bool
    aura_minutes: int | None
    triptan_or_ergot_relief: bool
    note: str
    source: DiarySource
    version: int
    medications: list[MedicationOut]


class RangeQuery(StrictSchema):
    start: IsoDate | None = None
    end: IsoDate | None = None


class QuestionnaireOut(Schema):
    id: int
    instrument: Instrument
    assigned_for: AssignedFor
    due_date: date
    completed_at: datetime | None
    score: Decimal | None
    band: str
    valid: bool | None
    rule_set: str
    entered_by_staff: bool = Field(description="answers entered by staff for the patient")


class AnswersIn(StrictSchema):
    answers: dict[str, StrictInt | Text(20)]  # type: ignore[valid-type]


class AssignIn(StrictSchema):
    due_date: IsoDate


class ConsultationIn(StrictSchema):
    visit_date: IsoDate | None = None
    history: Text(5000) = ""  # type: ignore[valid-type]
    symptoms: Text(5000) = ""  # type: ignore[valid-type]
    previous_treatments: Text(5000) = ""  # type: ignore[valid-type]
    goals: Text(5000) = ""  # type: ignore[valid-type]
    examination: Text(5000) = ""  # type: ignore[valid-type]
    plan: Text(5000) = ""  # type: ignore[valid-type]
    sign: StrictBool = False


class ConsultationOut(Schema):
    id: int
    visit_date: date | None
    patient_history: str
    patient_symptoms: str
    patient_previous_treatments: str
    patient_goals: str
    patient_submitted_at: datetime | None
    history: str
    symptoms: str
    previous_treatments: str
    goals: str
    examination: str
    plan: str
    signed_at: datetime | None


class EligibilityDecisionIn(StrictSchema):
    decision: Decision
    note: Text(5000) = ""  # type: ignore[valid-type]


class EligibilityDecisionOut(Schema):
    id: int
    as_of: date
    status: str
    decision: Decision
    note: str
    rule_set: str
    rule_sets: list[str]
    decided_at: datetime
    result: dict[str, Any]


class EligibilityOut(Schema):
    as_of: date
    assessment: dict[str, Any]
    policy: dict[str, Any]
    last_decision: EligibilityDecisionOut | None


# ---- diary days ------------------------------------------------------------------------------


def _day_input(d: DayIn) -> diary_days.DayInput:
    data = d.model_dump()
    meds = [
        {k: v for k, v in m.items() if v is not None or k != "drug_class"}
        for m in data.pop("medications")
    ]
    hours = data.pop("hours")
    return diary_days.DayInput(
        hours=None if hours is None else Decimal(str(hours)), medications=meds, **data
    )


@router.put(
    "/patients/{patient_id}/days",
    response={200: UpsertOut, **ERRORS},
    summary="Upsert diary days by date (idempotent; transcribed on the patient's behalf)",
)
def upsert_days(request: ApiRequest, patient_id: int, payload: DaysIn) -> dict[str, int]:
    patient = _patient(request, patient_id, Perm.DIARY_EDIT)
    return diary_days.upsert_diary_days(
        actor=request.user, patient=patient, days=[_day_input(d) for d in payload.days]
    )


@router.get(
    "/patients/{patient_id}/days",
    response={200: list[DayOut], **ERRORS},
    summary="Diary days in a date range (default: the last 90 days)",
)
def list_days(request: ApiRequest, patient_id: int, filters: Query[RangeQuery]) -> list[DiaryDay]:
    patient = _patient(request, patient_id, Perm.DIARY_VIEW)
    end = filters.end or actors.local_today()
    start = filters.start or end - timedelta(days=89)
    if start > end:
        raise HttpError(422, "start is after end")
    if (end - start).days > MAX_RANGE_DAYS:
        raise HttpError(422, f"at most {MAX_RANGE_DAYS} days at a time")
    record_chart_view(actor=request.user, patient=patient, what="diary via API")
    return list(
        DiaryDay.objects.filter(patient=patient, date__gte=start, date__lte=end)
        .order_by("date")
        .prefetch_related("medications")
    )


@router.get(
    "/patients/{patient_id}/days.csv",
    response={200: None, **ERRORS},
    summary="The whole diary as CSV (columns in docs/diaries.md)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The diary as a CSV file (text/csv).",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def export_days(request: ApiRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.DIARY_VIEW)
    with transaction.atomic():
        audit.record(actor=request.user, action="export", obj=patient, summary="Diary CSV via API")
    response = StreamingHttpResponse(csv_export.export_rows(patient), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="diary-{patient.mrn}.csv"'
    return response


# ---- questionnaires --------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/questionnaires",
    response={200: list[QuestionnaireOut], **ERRORS},
    summary="Assigned and answered questionnaires",
)
def list_questionnaires(request: ApiRequest, patient_id: int) -> list[QuestionnaireResponse]:
    patient = _patient(request, patient_id, Perm.DIARY_VIEW)
    record_chart_view(actor=request.user, patient=patient, what="questionnaires via API")
    return list(QuestionnaireResponse.objects.filter(patient=patient))


@router.post(
    "/patients/{patient_id}/questionnaires",
    response={201: list[QuestionnaireOut], **ERRORS},
    summary="Assign MIDAS and HIT-6 before a treatment (idempotent)",
)
def assign_questionnaires(
    request: ApiRequest, patient_id: int, payload: AssignIn
) -> Status[list[QuestionnaireResponse]]:
    patient = _patient(request, patient_id, Perm.DIARY_EDIT)
    questionnaires.assign_pre_treatment(patient, payload.due_date, actor=request.user)
    return Status(
        201,
        list(
            QuestionnaireResponse.objects.filter(
                patient=patient, assigned_for="pre_treatment", due_date=payload.due_date
            )
        ),
    )


@router.post(
    "/questionnaires/{questionnaire_id}/answers",
    response={200: QuestionnaireOut, **ERRORS},
    summary="Submit answers (entered by staff for the patient); scored by clinic_rules",
)
def submit_answers(
    request: ApiRequest, questionnaire_id: int, payload: AnswersIn
) -> QuestionnaireResponse:
    scope = require_scope(request, Perm.DIARY_EDIT)
    response = get_object_or_404(QuestionnaireResponse.objects.in_scope(scope), pk=questionnaire_id)
    return questionnaires.submit_questionnaire(
        actor=request.user, response=response, answers=payload.answers
    )


# ---- consultation ----------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/consultations",
    response={200: list[ConsultationOut], **ERRORS},
    summary="Consultation notes, newest first (with the patient's pre-visit answers)",
)
def list_consultations(request: ApiRequest, patient_id: int) -> list[ConsultationNote]:
    patient = _patient(request, patient_id, Perm.DIARY_VIEW)
    record_chart_view(actor=request.user, patient=patient, what="consultation notes via API")
    return list(ConsultationNote.objects.filter(patient=patient)[:100])


class PriorToxinOut(Schema):
    id: int
    product: str = Field(description="each toxin in its own units: never converted to BOTOX units")
    units: Decimal
    last_given_on: date | None
    muscles: str
    response: str


class PostureFindingOut(Schema):
    component: str
    direction: str


class PostureOut(Schema):
    id: int
    visit_date: date
    note: str
    findings: list[PostureFindingOut]


class IndicationConsultationOut(ConsultationOut):
    indication: str
    indication_label: str
    decision: str = Field(description="treat, do_not_treat, defer; empty until decided")
    decision_reasons: str
    author_id: int | None
    created_at: datetime
    prior_toxins: list[PriorToxinOut]
    postures: list[PostureOut] = Field(description="cervical dystonia: the posture at the visit")


class IndicationConsultationPage(Schema):
    items: list[IndicationConsultationOut]
    next_cursor: str | None = None


MAX_CONSULTATION_PAGE = 50


@router.get(
    "/patients/{patient_id}/consultations/{indication}",
    response={200: IndicationConsultationPage, **ERRORS_WITHOUT_CONFLICT},
    summary="Consultations of one indication, newest first: history, symptoms, prior toxins "
    "(each in its own units), goals, the posture (cervical dystonia) and the decision to treat",
)
def list_indication_consultations(
    request: ApiRequest,
    patient_id: int,
    indication: str,
    cursor: str | None = None,
    size: int = 20,
) -> dict[str, Any]:
    patient = _patient(request, patient_id, Perm.DIARY_VIEW)
    if indication not in facts.consultation_indications():
        raise HttpError(404, "No such indication.")
    if not 1 <= size <= MAX_CONSULTATION_PAGE:
        raise DjangoValidationError(
            {"size": [f"Ask for 1 to {MAX_CONSULTATION_PAGE} consultations."]}
        )
    qs = ConsultationNote.objects.filter(patient=patient, indication=indication).prefetch_related(
        Prefetch(
            "prior_toxins", queryset=PriorToxinTreatment.objects.order_by("-last_given_on", "id")
        ),
        Prefetch(
            "postures",
            queryset=PostureAssessment.objects.prefetch_related("findings").order_by(
                "-visit_date", "-id"
            ),
        ),
    )
    try:
        page = keyset_page(
            qs, fields=("created_at", "id"), cursor=cursor, size=size, descending=True
        )
    except BadCursor as exc:
        raise DjangoValidationError({"cursor": [str(exc)]}) from exc
    record_chart_view(
        actor=request.user,
        patient=patient,
        what=f"consultation notes ({facts.indication_label(indication)}) via API",
    )
    label = facts.indication_label(indication)
    items = []
    for note in page.items:
        row = {
            f: getattr(note, f) for f in IndicationConsultationOut.model_fields if hasattr(note, f)
        }
        row |= {
            "indication_label": label,
            "prior_toxins": list(note.prior_toxins.all()),
            "postures": [
                {
                    "id": p.pk,
                    "visit_date": p.visit_date,
                    "note": p.note,
                    "findings": list(p.findings.all()),
                }
                for p in note.postures.all()
            ],
        }
        items.append(row)
    return {"items": items, "next_cursor": page.next_cursor}


@router.put(
    "/patients/{patient_id}/consultation",
    response={200: ConsultationOut, **ERRORS},
    summary="Save (and optionally sign) the open consultation note",
)
def save_consultation(
    request: ApiRequest, patient_id: int, payload: ConsultationIn
) -> ConsultationNote:
    patient = _patient(request, patient_id, Perm.CONSULTATION_EDIT)
    data = payload.model_dump()
    sign = data.pop("sign")
    return consultation.save_consultation(actor=request.user, patient=patient, sign=sign, **data)


# ---- eligibility -----------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/eligibility",
    response={200: EligibilityOut, **ERRORS},
    summary="The current clinic_rules eligibility assessment and the last decision",
)
def get_eligibility(request: ApiRequest, patient_id: int) -> dict[str, Any]:
    patient = _patient(request, patient_id, Perm.DIARY_VIEW)
    record_chart_view(actor=request.user, patient=patient, what="eligibility via API")
    today = actors.local_today()
    result, _ = facts.run_eligibility(patient, today)
    return {
        "as_of": today,
        "assessment": result,
        "policy": policy_knobs.effective_policy(patient.practice_id),
        "last_decision": EligibilityAssessment.objects.filter(patient=patient).first(),
    }


@router.post(
    "/patients/{patient_id}/eligibility/decisions",
    response={201: EligibilityDecisionOut, **ERRORS},
    summary="Record the physician's decision (eligible, not eligible, defer) with the assessment",
)
def record_decision(
    request: ApiRequest, patient_id: int, payload: EligibilityDecisionIn
) -> Status[EligibilityAssessment]:
    patient = _patient(request, patient_id, Perm.ELIGIBILITY_DECIDE)
    row = consultation.record_eligibility_decision(
        actor=request.user, patient=patient, decision=payload.decision, note=payload.note
    )
    return Status(201, row)


# ---- program policy --------------------------------------------------------------------------


class PolicyIn(StrictSchema):
    """Every knob; ``null`` = clinic_rules' documented default. Allowed values and bounds are
    clinic_rules' (``GET /api/v1/rules`` → ``diary-summary`` → ``policy``); others are a 422
    on the field."""

    failed_preventive_classes_required: StrictInt | None = None
    response_rule_set: Text(8) | None = None  # type: ignore[valid-type]
    cumulative_window_days: StrictInt | None = None
    early_retreatment: Text(8) | None = None  # type: ignore[valid-type]
    off_label_age: Text(8) | None = None  # type: ignore[valid-type]
    require_4h_for_headache_day: StrictBool | None = None
    count_probable_as_migraine: StrictBool | None = None
    min_diary_completeness: Dec | None = Field(default=None, max_digits=3, decimal_places=2)
    bilateral_billing: Text(12) | None = None  # type: ignore[valid-type]


class PolicyOut(Schema):
    failed_preventive_classes_required: int | None
    response_rule_set: str | None
    cumulative_window_days: int | None
    early_retreatment: str | None
    off_label_age: str | None
    require_4h_for_headache_day: bool | None
    count_probable_as_migraine: bool | None
    min_diary_completeness: Decimal | None
    bilateral_billing: str | None
    effective: dict[str, Any] = Field(description="every knob as clinic_rules receives it")
    updated_at: datetime | None


def _policy_scope(request: ApiRequest):  # type: ignore[no-untyped-def]
    scope = require_scope(request, Perm.PROGRAM_POLICY_EDIT)
    if not scope.all_clinics:
        raise HttpError(403, "The program policy is set across the practice.")
    return scope


def _policy_out(practice_id: int) -> dict[str, Any]:
    row = ProgramPolicy.objects.filter(practice_id=practice_id).first()
    out: dict[str, Any] = {}
    for f in policy_knobs.FIELDS:
        v = getattr(row, f) if row is not None else None
        out[f] = None if v == "" else v
    out["effective"] = policy_knobs.effective_policy(practice_id)
    out["updated_at"] = row.updated_at if row is not None else None
    return out


@router.get(
    "/policy",
    response={200: PolicyOut, **ERRORS},
    summary="The practice's chronic migraine program policy (null = clinic_rules default)",
)
def get_policy(request: ApiRequest) -> dict[str, Any]:
    scope = _policy_scope(request)
    return _policy_out(scope.practice_id)


@router.put(
    "/policy",
    response={200: PolicyOut, **ERRORS},
    summary="Replace the program policy (every knob; null = default); audited",
)
def put_policy(request: ApiRequest, payload: PolicyIn) -> dict[str, Any]:
    scope = _policy_scope(request)
    program_policy.update_program_policy(
        actor=request.user, practice=request.user.practice, **payload.model_dump()
    )
    return _policy_out(scope.practice_id)
