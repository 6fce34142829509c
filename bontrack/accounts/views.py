from __future__ import annotations

import contextlib
from base64 import b32encode
from typing import Any

import segno
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from bontrack.accounts import services
from bontrack.accounts.access import staff_view
from bontrack.accounts.forms import (
    ApiTokenForm,
    StaffCreateForm,
    StaffLoginForm,
    StaffRoleForm,
    TotpForm,
)
from bontrack.accounts.models import ApiToken, Membership, Scope, User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict


class StaffLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        services.record_login(user=form.get_user())
        return response


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    was_patient = hasattr(request.user, "portal_account")
    if request.user.is_authenticated:
        services.record_login(user=request.user, action="logout")
    auth.logout(request)
    return redirect("portal:login" if was_patient else "accounts:login")


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/patients/"


@login_required
@require_http_methods(["GET", "POST"])
def mfa(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code, or enrol a first device when the account has none."""
    user = request.user
    if not getattr(user, "is_staff_member", False):
        return redirect("portal:home")
    if user.is_verified():
        return redirect(_safe_next(request))
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            services.record_login(
                user=user, action="mfa_verified" if not enrolling else "mfa_enrolled"
            )
            return redirect(_safe_next(request))
        form.add_error(
            "token", "That code is not valid. Check the time on your phone and try again."
        )
    context: dict[str, object] = {"form": form, "enrolling": enrolling}
    if enrolling:
        context["secret"] = b32encode(device.bin_key).decode().rstrip("=")
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(request, "accounts/mfa.html", context, status=422 if form.errors else 200)


def locked(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/locked.html", status=429)


@staff_view(Perm.API_TOKENS_MANAGE)
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Clinic administrators issue and revoke integration tokens; a new token is shown once."""
    form = ApiTokenForm(request.POST or None, practice_id=scope.practice_id)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token = services.create_api_token(
                actor=request.user, user=form.cleaned_data["user"], name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form = ApiTokenForm(practice_id=scope.practice_id)
    tokens = (
        ApiToken.objects.filter(user__practice_id=scope.practice_id)
        .select_related("user")
        .order_by("revoked_at", "-created_at")[:200]
    )
    context = {"form": form, "tokens": list(tokens), "new_token": new_token}
    return render(request, "accounts/api_tokens.html", context, status=422 if form.errors else 200)


@staff_view(Perm.API_TOKENS_MANAGE)
@require_POST
def api_token_revoke(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    token = get_object_or_404(
        ApiToken.objects.select_related("user"), pk=pk, user__practice_id=scope.practice_id
    )
    with contextlib.suppress(Conflict):  # already revoked: the list shows it
        services.revoke_api_token(actor=request.user, token=token)
    return redirect("accounts:api_tokens")


def _staff_accounts(practice_id: int) -> list[User]:
    return list(
        User.objects.filter(practice_id=practice_id)
        .prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("clinic"))
        )
        .order_by("-is_active", "last_name", "first_name", "username")
    )


def _apply_errors(form: Any, exc: Exception) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(
            getattr(exc, "field", None) if getattr(exc, "field", None) in form.fields else None,
            str(exc),
        )


@staff_view(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Staff accounts of the practice: create, give or take roles, deactivate."""
    form = StaffCreateForm(request.POST or None, practice_id=scope.practice_id)
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.create_staff(
                actor=request.user,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                clinic=data["clinic"],
            )
        except (ValidationError, Conflict) as exc:
            _apply_errors(form, exc)
        else:
            created = (user, password)
            form = StaffCreateForm(practice_id=scope.practice_id)
    context = {
        "form": form,
        "created": created,
        "accounts": _staff_accounts(scope.practice_id),
        "role_form": StaffRoleForm(practice_id=scope.practice_id),
    }
    return render(request, "accounts/staff.html", context, status=422 if form.errors else 200)


def _staff_member(scope: Scope, pk: int) -> User:
    return get_object_or_404(User, pk=pk, practice_id=scope.practice_id)


@staff_view(Perm.STAFF_MANAGE)
@require_POST
def staff_add_role(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    user = _staff_member(scope, pk)
    form = StaffRoleForm(request.POST, practice_id=scope.practice_id)
    if form.is_valid():
        try:
            services.add_membership(
                actor=request.user,
                user=user,
                role=form.cleaned_data["role"],
                clinic=form.cleaned_data["clinic"],
            )
        except (ValidationError, Conflict) as exc:
            messages.error(
                request, str(exc.messages[0] if isinstance(exc, ValidationError) else exc)
            )
    else:
        messages.error(request, "Choose a role and a clinic.")
    return redirect("accounts:staff")


@staff_view(Perm.STAFF_MANAGE)
@require_POST
def staff_remove_role(
    request: HttpRequest, pk: int, membership_id: int, scope: Scope
) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user"),
        pk=membership_id,
        user_id=pk,
        practice_id=scope.practice_id,
    )
    try:
        services.remove_membership(actor=request.user, membership=membership)
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("accounts:staff")


@staff_view(Perm.STAFF_MANAGE)
@require_POST
def staff_set_active(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    user = _staff_member(scope, pk)
    try:
        services.set_staff_active(
            actor=request.user, user=user, active=request.POST.get("active") == "1"
        )
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("accounts:staff")


class StaffPasswordChangeView(PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = "/"

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        services.record_login(user=self.request.user, action="password_changed")
        messages.success(self.request, "Your password was changed.")
        return response
