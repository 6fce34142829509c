from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

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

    def __init__(self, *args, practice_id: int, **kwargs):  # type: ignore[no-untyped-def]
        from bontrack.accounts.models import User

        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            practice_id=practice_id, is_active=True
        ).order_by("last_name", "first_name", "username")
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.get_full_name() or u.username} ({u.username})"
        )


class StaffRoleForm(StrictForm):
    role = forms.ChoiceField(choices=Role.choices)
    clinic = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All clinics of the practice"
    )  # type: ignore[arg-type]

    def __init__(self, *args, practice_id: int, **kwargs):  # type: ignore[no-untyped-def]
        from bontrack.core.models import Clinic

        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = Clinic.objects.filter(practice_id=practice_id)


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
