from django.urls import path

from bontrack.inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.stock, name="stock"),
    path("vials/discard/", views.discard, name="discard_any"),
    path("vials/<int:vial_id>/discard/", views.discard, name="discard"),
]
