"""The practice's program policy page (clinic administrators of the whole practice)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.core.forms import apply_service_errors
from bontrack.core.htmx import render_page
from bontrack.core.models import ProgramPolicy
from bontrack.core.policy import facts as policy_knobs
from bontrack.diaries.actions import (
    program_policy as program_policy_actions,
)
from bontrack.diaries.forms import (
    PolicyForm,
)


@staff_view(Perm.PROGRAM_POLICY_EDIT)
@require_http_methods(["GET", "POST"])
def program_policy(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The practice's program policy (clinic administrators of the whole practice)."""
    if not scope.all_clinics:
        raise PermissionDenied("The program policy is set across the practice.")
    practice = request.user.practice
    row = ProgramPolicy.objects.filter(practice=practice).first()
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                program_policy_actions.update_program_policy(
                    actor=request.user, practice=practice, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                return redirect(reverse("diaries:policy") + "?saved=1")
    else:
        form = PolicyForm(initial=PolicyForm.initial_from(row))
    stored = policy_knobs.policy_document_of(row) if row else {}
    effective = policy_knobs.effective_policy(practice.pk)
    context = {
        "form": form,
        "policy_row": row,
        "saved": request.GET.get("saved") == "1" and not form.errors,
        "effective": [
            {
                "label": k.label,
                "value": policy_knobs.value_label(effective[k.key]),
                "is_default": k.key not in stored,
            }
            for k in policy_knobs.KNOBS
        ],
    }
    return render_page(request, "diaries/policy.html", context, status=422 if form.errors else 200)
