"""The admin site of CareLink: signed in through the same pages as everyone,
second factor included."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.second_factor import needs_second_factor


class CareLinkAdminSite(admin.AdminSite):
    site_header = "CareLink administration"
    site_title = "CareLink admin"

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, and — where the role needs one — verified by a second factor in
        this session (a session that was not is sent to sign in again)."""
        if not super().has_permission(request):
            return False
        return not needs_second_factor(request.user) or request.user.is_verified()

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The sign-in pages, not the admin's own form: one way in, one throttle,
        one second factor. Someone signed in who is not a system admin is told so."""
        user = request.user
        if user.is_authenticated and not (user.is_active and user.is_staff):
            raise PermissionDenied("The admin is for system admins.")
        next_url = request.GET.get("next") or request.get_full_path()
        return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}")
