from django.urls import path

from bontrack.ops.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("patients/", views.patients, name="patients"),
    path("export/<slug:slug>.csv", views.export, name="export"),
]
