from django.urls import path

from bontrack.authorizations import packet_views, views

app_name = "authorizations"
urlpatterns = [
    path("authorizations/", views.authorization_list, name="list"),
    path("authorizations/export.csv", views.export, name="export"),
    path("patients/<int:pk>/authorizations/panel/", views.panel, name="panel"),
    path("patients/<int:pk>/authorizations/new/", views.new, name="new"),
    path("authorizations/<int:auth_id>/edit/", views.edit, name="edit"),
    path("authorizations/<int:auth_id>/documents/new/", views.upload, name="upload"),
    path("authorizations/documents/<int:doc_id>/", views.document, name="document"),
    path("authorizations/<int:auth_id>/packet/<slug:kind>/", packet_views.packet, name="packet"),
    path(
        "authorizations/<int:auth_id>/packet/<slug:kind>.pdf",
        packet_views.packet_pdf,
        name="packet_pdf",
    ),
    path(
        "authorizations/<int:auth_id>/packet/<slug:kind>/attach/",
        packet_views.packet_attach,
        name="packet_attach",
    ),
]
