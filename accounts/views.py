"""The sign-in pages."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.throttle import client_address, sign_in_throttle


def throttled_page(request: HttpRequest, wait: int) -> HttpResponse:
    minutes = max(1, round(wait / 60))
    response = render(request, "accounts/throttled.html", {"wait_minutes": minutes}, status=429)
    response["Retry-After"] = str(wait)
    return response


class SignInView(auth_views.LoginView):
    """Django's sign-in form, behind the per-address throttle it shares with the
    token endpoint."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (wait := sign_in_throttle().retry_after(client_address(request))) is not None:
            return throttled_page(request, wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        # A password was tried and refused (a form without one tried nothing).
        if form.data.get("username") and form.data.get("password"):
            sign_in_throttle().record_failure(client_address(self.request))
        return super().form_invalid(form)
