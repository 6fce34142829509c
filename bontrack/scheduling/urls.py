from django.urls import path

from bontrack.scheduling import book_views, desk_views, match_views, setup_views, views

app_name = "scheduling"
urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("new/", book_views.new_appointment, name="new"),
    path("appointments/<int:pk>/check-in/", desk_views.check_in, name="check_in"),
    path("appointments/<int:pk>/next/", desk_views.next_session, name="next_session"),
    path("appointments/<int:pk>/join/", desk_views.join_video, name="join_video"),
    path("appointments/<int:pk>/<slug:action>/", views.appointment_action, name="action"),
    path("waitlist/", desk_views.waitlist, name="waitlist"),
    path("waitlist/<int:pk>/remove/", desk_views.waitlist_remove, name="waitlist_remove"),
    path("recall/", views.recall_list, name="recall"),
    path("recall/contact/", views.recall_contact, name="recall_contact"),
    path("matches/", match_views.matches, name="matches"),
    path("matches/<int:pk>/", match_views.match_decide, name="match"),
    path("feeds/", views.feeds, name="feeds"),
    path("feeds/<str:token>.ics", views.feed, name="feed"),
    path("types/", views.types_admin, name="types"),
    path("types/<int:pk>/", views.type_edit, name="type_edit"),
    path("patients/<int:pk>/panel/", views.patient_panel, name="panel"),
    path("setup/", setup_views.setup, name="setup"),
    path("setup/contact/", setup_views.contact_save, name="setup_contact"),
    path("setup/hours/", setup_views.hours_add, name="setup_hours"),
    path("setup/hours/<int:pk>/remove/", setup_views.hours_remove, name="setup_hours_remove"),
    path("setup/exceptions/", setup_views.exception_add, name="setup_exception"),
    path(
        "setup/exceptions/<int:pk>/remove/",
        setup_views.exception_remove,
        name="setup_exception_remove",
    ),
    path("setup/rooms/", setup_views.room_add, name="setup_room"),
    path("setup/rooms/<int:pk>/toggle/", setup_views.room_toggle, name="setup_room_toggle"),
    path("setup/settings/", setup_views.settings_save, name="setup_settings"),
    path("setup/programs/<int:pk>/", setup_views.program_edit, name="program_edit"),
]
