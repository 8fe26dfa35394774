"""Password spraying (issue 14, finding 8): once 30 sign-in attempts from one
address — token endpoint and sign-in form together — have failed within 10
minutes, every further attempt from it, right or wrong, is a 429 with
Retry-After. Successful sign-ins never count; other addresses are unaffected;
django-axes' per-(username, address) lockout stays as it was."""

from datetime import timedelta

import pytest
from django.test import Client as WebClient
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import ProviderFactory

PASSWORD = "correct horse battery staple"
SPRAYER = "203.0.113.9"
NEIGHBOUR = "198.51.100.7"


def api_from(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def token_attempt(address: str, username: str, password: str):
    return api_from(address).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def form_attempt(address: str, username: str, password: str):
    return WebClient(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


@pytest.fixture
def many_providers(family_practice):
    return [
        ProviderFactory(username=f"sprayed{n}", organization=family_practice) for n in range(31)
    ]


def spray(count: int, address: str = SPRAYER) -> None:
    """Failed attempts at many usernames (so no per-account lockout is reached),
    half through the API, half through the sign-in form."""
    for n in range(count):
        attempt = token_attempt if n % 2 else form_attempt
        response = attempt(address, f"sprayed{n}", "Winter2026!")
        assert response.status_code in (200, 400), response.status_code


def test_thirty_failures_from_one_address_block_it_right_or_wrong(dr_lee, many_providers):
    spray(29)
    assert token_attempt(SPRAYER, "dr_lee", PASSWORD).status_code == 200  # 29: still open
    spray(1)
    wrong = token_attempt(SPRAYER, "sprayed3", "Winter2026!")
    right = token_attempt(SPRAYER, "dr_lee", PASSWORD)
    for response in (wrong, right):
        assert response.status_code == 429
        assert response["Content-Type"].startswith("application/json")
        assert "detail" in response.json() and "token" not in response.json()
        assert 0 < int(response["Retry-After"]) <= 600
    page = form_attempt(SPRAYER, "dr_lee", PASSWORD)
    assert page.status_code == 429
    assert page["Content-Type"].startswith("text/html")
    assert 0 < int(page["Retry-After"]) <= 600
    assert "Too many failed sign-ins" in page.content.decode()
    assert "_auth_user_id" not in WebClient(REMOTE_ADDR=SPRAYER).session


def test_other_addresses_are_unaffected(dr_lee, many_providers):
    spray(30)
    assert token_attempt(NEIGHBOUR, "dr_lee", PASSWORD).status_code == 200
    assert form_attempt(NEIGHBOUR, "dr_lee", PASSWORD).status_code == 302


def test_successful_sign_ins_never_count(dr_lee, many_providers):
    for _ in range(40):
        assert token_attempt(SPRAYER, "dr_lee", PASSWORD).status_code == 200
    spray(29)
    assert token_attempt(SPRAYER, "dr_lee", PASSWORD).status_code == 200


def test_the_block_lifts_as_failures_leave_the_ten_minute_window(dr_lee, many_providers):
    from accounts.models import FailedAttempt

    spray(30)
    assert token_attempt(SPRAYER, "dr_lee", PASSWORD).status_code == 429
    oldest = FailedAttempt.objects.order_by("at").first()
    FailedAttempt.objects.filter(pk=oldest.pk).update(
        at=timezone.now() - timedelta(minutes=10, seconds=1)
    )
    assert token_attempt(SPRAYER, "dr_lee", PASSWORD).status_code == 200


def test_retry_after_is_when_the_thirtieth_failure_leaves_the_window(dr_lee, many_providers):
    from accounts.models import FailedAttempt

    spray(30)
    # The oldest of the thirty was 7 minutes ago: three minutes to wait.
    oldest = FailedAttempt.objects.order_by("at").first()
    FailedAttempt.objects.filter(pk=oldest.pk).update(at=timezone.now() - timedelta(minutes=7))
    response = token_attempt(SPRAYER, "dr_lee", PASSWORD)
    assert response.status_code == 429
    assert 170 <= int(response["Retry-After"]) <= 180


def test_the_per_account_lockout_is_unchanged(dr_lee, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        token_attempt(SPRAYER, "dr_lee", "wrong")
    assert token_attempt(SPRAYER, "dr_lee", PASSWORD).status_code == 429
    # The same account from another address is not locked: the lockout is per
    # (username, address), and the address throttle has seen only 3 failures.
    assert token_attempt(NEIGHBOUR, "dr_lee", PASSWORD).status_code == 200


def test_the_throttle_is_reusable_for_other_endpoints(db):
    from accounts.throttle import AddressThrottle

    activation = AddressThrottle(scope="portal-activation", limit=2, window=timedelta(minutes=1))
    assert activation.retry_after(SPRAYER) is None
    activation.record_failure(SPRAYER)
    activation.record_failure(SPRAYER)
    assert 0 < activation.retry_after(SPRAYER) <= 60
    assert activation.retry_after(NEIGHBOUR) is None
    # Scopes are separate: the sign-in throttle has seen nothing from SPRAYER.
    from accounts.throttle import sign_in_throttle

    assert sign_in_throttle().retry_after(SPRAYER) is None


def test_failures_that_left_the_window_are_forgotten(db):
    from accounts.models import FailedAttempt
    from accounts.throttle import sign_in_throttle

    throttle = sign_in_throttle()
    throttle.record_failure(NEIGHBOUR)
    FailedAttempt.objects.update(at=timezone.now() - timedelta(minutes=11))
    throttle.record_failure(SPRAYER)
    assert list(FailedAttempt.objects.values_list("address", flat=True)) == [SPRAYER]
