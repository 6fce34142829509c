from django.contrib.auth.decorators import login_required
from django.urls import path

from bontrack.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.logout, name="logout"),
    path("2fa/", views.mfa, name="mfa"),
    path(
        "password/", login_required(views.StaffPasswordChangeView.as_view()), name="password_change"
    ),
    path("staff/", views.staff_list, name="staff"),
    path("staff/<int:pk>/roles/", views.staff_add_role, name="staff_add_role"),
    path(
        "staff/<int:pk>/roles/<int:membership_id>/remove/",
        views.staff_remove_role,
        name="staff_remove_role",
    ),
    path("staff/<int:pk>/active/", views.staff_set_active, name="staff_set_active"),
    path("staff/<int:pk>/password/", views.staff_reset_password, name="staff_reset_password"),
    path("step-up/", views.step_up, name="step_up"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_sent, name="password_reset_sent"),
    path(
        "reset/<uidb64>/<token>/", views.ResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
