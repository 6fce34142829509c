"""Front desk: online bookings whose details match an existing chart wait here for a decision.

The list and each decision page are scoped to the viewer's clinics in the query (other clinics'
matches are 404), audited as reads; confirming or rejecting goes through `services`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict
from bontrack.scheduling import notify
from bontrack.scheduling.actions import matches as matches_actions
from bontrack.scheduling.actions import reads
from bontrack.scheduling.models import MatchStatus, PendingMatch
from bontrack.scheduling.views import _clinics, _pick_clinic, render_local

MATCH_LABELS = {
    "name_and_birth_date": "name and date of birth",
    "email": "e-mail",
    "phone": "phone",
}


@staff_view(Perm.PATIENT_EDIT)
def matches(request: StaffRequest, scope: Scope) -> HttpResponse:
    """Pending matches of one clinic, with the count per clinic in scope."""
    clinic = _pick_clinic(request, scope)
    pending = PendingMatch.objects.in_scope(scope).filter(status=MatchStatus.PENDING)
    counts = dict(pending.values_list("clinic_id").annotate(n=Count("id")))
    clinics = [(c, counts.get(c.pk, 0)) for c in _clinics(scope)]
    qs = pending.filter(clinic=clinic).select_related(
        "appointment__appointment_type", "appointment__clinic", "booked_patient"
    )
    try:
        page = keyset_page(
            qs, fields=("created_at", "id"), cursor=request.GET.get("cursor") or None, size=50
        )
    except BadCursor:
        page = keyset_page(qs, fields=("created_at", "id"), cursor=None, size=50)
    reads.record_read(
        actor=request.user,
        what=f"Online bookings to check ({len(page.items)} shown)",
        object_type="scheduling.pendingmatch",
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
    )
    rows = [{"m": m, "when": notify.local_time(m.appointment)} for m in page.items]
    context = {
        "clinic": clinic,
        "clinics": clinics,
        "total": counts.get(clinic.pk, 0),
        "rows": rows,
        "page": page,
        "labels": MATCH_LABELS,
    }
    return render_local(request, clinic, "scheduling/matches.html", context)


@staff_view(Perm.PATIENT_EDIT)
def match_decide(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """The confirmation step: both charts side by side, then "same person" or "different person"."""
    m = get_object_or_404(
        PendingMatch.objects.in_scope(scope).select_related(
            "clinic", "appointment__appointment_type", "booked_patient", "matched_patient__clinic"
        ),
        pk=pk,
    )
    existing_visible = Patient.objects.in_scope(scope).filter(pk=m.matched_patient_id).exists()
    error, status = "", 200
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        try:
            if decision == "confirm":
                matches_actions.confirm_match(actor=request.user, match=m)
                messages.success(
                    request,
                    "The booking was moved to the existing chart and the duplicate was removed.",
                )
            elif decision == "reject":
                matches_actions.reject_match(actor=request.user, match=m)
                messages.success(request, "The booking keeps its new chart.")
            else:
                raise ValidationError({"decision": ["Choose same person or different person."]})
        except Conflict as exc:
            error, status = str(exc), 409
        except ValidationError as exc:
            error, status = "; ".join(exc.messages), 422
        else:
            return redirect(reverse("scheduling:matches") + f"?clinic={m.clinic_id}")
    else:
        reads.record_read(
            actor=request.user,
            what="Online booking match",
            obj=m.matched_patient if existing_visible else None,
            object_type="scheduling.pendingmatch",
            object_id=str(m.pk),
            clinic_id=m.clinic_id,
            practice_id=m.practice_id,
        )
    context = {
        "m": m,
        "when": notify.local_time(m.appointment),
        "existing_visible": existing_visible,
        "matched_on": [MATCH_LABELS.get(k, k) for k in m.matched_on],
        "error": error,
        "pending": m.status == MatchStatus.PENDING,
    }
    return render_local(request, m.clinic, "scheduling/match.html", context, status=status)
