from django.urls import path

from bontrack.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.logout, name="logout"),
    path("2fa/", views.mfa, name="mfa"),
]
