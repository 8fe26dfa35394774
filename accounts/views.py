"""The sign-in pages: password, then — for the roles that need it — the second
factor (enrolment on first sign-in), behind the per-address throttle."""

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from accounts import second_factor
from accounts.forms import EnrolForm, SecondFactorForm
from accounts.sign_in import PendingSignIn, complete_sign_in, hold_sign_in, pending_sign_in
from accounts.throttle import client_address, sign_in_throttle
from core.permissions import is_client_account, wall_refusal

WRONG_CODE = "That code is not valid. Type the code the app shows now, or a recovery code."
EXPIRED = "Your sign-in took too long. Sign in again."
PORTAL_HOME = "/portal/"


def throttled_page(request: HttpRequest, wait: int) -> HttpResponse:
    minutes = max(1, round(wait / 60))
    response = render(request, "accounts/throttled.html", {"wait_minutes": minutes}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _throttled(request: HttpRequest) -> HttpResponse | None:
    if (wait := sign_in_throttle().retry_after(client_address(request))) is not None:
        return throttled_page(request, wait)
    return None


def _failed(request: HttpRequest, pending: PendingSignIn) -> None:
    """A wrong second factor is a failed sign-in, for the address throttle and
    for django-axes' per-account lockout alike."""
    sign_in_throttle().record_failure(client_address(request))
    user_login_failed.send(
        sender=__name__,
        credentials={"username": pending.provider.get_username()},
        request=request,
    )


def portal_home_url() -> str:
    """Where a client's account lands: the portal's home page (named
    `portal:home`; its address while the portal's pages are not installed)."""
    try:
        return reverse("portal:home")
    except NoReverseMatch:
        return PORTAL_HOME


class SignInView(auth_views.LoginView):
    """Django's sign-in form, behind the per-address throttle it shares with the
    token endpoint; the roles that need a second factor go on to it. A
    client's account lands in the portal (a `next` on the providers' side of
    the wall would only be a 403)."""

    def get_success_url(self) -> str:
        url = super().get_success_url()
        user = self.request.user
        if is_client_account(user) and wall_refusal(user, urlsplit(url).path) is not None:
            return portal_home_url()
        return url

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _throttled(request) or super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        provider = form.get_user()
        if not second_factor.needs_second_factor(provider):
            return super().form_valid(form)
        hold_sign_in(self.request, provider, self.get_success_url())
        if second_factor.is_enrolled(provider):
            return redirect("sign-in-second-factor")
        return redirect("sign-in-enrol")

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        # A password was tried and refused (a form without one tried nothing).
        if form.data.get("username") and form.data.get("password"):
            sign_in_throttle().record_failure(client_address(self.request))
        return super().form_invalid(form)


def _pending_or_restart(request: HttpRequest) -> PendingSignIn | HttpResponse:
    pending = pending_sign_in(request)
    if pending is None:
        messages.info(request, EXPIRED)
        return redirect("login")
    return pending


@require_http_methods(["GET", "POST"])
def second_factor_step(request: HttpRequest) -> HttpResponse:
    """`/accounts/login/second-factor/`: the code from the app, or a recovery code."""
    pending = _pending_or_restart(request)
    if isinstance(pending, HttpResponse):
        return pending
    if not second_factor.is_enrolled(pending.provider):
        return redirect("sign-in-enrol")
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if throttled := _throttled(request):
            return throttled
        if form.is_valid():
            device = second_factor.verify_second_factor(pending.provider, form.cleaned_data["code"])
            if device is not None:
                complete_sign_in(request, pending, device)
                return redirect(pending.next_url)
            _failed(request, pending)
            form.add_error("code", WRONG_CODE)
    return render(request, "accounts/second_factor.html", {"form": form})


@require_http_methods(["GET", "POST"])
def enrol_step(request: HttpRequest) -> HttpResponse:
    """`/accounts/login/enrol/`: first sign-in of a role that needs a second
    factor — add CareLink to an authenticator app, confirm with a code, keep the
    recovery codes."""
    pending = _pending_or_restart(request)
    if isinstance(pending, HttpResponse):
        return pending
    if second_factor.is_enrolled(pending.provider):
        return redirect("sign-in-second-factor")
    device = second_factor.start_enrolment(pending.provider)
    form = EnrolForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if throttled := _throttled(request):
            return throttled
        if form.is_valid():
            codes = second_factor.confirm_enrolment(device, form.cleaned_data["code"])
            if codes is not None:
                complete_sign_in(request, pending, device)
                return render(
                    request,
                    "accounts/recovery_codes.html",
                    {"codes": codes, "next_url": pending.next_url, "first_time": True},
                )
            _failed(request, pending)
            form.add_error("code", WRONG_CODE)
    context = {
        "form": form,
        "qr_code": second_factor.qr_code_svg(device),
        "secret": second_factor.secret_text(device),
    }
    return render(request, "accounts/enrol.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """`/accounts/recovery-codes/`: a new set of recovery codes (the old stop working)."""
    if not (second_factor.is_enrolled(request.user) and request.user.is_verified()):
        return redirect("dashboard")
    if request.method == "POST":
        codes = second_factor.new_recovery_codes(request.user)
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "next_url": "/"})
    return render(request, "accounts/recovery_codes_new.html")
