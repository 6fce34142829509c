from __future__ import annotations

import zoneinfo
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bontrack.accounts import services as account_services
from bontrack.accounts.access import patient_view
from bontrack.accounts.forms import PatientLoginForm
from bontrack.accounts.requests import PortalRequest
from bontrack.core.errors import Conflict
from bontrack.core.forms import StrictInputMixin
from bontrack.patients import services as patient_services
from bontrack.patients.models import Patient
from bontrack.scheduling import education
from bontrack.treatments import facts
from bontrack.treatments.choices import GIVEN_STATUSES
from bontrack.treatments.models import TreatmentPlan, TreatmentSession


class PatientLoginView(LoginView):
    template_name = "portal/login.html"
    authentication_form = PatientLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return "/portal/"

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        account_services.record_login(user=form.get_user())
        return response


# The scales helper's portal entry page, when installed under one of these names.
SCALE_URL_NAMES = ("treatments:portal_scales", "diaries:portal_scales", "portal:scales")
# Questionnaires the diary's portal pages already take (MIDAS, HIT-6).
DIARY_INSTRUMENTS = frozenset({"midas", "hit6"})
PAIN_SCALE_LABEL = "Pain score from 0 (no pain) to 10 (worst pain imaginable)"


def _scale_url() -> str | None:
    for name in SCALE_URL_NAMES:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def programs(patient: Patient) -> list[dict[str, Any]]:
    """Each indication the patient is treated for (active conditions and active plans): its plan,
    the last given session and the next due date, the scales it asks the patient to fill and its
    education pages. Four queries whatever the history."""
    conditions = set(patient.conditions.filter(active=True).values_list("indication", flat=True))
    plans = {
        p.indication: p
        for p in TreatmentPlan.objects.filter(patient=patient, active=True)
        .select_related("clinic_protocol")
        .prefetch_related("lines")
    }
    wanted = conditions | set(plans)
    last: dict[str, date] = {}
    zone = zoneinfo.ZoneInfo(patient.clinic.time_zone)
    for first, inds, at in (
        TreatmentSession.objects.filter(patient=patient, status__in=GIVEN_STATUSES)
        .order_by("-performed_at")
        .values_list("indication", "indications", "performed_at")
    ):
        for ind in inds or [first]:
            last.setdefault(ind, timezone.localtime(at, zone).date())
    today = timezone.localdate()
    pediatric = facts.is_pediatric("upper_limb_spasticity", patient.date_of_birth, today)
    scale_url = _scale_url()
    out = []
    for code in facts.indication_codes():
        if code not in wanted:
            continue
        plan = plans.get(code)
        lines = list(plan.lines.all()) if plan else []
        scales = [
            {
                "label": i["label"],
                "url": reverse("diaries:portal_home")
                if i["code"] in DIARY_INSTRUMENTS
                else scale_url,
            }
            for i in facts.protocol_instruments(code)
        ]
        if facts.is_off_label(code):
            scales.append({"label": PAIN_SCALE_LABEL, "url": scale_url})
        given = last.get(code)
        out.append(
            {
                "code": code,
                "label": facts.indication_label(code),
                "off_label": facts.is_off_label(code),
                "plan": plan,
                "plan_units": sum((ln.units for ln in lines), Decimal(0)),
                "plan_sites": sum(ln.sites for ln in lines),
                "plan_muscles": sorted({facts.muscle_labels().get(ln.muscle, "") for ln in lines}),
                "last_session": given,
                "next_due": given + timedelta(days=facts.retreatment_interval_days(code))
                if given
                else None,
                "scales": scales,
                "learn": education.topics_for([code], pediatric=pediatric),
            }
        )
    return out


@patient_view
def home(request: PortalRequest, patient: Patient) -> HttpResponse:
    patient_services.record_chart_view(
        actor=request.user, patient=patient, what="own portal summary"
    )
    context = {
        "patient": patient,
        "conditions": list(patient.conditions.filter(active=True)),
        "programs": programs(patient),
        "clinic": patient.clinic,
    }
    return render(request, "portal/home.html", context)


class InviteForm(StrictInputMixin, SetPasswordForm):  # type: ignore[misc]
    """Set the first password of a portal account (Django's password validators apply)."""


@require_http_methods(["GET", "POST"])
def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed invitation: a signed, expiring, single-use link to set the portal password."""
    user = account_services.read_portal_invite(token)
    if user is None:
        # Forged, expired or used: one answer that reveals nothing, with a way on.
        return render(request, "portal/invite_invalid.html", status=404)
    form = InviteForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_services.accept_portal_invite(
                user=user, password=form.cleaned_data["new_password1"]
            )
        except Conflict as exc:
            raise Http404 from exc
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        account_services.record_login(user=user)
        messages.success(
            request, "Your password is set and you are signed in. Welcome to your patient portal."
        )
        return redirect("portal:home")
    return render(
        request,
        "portal/invite.html",
        {"form": form, "username": user.username},
        status=422 if form.errors else 200,
    )
