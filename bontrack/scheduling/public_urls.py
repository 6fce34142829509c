from django.urls import path

from bontrack.scheduling import public_views as v

app_name = "booking"
urlpatterns = [
    path("book/manage/<str:token>/", v.manage, name="manage"),
    path("book/manage/<str:token>/cancel/", v.cancel, name="cancel"),
    path("book/manage/<str:token>/confirmed/", v.confirmed, name="confirmed"),
    path("book/manage/<str:token>/appointment.ics", v.ics_download, name="ics"),
    path("book/<slug:practice>/<slug:clinic>/", v.clinic_home, name="clinic"),
    path("book/<slug:practice>/<slug:clinic>/<slug:code>/", v.slots, name="slots"),
    path("book/<slug:practice>/<slug:clinic>/<slug:code>/<str:slot>/", v.book, name="book"),
    path("programs/learn/", v.education_index, name="education_index"),
    path("programs/learn/<slug:topic>/", v.education_page, name="education"),
    path(
        "programs/<slug:practice>/<slug:clinic>/<slug:indication>/", v.program_page, name="program"
    ),
    path("portal/appointments/", v.portal_appointments, name="portal_appointments"),
    path("book/offer/<str:token>/", v.waitlist_offer, name="offer"),
    path("visit/<str:video_token>/", v.waiting_room, name="waiting_room"),
    path("visit/<str:video_token>/check/", v.device_check, name="device_check"),
]
