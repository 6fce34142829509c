from django.urls import path

from bontrack.inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.stock, name="stock"),
    path("counts/", views.count, name="count"),
    path("alert-level/", views.threshold, name="threshold"),
    path("vials/discard/", views.discard, name="discard_any"),
    path("vials/<int:vial_id>/discard/", views.discard, name="discard"),
]
