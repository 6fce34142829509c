from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from django.shortcuts import render

from bontrack.accounts import services as account_services
from bontrack.accounts.access import patient_view
from bontrack.accounts.forms import PatientLoginForm
from bontrack.accounts.requests import PortalRequest
from bontrack.patients import services as patient_services
from bontrack.patients.models import Patient


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


@patient_view
def home(request: PortalRequest, patient: Patient) -> HttpResponse:
    patient_services.record_chart_view(
        actor=request.user, patient=patient, what="own portal summary"
    )
    context = {
        "patient": patient,
        "conditions": list(patient.conditions.filter(active=True)),
        "clinic": patient.clinic,
    }
    return render(request, "portal/home.html", context)
