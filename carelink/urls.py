from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.views_docs import ApiDocsView

api_v1 = [
    path("auth/", include("accounts.api_urls")),
    path("", include("records.urls")),
    path("", include("consent.urls")),
    path("", include("referrals.urls")),
    path("", include("measures.urls")),
    path("", include("capacity.urls")),
    path("", include("inbox.urls")),
    path("", include("portal.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("fhir/R4/", include("fhir_api.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("carelink.web_urls")),
]

# Django's own error pages, JSON under /api/ and /fhir/ (accounts.errors).
handler400 = "accounts.errors.bad_request"
handler403 = "accounts.errors.permission_denied"
handler404 = "accounts.errors.page_not_found"
handler500 = "accounts.errors.server_error"
