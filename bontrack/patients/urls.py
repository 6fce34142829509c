from django.urls import path

from bontrack.patients import merge_views, views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_chart, name="chart"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/add/<slug:kind>/", views.clinical_add, name="clinical_add"),
    path("<int:pk>/flags/<int:flag_id>/resolve/", views.flag_resolve, name="flag_resolve"),
    path("<int:pk>/access-log/", views.access_log, name="access_log"),
    path("<int:pk>/merge/", merge_views.merge_start, name="merge_start"),
    path("merges/<int:pk>/", merge_views.merge_detail, name="merge_detail"),
    path("record-numbers/", merge_views.mrn_format, name="mrn_format"),
]
