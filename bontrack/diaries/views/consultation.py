"""The consultation page, one per indication: the patient's pre-visit answers, the physician's
note and decision to treat, prior toxin treatments (each in its own product's units), the
baseline scales and, for cervical dystonia, the posture at each visit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.htmx import render_page
from bontrack.core.parsing import ParseError, parse_int
from bontrack.diaries import facts
from bontrack.diaries.actions import actors
from bontrack.diaries.actions import (
    consultation as consultation_actions,
)
from bontrack.diaries.forms import ConsultationForm, PostureForm, PriorToxinForm
from bontrack.diaries.models import (
    ConsultationNote,
    PostureAssessment,
    PriorToxinTreatment,
    QuestionnaireResponse,
)
from bontrack.diaries.views.diary import patient_for
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict, record_chart_view
from bontrack.patients.views import apply_service_errors

POSTURE_ROWS = 12
# The scales helper's entry page for an instrument, when it is installed under one of these names.
SCALE_URL_NAMES = ("treatments:scale_entry", "treatments:scales", "diaries:scales")


def _scale_link(patient: Patient, code: str) -> str | None:
    for name in SCALE_URL_NAMES:
        for args in ((patient.pk, code), (patient.pk,)):
            try:
                return reverse(name, args=args)
            except NoReverseMatch:
                continue
    return None


def baseline_scores(patient: Patient, indication: str) -> list[dict[str, Any]]:
    """Each outcome instrument of the indication with its first completed score (one query)."""
    instruments = facts.baseline_instruments(indication)
    codes = [i["code"] for i in instruments]
    first: dict[str, QuestionnaireResponse] = {}
    for q in QuestionnaireResponse.objects.filter(
        patient=patient, instrument__in=codes, completed_at__isnull=False
    ).order_by("completed_at", "id"):
        first.setdefault(q.instrument, q)
    return [
        {
            "label": i["label"],
            "score": first.get(i["code"]),
            "link": _scale_link(patient, i["code"]),
        }
        for i in instruments
    ]


@staff_view(Perm.DIARY_VIEW)
@require_http_methods(["GET", "POST"])
def consultation(
    request: StaffRequest, pk: int, scope: Scope, indication: str = "chronic_migraine"
) -> HttpResponse:
    patient = patient_for(scope, pk)
    if indication not in facts.consultation_indications():
        raise Http404("No such indication.")
    note = consultation_actions.open_consultation(patient, indication)
    can_edit = request.user.has_clinic_perm(Perm.CONSULTATION_EDIT, patient.clinic_id)
    can_posture = request.user.has_clinic_perm(Perm.PATIENT_CLINICAL_EDIT, patient.clinic_id)
    form: Any = None
    toxin_form = PriorToxinForm()
    posture_form = PostureForm(initial={"visit_date": actors.local_today()})
    errors = False
    here = reverse("diaries:consultation_for", args=[patient.pk, indication])
    if request.method == "POST":
        action = request.POST.get("action", "note")
        if action == "posture":
            if not can_posture:
                raise PermissionDenied("Only clinicians record the posture.")
        elif not can_edit:
            raise PermissionDenied("Only the physician writes the consultation note.")
        if action == "toxin":
            toxin_form = PriorToxinForm(request.POST)
            if toxin_form.is_valid():
                try:
                    consultation_actions.add_prior_toxin(
                        actor=request.user,
                        patient=patient,
                        indication=indication,
                        **toxin_form.cleaned_data,
                    )
                except (ValidationError, Conflict) as exc:
                    apply_service_errors(toxin_form, exc)
                else:
                    return redirect(f"{here}?saved=toxin#prior-toxins")
            errors = True
        elif action == "remove_toxin":
            try:
                row_id = parse_int(request.POST.get("row", ""))
                consultation_actions.remove_prior_toxin(
                    actor=request.user, patient=patient, row_id=row_id
                )
            except (ParseError, ValidationError) as exc:
                raise Http404("No such entry.") from exc
            return redirect(f"{here}?saved=removed#prior-toxins")
        elif action == "posture":
            posture_form = PostureForm(request.POST)
            if posture_form.is_valid():
                try:
                    consultation_actions.record_posture(
                        actor=request.user,
                        patient=patient,
                        visit_date=posture_form.cleaned_data["visit_date"],
                        findings=posture_form.findings(),
                        note=posture_form.cleaned_data["note"],
                    )
                except (ValidationError, Conflict) as exc:
                    apply_service_errors(posture_form, exc)
                else:
                    return redirect(f"{here}?saved=posture#posture")
            errors = True
        else:
            form = ConsultationForm(request.POST)
            if form.is_valid():
                try:
                    consultation_actions.save_consultation(
                        actor=request.user,
                        patient=patient,
                        indication=indication,
                        sign="sign" in request.POST,
                        **form.cleaned_data,
                    )
                except (ValidationError, Conflict) as exc:
                    apply_service_errors(form, exc)
                else:
                    saved = "signed" if "sign" in request.POST else "note"
                    return redirect(f"{here}?saved={saved}")
            errors = True
    else:
        record_chart_view(
            actor=request.user,
            patient=patient,
            what=f"consultation note ({facts.indication_label(indication)})",
        )
    if form is None:
        initial = (
            {f: getattr(note, f) for f in consultation_actions.STAFF_NOTE_FIELDS} if note else {}
        )
        if note:
            # Pre-fill the physician's fields from the patient's answers the first time.
            for f in ("history", "symptoms", "previous_treatments", "goals"):
                if not initial.get(f):
                    initial[f] = getattr(note, f"patient_{f}")
        form = ConsultationForm(initial=initial)
    notes = list(
        ConsultationNote.objects.filter(patient=patient, indication=indication)
        .select_related("author")
        .prefetch_related("prior_toxins")[:21]
    )
    signed = [n for n in notes if n.signed_at is not None][:20]
    latest = signed[0] if signed else None
    # The draft's prior toxins, or the last signed note's when no draft is open (read-only).
    shown = note or latest
    toxins = list(PriorToxinTreatment.objects.filter(consultation=shown)) if shown else []
    cd = indication == "cervical_dystonia"
    postures = (
        list(
            PostureAssessment.objects.filter(patient=patient)
            .select_related("recorded_by")
            .prefetch_related("findings")[:POSTURE_ROWS]
        )
        if cd
        else []
    )
    context = {
        "patient": patient,
        "indication": indication,
        "indication_label": facts.indication_label(indication),
        "indications": facts.indication_choices(),
        "off_label": facts.is_off_label_indication(indication),
        "note": note,
        "form": form,
        "toxin_form": toxin_form,
        "posture_form": posture_form,
        "toxins": toxins,
        "postures": postures,
        "cervical_dystonia": cd,
        "baseline": baseline_scores(patient, indication),
        "can_edit": can_edit,
        "can_posture": can_posture,
        "signed": signed[1:] if note is None else signed,
        "latest": latest if note is None else None,
        "toxins_editable": note is not None,
        "saved": request.GET.get("saved", ""),
    }
    return render_page(request, "diaries/consultation.html", context, status=422 if errors else 200)
