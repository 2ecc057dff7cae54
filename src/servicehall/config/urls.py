"""The URL map: pages per app, the JSON API under /api/, language switching."""

from django.urls import include, path
from django.views.i18n import set_language

from servicehall.api.api import api

# The API first: it takes the most requests (ratings, calls), and Django tries the patterns in order.
urlpatterns = [
    path("api/", api.urls),
    path("", include("servicehall.web.urls")),
    path("accounts/", include("servicehall.accounts.urls")),
    path("sites/", include("servicehall.sites.urls")),
    path("audit/", include("servicehall.audit.urls")),
    path("calendar/", include("servicehall.workdays.urls")),
    path("catalog/", include("servicehall.catalog.urls")),
    path("guide/", include("servicehall.catalog.public_urls")),
    path("conduct/", include("servicehall.conduct.urls")),
    path("hall/", include("servicehall.queueing.urls")),
    path("cases/", include("servicehall.cases.urls")),
    path("duty/", include("servicehall.duty.urls")),
    path("supervision/", include("servicehall.supervision.urls")),
    path("feedback/", include("servicehall.feedback.urls")),
    path("assessment/", include("servicehall.assessment.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
]

handler400 = "servicehall.web.views.bad_request"
handler403 = "servicehall.web.views.permission_denied"
handler404 = "servicehall.web.views.page_not_found"
handler500 = "servicehall.web.views.server_error"
