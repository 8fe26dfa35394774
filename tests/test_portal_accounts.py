"""Client accounts: the invitation, activation and its guessing limits, and
signing in (docs/portal.md, "Accounts")."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from core.audit import Action, Channel
from core.errors import Conflict, InvalidInput, NotAllowed, TooManyAttempts
from core.models import AccessEvent
from core.permissions import is_client_account, is_provider
from portal import services
from portal.models import PortalInvite
from portal.selectors import has_portal_account
from records.models import Provider

PASSWORD = "a long walk by the lake"
ADDRESS = "203.0.113.7"


def activate(code, birth_date, username="ana_s", password=PASSWORD, address=ADDRESS):
    return services.activate_portal_account(
        code=code, birth_date=birth_date, username=username, password=password, address=address
    )


def test_an_invite_activates_one_account_by_the_client(ana, dr_lee):
    invite, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    assert len(code) == 14 and code.count("-") == 2
    assert invite.code_hash != code and code not in invite.code_hash
    assert invite.expires_at - invite.issued_at == timedelta(hours=72)
    assert not has_portal_account(ana)

    account = activate(code.lower().replace("-", " "), ana.birth_date)

    assert is_client_account(account) and not is_provider(account)
    assert account.client == ana and account.organization is None and account.role == ""
    assert account.full_name == "Ana Silva"
    assert has_portal_account(ana)
    event = AccessEvent.objects.filter(client=ana, action=Action.PORTAL_ACTIVATE).get()
    assert event.actor == account and event.by_client and event.organization is None
    invite.refresh_from_db()
    assert invite.used_at is not None and invite.account == account
    issued = AccessEvent.objects.get(client=ana, action=Action.PORTAL_INVITE)
    assert issued.actor == dr_lee and issued.channel == Channel.SYSTEM


def test_wrong_used_expired_code_and_wrong_birth_date_answer_alike(ana, dr_lee):
    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    messages = []
    for attempt in [
        lambda: activate("ABCD-EFGH-JKMN", ana.birth_date),
        lambda: activate(code, date(1950, 1, 1)),
    ]:
        with pytest.raises(InvalidInput) as refused:
            attempt()
        messages.append(refused.value.fields)
    activate(code, ana.birth_date)
    with pytest.raises(InvalidInput) as used:
        activate(code, ana.birth_date, username="other")
    messages.append(used.value.fields)
    assert all(m == messages[0] for m in messages), messages
    assert list(messages[0]) == ["non_field_errors"]


def test_expired_code(ana, dr_lee):
    invite, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    PortalInvite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
    with pytest.raises(InvalidInput):
        activate(code, ana.birth_date)
    assert not has_portal_account(ana)


def test_a_new_invite_voids_the_old(ana, dr_lee):
    _, old = services.issue_portal_invite(provider=dr_lee, client=ana)
    _, new = services.issue_portal_invite(provider=dr_lee, client=ana)
    with pytest.raises(InvalidInput):
        activate(old, ana.birth_date)
    assert activate(new, ana.birth_date).client == ana


def test_five_wrong_birth_dates_void_the_code(ana, dr_lee):
    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    for _ in range(4):
        with pytest.raises(InvalidInput):
            activate(code, date(1950, 1, 1))
    assert activate(code, ana.birth_date).client == ana  # four misses leave it live

    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    for _ in range(5):
        with pytest.raises(InvalidInput):
            activate(code, date(1950, 1, 1), address="198.51.100.1")
    with pytest.raises(InvalidInput):  # voided: even the right birth date is refused
        activate(code, ana.birth_date, username="ana_two", address="198.51.100.1")


def test_a_second_account_is_a_conflict(ana, dr_lee):
    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    activate(code, ana.birth_date)
    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    with pytest.raises(Conflict):
        activate(code, ana.birth_date, username="ana_again")
    assert Provider.objects.filter(client=ana).count() == 1


def test_password_rules_and_username(ana, dr_lee):
    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    with pytest.raises(InvalidInput) as weak:
        activate(code, ana.birth_date, password="12345678")
    assert "password" in weak.value.fields
    with pytest.raises(InvalidInput) as taken:
        activate(code, ana.birth_date, username="DR_LEE")
    assert "username" in taken.value.fields
    assert activate(code, ana.birth_date).client == ana


def test_org_admins_do_not_issue_invites(ana, family_practice):
    from tests.factories import ProviderFactory

    admin = ProviderFactory(organization=family_practice, role="org_admin")
    with pytest.raises(NotAllowed):
        services.issue_portal_invite(provider=admin, client=ana)


def test_activation_throttle_per_address(ana, dr_lee, settings):
    settings.CARELINK_PORTAL_ACTIVATION_FAILURES_PER_ADDRESS = 3
    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    for _ in range(3):
        with pytest.raises(InvalidInput):
            activate("WRONG-CODE-XXXX", ana.birth_date)
    with pytest.raises(TooManyAttempts) as throttled:
        activate(code, ana.birth_date)  # right or wrong
    assert 1 <= throttled.value.retry_after <= 600
    assert activate(code, ana.birth_date, address="192.0.2.1").client == ana


def test_the_web_sign_in_lands_a_client_in_the_portal(ana, dr_lee, client):
    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    activate(code, ana.birth_date)
    signed_in = client.post("/accounts/login/", {"username": "ana_s", "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/portal/"
    client.logout()
    onward = client.post(
        "/accounts/login/?next=/clients/", {"username": "ana_s", "password": PASSWORD}
    )
    assert onward["Location"] == "/portal/"  # a provider page would only be a 403
    assert client.get("/clients/").status_code == 403
    assert client.get("/").status_code == 403


def test_a_provider_still_lands_where_they_asked(dr_lee, client):
    dr_lee.set_password(PASSWORD)
    dr_lee.save()
    signed_in = client.post(
        "/accounts/login/?next=/clients/", {"username": "dr_lee", "password": PASSWORD}
    )
    assert signed_in["Location"] == "/clients/"


@pytest.mark.django_db(transaction=True)
def test_two_activations_racing_with_one_code_open_one_account(ana, dr_lee):
    """Two real transactions with the same live code: the code's row lock lets
    one open the account; the other finds the code used (the same 400)."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a file-based or PostgreSQL test database")
    _, code = services.issue_portal_invite(provider=dr_lee, client=ana)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def race(username: str) -> None:
        try:
            barrier.wait(timeout=10)
            activate(code, ana.birth_date, username=username)
            outcomes.append("opened")
        except (InvalidInput, Conflict):
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=(name,)) for name in ("ana_a", "ana_b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["opened", "refused"]
    assert Provider.objects.filter(client=ana).count() == 1
