"""The practice's billing profile and fee schedule (practice-wide clinic administrator)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.claims.actions.setup import FIELDS, save_profile
from bontrack.claims.forms import BillingProfileForm
from bontrack.claims.models import BillingProfile
from bontrack.core.forms import apply_service_errors


@staff_view(Perm.CLAIM_SETUP)
@require_http_methods(["GET", "POST"])
def billing_profile(request: StaffRequest, scope: Scope) -> HttpResponse:
    if not scope.all_clinics:
        raise PermissionDenied("The billing profile is kept by a practice-wide administrator.")
    profile = BillingProfile.objects.filter(practice_id=scope.practice_id).first()
    status = 200
    if request.method == "POST":
        form = BillingProfileForm(request.POST)
        if form.is_valid():
            try:
                save_profile(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "Billing profile saved.")
                return redirect("claims:setup")
        status = 422
    else:
        initial = {k: getattr(profile, k) for k in FIELDS} if profile else {"usage": "T"}
        if profile:
            initial["fees"] = "\n".join(f"{c} {p}" for c, p in sorted(profile.fees.items()))
        form = BillingProfileForm(initial=initial)
    return render(request, "claims/setup.html", {"form": form, "profile": profile}, status=status)
