from django.urls import path

from bontrack.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.PatientLoginView.as_view(), name="login"),
    path("invite/<str:token>/", views.accept_invite, name="invite"),
]
