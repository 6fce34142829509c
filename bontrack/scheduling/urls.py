from django.urls import path

from bontrack.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("appointments/<int:pk>/<slug:action>/", views.appointment_action, name="action"),
    path("recall/", views.recall_list, name="recall"),
    path("feeds/", views.feeds, name="feeds"),
    path("feeds/<str:token>.ics", views.feed, name="feed"),
    path("types/", views.types_admin, name="types"),
    path("types/<int:pk>/", views.type_edit, name="type_edit"),
    path("patients/<int:pk>/panel/", views.patient_panel, name="panel"),
]
