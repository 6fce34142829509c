from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from bontrack.accounts import services as account_services
from bontrack.accounts.access import patient_view
from bontrack.accounts.forms import PatientLoginForm
from bontrack.accounts.requests import PortalRequest
from bontrack.core.errors import Conflict
from bontrack.core.forms import StrictInputMixin
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
