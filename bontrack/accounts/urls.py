from django.urls import path

from bontrack.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.logout, name="logout"),
    path("2fa/", views.mfa, name="mfa"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
