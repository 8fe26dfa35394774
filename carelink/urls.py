from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken

api_v1 = [
    path("auth/token/", ObtainAuthToken.as_view(), name="auth-token"),
    path("", include("records.urls")),
    path("", include("consent.urls")),
    path("", include("referrals.urls")),
    path("", include("capacity.urls")),
    path("", include("inbox.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("carelink.web_urls")),
]
