from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxValueValidator

from bontrack.accounts.roles import Role
from bontrack.core.forms import StrictForm, StrictInputMixin


class StaffLoginForm(StrictInputMixin, AuthenticationForm):
    def confirm_login_allowed(self, user):  # type: ignore[no-untyped-def]
        super().confirm_login_allowed(user)
        if not user.is_staff_member:
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class PatientLoginForm(StrictInputMixin, AuthenticationForm):
    def confirm_login_allowed(self, user):  # type: ignore[no-untyped-def]
        super().confirm_login_allowed(user)
        if not hasattr(user, "portal_account"):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class TotpForm(StrictForm):
    token = forms.CharField(
        label="Six-digit code",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("Enter the six digits shown in your authenticator app.")
        return token


class ApiTokenForm(StrictForm):
    user = forms.ModelChoiceField(queryset=None, label="Staff account", empty_label=None)  # type: ignore[arg-type]
    name = forms.CharField(
        max_length=100,
        label="Integration name",
        help_text="What will use this token, e.g. 'EHR sync'.",
    )
    scope = forms.ChoiceField(
        label="Access",
        choices=[("read", "Read only"), ("write", "Read and write")],
        initial="read",
        help_text="A read-only token cannot change anything.",
    )
    days = forms.IntegerField(label="Valid for (days)", min_value=1)

    def __init__(self, *args, staff, **kwargs):  # type: ignore[no-untyped-def]
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff.filter(is_active=True).order_by(
            "last_name", "first_name", "username"
        )
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.get_full_name() or u.username} ({u.username})"
        )
        days = self.fields["days"]
        days.max_value = settings.API_TOKEN_MAX_DAYS
        days.initial = settings.API_TOKEN_MAX_DAYS
        days.help_text = f"At most {settings.API_TOKEN_MAX_DAYS} days."
        days.validators.append(MaxValueValidator(settings.API_TOKEN_MAX_DAYS))
        days.widget.attrs["max"] = settings.API_TOKEN_MAX_DAYS


class StaffRoleForm(StrictForm):
    role = forms.ChoiceField(choices=Role.choices)
    clinic = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All clinics of the practice"
    )  # type: ignore[arg-type]

    def __init__(self, *args, scope, **kwargs):  # type: ignore[no-untyped-def]
        from bontrack.core.models import Clinic

        super().__init__(*args, **kwargs)
        clinics = Clinic.objects.filter(practice_id=scope.practice_id)
        if not scope.all_clinics:
            clinics = clinics.filter(pk__in=scope.clinic_ids)
            self.fields["clinic"].required = True
            self.fields["clinic"].empty_label = None
        self.fields["clinic"].queryset = clinics


class StaffCreateForm(StaffRoleForm):
    username = forms.RegexField(
        regex=r"^[a-zA-Z0-9._-]{3,40}$",
        max_length=40,
        error_messages={"invalid": "3 to 40 letters, digits, dots, dashes or underscores."},
    )
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField()

    field_order = ["username", "first_name", "last_name", "email", "role", "clinic"]


class PasswordResetRequestForm(StrictForm):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
