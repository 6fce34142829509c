from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from bontrack.api import api


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every page: send them to the static icon (was a 404)."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and hasattr(request.user, "portal_account"):
        return redirect("portal:home")
    return redirect("patients:list")


handler400 = "bontrack.core.http_errors.bad_request"
handler404 = "bontrack.core.http_errors.not_found"
handler500 = "bontrack.core.http_errors.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("bontrack.accounts.urls")),
    path("patients/", include("bontrack.patients.urls")),
    path("portal/", include("bontrack.portal.urls")),
    path("api/v1/", api.urls),
    path("", include("bontrack.scheduling.routes")),
    path("", include("bontrack.diaries.urls")),
    path("", include("bontrack.treatments.urls")),
    path("", include("bontrack.authorizations.urls")),
    path("inventory/", include("bontrack.inventory.urls")),
    path("claims/", include("bontrack.claims.urls")),
    path("dashboard/", include("bontrack.ops.dashboard.urls")),
]
