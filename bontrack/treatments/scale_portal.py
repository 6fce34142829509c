"""Patient portal: the patient-reported scales (BDI, TWSTRS disability and pain, pain rating) and
the date a treatment's effect wore off."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import patient_view
from bontrack.accounts.requests import PortalRequest
from bontrack.core.forms import apply_service_errors
from bontrack.patients.models import Patient
from bontrack.treatments import facts as treatment_facts
from bontrack.treatments import scale_selectors
from bontrack.treatments.actions import common
from bontrack.treatments.actions import scales as scale_actions
from bontrack.treatments.facts import scales as facts
from bontrack.treatments.models import Injection, ScaleEntry, TreatmentSession, WearingOff
from bontrack.treatments.scale_forms import ScaleForm, WearingOffForm

RECENT_SESSIONS = 3
# What the patient sees for each patient-reported scale.
PORTAL_LABELS = {
    "twstrs": "How your neck affects daily life, and your pain (TWSTRS)",
    "bdi": "How your eyelids affect daily activities (Blepharospasm Disability Index)",
    "pain_nrs": "Your pain today (0 to 10)",
}


def _reported(indication: str) -> list[str]:
    reported = facts.patient_reported()
    return [i for i in facts.instruments_for(indication) if i in reported]


@patient_view
def scale_list(request: PortalRequest, patient: Patient) -> HttpResponse:
    common.record_view(actor=request.user, patient=patient, what="own outcome scales")
    today = timezone.localdate()
    # A fixed number of queries whatever the number of indications and sessions.
    indications = scale_selectors.scale_indications_of(patient)
    sessions = list(
        TreatmentSession.objects.current().filter(patient=patient).order_by("performed_at", "id")
    )
    ids = [s.pk for s in sessions]
    treated: dict[int, set[str]] = defaultdict(set)
    for sid, ind in (
        Injection.objects.filter(session_id__in=ids)
        .values_list("session_id", "indication")
        .distinct()
    ):
        treated[sid].add(ind)
    entries = list(
        ScaleEntry.objects.filter(patient=patient).values_list(
            "indication", "instrument", "taken_on"
        )
    )
    wearing = dict(
        WearingOff.objects.filter(session_id__in=ids).values_list("session_id", "worn_off_on")
    )
    blocks: list[dict[str, Any]] = []
    for indication in indications:
        instruments = _reported(indication)
        mine = [s for s in sessions if s.indication == indication or indication in treated[s.pk]]
        plan = facts.schedule(
            indication,
            today,
            [scale_selectors.session_day(s) for s in mine],
            [(i, d) for ind, i, d in entries if ind == indication],
        )
        recent = mine[-RECENT_SESSIONS:]
        blocks.append(
            {
                "indication": indication,
                "label": treatment_facts.indication_label(indication),
                "instruments": [
                    {
                        "code": i,
                        "label": PORTAL_LABELS.get(i, facts.LABELS[i]),
                        "due": i in plan["due"],
                    }
                    for i in instruments
                ],
                "sessions": [
                    {
                        "session": s,
                        "day": scale_selectors.session_day(s),
                        "wearing_off": wearing.get(s.pk),
                    }
                    for s in reversed(recent)
                ],
            }
        )
    return render(
        request,
        "treatments/portal_scales.html",
        {"patient": patient, "blocks": blocks, "form": WearingOffForm(auto_id="wo-%s")},
    )


@patient_view
@require_http_methods(["GET", "POST"])
def scale_form(
    request: PortalRequest, indication: str, instrument: str, patient: Patient
) -> HttpResponse:
    if indication not in scale_selectors.scale_indications_of(patient):
        raise Http404
    if instrument not in _reported(indication):
        raise Http404
    form = ScaleForm(
        request.POST if request.method == "POST" else None,
        instrument=instrument,
        indication=indication,
        portal=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            scale_actions.record_scale_entry(
                actor=request.user,
                patient=patient,
                indication=indication,
                instrument=instrument,
                taken_on=form.cleaned_data["taken_on"],
                answers=form.answers(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Thank you: your {facts.LABELS[instrument]} was sent.")
            return redirect("treatments:portal_scales")
    elif request.method == "GET":
        common.record_view(actor=request.user, patient=patient, what=f"own {instrument}")
    return render(
        request,
        "treatments/portal_scale_form.html",
        {
            "patient": patient,
            "form": form,
            "label": PORTAL_LABELS.get(instrument, facts.LABELS[instrument]),
            "indication_label": treatment_facts.indication_label(indication),
            "item_top": facts.twstrs_disability_items()[1],
        },
        status=422 if form.errors else 200,
    )


@patient_view
@require_POST
def wearing_off(request: PortalRequest, sid: int, patient: Patient) -> HttpResponse:
    session = TreatmentSession.objects.current().filter(patient=patient, pk=sid).first()
    if session is None:
        raise Http404
    form = WearingOffForm(request.POST)
    if form.is_valid():
        try:
            scale_actions.record_wearing_off(
                actor=request.user,
                session=session,
                worn_off_on=form.cleaned_data["worn_off_on"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        else:
            messages.success(request, "Thank you: we noted when the effect wore off.")
    else:
        messages.error(request, "Enter the date the effect wore off.")
    return redirect("treatments:portal_scales")
