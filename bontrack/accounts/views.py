from __future__ import annotations

import hashlib
import time
from base64 import b32encode
from datetime import UTC, datetime
from typing import Any

import segno
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import (
    INTERNAL_RESET_SESSION_TOKEN,
    LoginView,
    PasswordChangeView,
    PasswordResetConfirmView,
)
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from bontrack.accounts import services
from bontrack.accounts.access import staff_view
from bontrack.accounts.forms import (
    ApiTokenForm,
    PasswordResetRequestForm,
    StaffCreateForm,
    StaffLoginForm,
    StaffRoleForm,
    TotpForm,
)
from bontrack.accounts.middleware import OTP_AT
from bontrack.accounts.models import ApiToken, Membership, Scope, User
from bontrack.accounts.requests import StaffRequest
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
            request.session[OTP_AT] = int(time.time())
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


PENDING_TOKEN = "bontrack_pending_token"


def _otp_at(request: HttpRequest) -> datetime | None:
    stamp = request.session.get(OTP_AT)
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp else None


def _to_step_up(request: HttpRequest, back: str) -> HttpResponse:
    messages.info(request, "Enter a fresh code from your authenticator app to continue.")
    return redirect(f"{reverse('accounts:step_up')}?{urlencode({'next': back})}")


@login_required
@require_http_methods(["GET", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """A fresh TOTP code before a sensitive action (token, role, password reset), then back."""
    user = request.user
    if not getattr(user, "is_staff_member", False):
        raise PermissionDenied("This page is for clinic staff.")
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    if device is None:
        return redirect(f"{reverse('accounts:mfa')}?{urlencode({'next': _safe_next(request)})}")
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            request.session[OTP_AT] = int(time.time())
            services.record_login(user=user, action="mfa_step_up")
            messages.success(request, "Confirmed. You can continue for the next few minutes.")
            return redirect(_safe_next(request))
        form.add_error(
            "token", "That code is not valid. Check the time on your phone and try again."
        )
    context = {
        "form": form,
        "next": _safe_next(request),
        "minutes": max(1, settings.MFA_STEP_UP_SECONDS // 60),
    }
    return render(request, "accounts/step_up.html", context, status=422 if form.errors else 200)


def _token_list(scope: Scope) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(user__in=services.manageable_staff(scope))
        .select_related("user", "created_by")
        .order_by("revoked_at", "-created_at")[:200]
    )


@staff_view(Perm.API_TOKENS_MANAGE)
@require_http_methods(["GET", "POST"])
def api_tokens(request: StaffRequest, scope: Scope) -> HttpResponse:
    """Clinic administrators issue and revoke integration tokens; a new token is shown once."""
    staff = services.manageable_staff(scope)
    pending = request.session.pop(PENDING_TOKEN, None) if request.method == "GET" else None
    form = ApiTokenForm(request.POST or None, staff=staff, initial=pending)
    new_token = None
    if request.method == "POST":
        if not services.step_up_fresh(_otp_at(request)):
            # Keep what was typed (never a secret) so the form is filled in again after step-up.
            request.session[PENDING_TOKEN] = {
                key: request.POST.get(key, "")[:100] for key in ("user", "name", "scope", "days")
            }
            return _to_step_up(request, reverse("accounts:api_tokens"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                new_token = services.create_api_token(
                    actor=request.user,
                    user=data["user"],
                    name=data["name"],
                    scope=data["scope"],
                    days=data["days"],
                    step_up_at=_otp_at(request),
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"Token issued for {data['user'].username}.")
                form = ApiTokenForm(staff=staff)
    context = {
        "form": form,
        "tokens": _token_list(scope),
        "new_token": new_token,
        "step_up_fresh": services.step_up_fresh(_otp_at(request)),
        "now": timezone.now(),
    }
    return render(request, "accounts/api_tokens.html", context, status=422 if form.errors else 200)


@staff_view(Perm.API_TOKENS_MANAGE)
@require_POST
def api_token_revoke(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    token = get_object_or_404(
        ApiToken.objects.select_related("user").filter(user__in=services.manageable_staff(scope)),
        pk=pk,
    )
    try:
        services.revoke_api_token(actor=request.user, token=token)
    except Conflict:  # already revoked: the list shows it
        pass
    else:
        messages.success(request, f"Token {token.name!r} revoked.")
    return redirect("accounts:api_tokens")


def _staff_accounts(scope: Scope) -> list[User]:
    return list(
        services.manageable_staff(scope)
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


def _staff_page(
    request: StaffRequest, scope: Scope, form: StaffCreateForm | None = None, **extra: Any
) -> HttpResponse:
    form = form or StaffCreateForm(scope=scope)
    context = {
        "form": form,
        "accounts": _staff_accounts(scope),
        "role_form": StaffRoleForm(scope=scope),
        "practice_wide": scope.all_clinics,
        **extra,
    }
    return render(request, "accounts/staff.html", context, status=422 if form.errors else 200)


@staff_view(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_list(request: StaffRequest, scope: Scope) -> HttpResponse:
    """Staff accounts of the clinics this administrator manages: create, roles, deactivate."""
    form = StaffCreateForm(request.POST or None, scope=scope)
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
            form = StaffCreateForm(scope=scope)
    return _staff_page(request, scope, form, created=created)


def _staff_member(scope: Scope, pk: int) -> User:
    return get_object_or_404(services.manageable_staff(scope), pk=pk)


@staff_view(Perm.STAFF_MANAGE)
@require_POST
def staff_add_role(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    user = _staff_member(scope, pk)
    if not services.step_up_fresh(_otp_at(request)):
        return _to_step_up(request, reverse("accounts:staff"))
    form = StaffRoleForm(request.POST, scope=scope)
    if form.is_valid():
        try:
            services.add_membership(
                actor=request.user,
                user=user,
                role=form.cleaned_data["role"],
                clinic=form.cleaned_data["clinic"],
                step_up_at=_otp_at(request),
            )
        except (ValidationError, Conflict) as exc:
            messages.error(
                request, str(exc.messages[0] if isinstance(exc, ValidationError) else exc)
            )
        else:
            messages.success(request, f"Role added for {user.username}.")
    else:
        messages.error(request, "Choose a role and one of your clinics.")
    return redirect("accounts:staff")


@staff_view(Perm.STAFF_MANAGE)
@require_POST
def staff_remove_role(
    request: StaffRequest, pk: int, membership_id: int, scope: Scope
) -> HttpResponse:
    user = _staff_member(scope, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "clinic"), pk=membership_id, user=user
    )
    try:
        services.remove_membership(actor=request.user, membership=membership)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Role removed from {user.username}.")
    return redirect("accounts:staff")


@staff_view(Perm.STAFF_MANAGE)
@require_POST
def staff_set_active(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    user = _staff_member(scope, pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_staff_active(actor=request.user, user=user, active=active)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{user.username} {'reactivated' if active else 'deactivated'}.")
    return redirect("accounts:staff")


@staff_view(Perm.STAFF_MANAGE)
@require_POST
def staff_reset_password(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """A one-time password for a staff member, shown once; step-up TOTP required."""
    user = _staff_member(scope, pk)
    if not services.step_up_fresh(_otp_at(request)):
        return _to_step_up(request, reverse("accounts:staff"))
    try:
        password = services.reset_staff_password(
            actor=request.user, user=user, step_up_at=_otp_at(request)
        )
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("accounts:staff")
    return _staff_page(request, scope, reset=(user, password))


class StaffPasswordChangeView(PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = "/"

    def get_success_url(self) -> str:
        return "/portal/" if getattr(self.request.user, "is_patient_user", False) else "/"

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        services.password_changed(user=self.request.user)
        messages.success(self.request, "Your password was changed.")
        return response


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _over_limit(key: str, limit: int) -> bool:
    """Count one request against `key` for an hour; True once `limit` is passed."""
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > limit


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link by e-mail. The answer is the same whether or not the address exists."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _over_limit(
            f"pwreset:ip:{_client_ip(request)}", settings.PASSWORD_RESET_PER_IP_PER_HOUR
        ):
            return render(request, "accounts/password_reset_limited.html", status=429)
        email = form.cleaned_data["email"].strip().lower()
        digest = hashlib.sha256(email.encode()).hexdigest()
        if not _over_limit(f"pwreset:addr:{digest}", settings.PASSWORD_RESET_PER_HOUR):
            services.request_password_reset(email=email, base_url=settings.PUBLIC_BASE_URL)
        return redirect("accounts:password_reset_sent")
    return render(
        request, "accounts/password_reset.html", {"form": form}, status=422 if form.errors else 200
    )


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_reset_sent.html",
        {"hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)},
    )


class ResetConfirmView(PasswordResetConfirmView):
    """The link from the e-mail: set a new password. The link works once (Django's token covers
    the password hash, which the change replaces)."""

    template_name = "accounts/password_reset_confirm.html"
    post_reset_login = False

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        user = form.save()
        services.password_changed(user=user, how="password_reset")
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, "Your password was changed. Sign in with the new one.")
        return redirect("portal:login" if user.is_patient_user else "accounts:login")
