"""BoNTrack's URLs plus /bench/bare/<id>: one patient row as JSON, no authentication, no audit.

The reference of bench_reads: the same server, middleware and database as the API, doing the
least a Django view can do with a patient row."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from bontrack.patients.models import Patient
from bontrack.urls import urlpatterns as bontrack_urls


def bare(request: HttpRequest, pk: int) -> JsonResponse:
    row = (
        Patient.objects.filter(pk=pk)
        .values("id", "mrn", "first_name", "last_name", "date_of_birth")
        .first()
    )
    return JsonResponse(row or {}, status=200 if row else 404)


urlpatterns = [path("bench/bare/<int:pk>", bare), *bontrack_urls]
