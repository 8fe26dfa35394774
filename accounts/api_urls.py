"""Sign-in endpoints under /api/v1/auth/."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("token/", api.ObtainTokenView.as_view(), name="auth-token"),
    path("logout/", api.LogoutView.as_view(), name="auth-logout"),
    path("logout-all/", api.LogoutAllView.as_view(), name="auth-logout-all"),
]
