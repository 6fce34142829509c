"""Everything scheduling serves: staff pages under /schedule/, public pages at the root."""

from django.urls import include, path

urlpatterns = [
    path("schedule/", include("bontrack.scheduling.urls")),
    path("", include("bontrack.scheduling.public_urls")),
]
