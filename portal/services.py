"""Writes of the client portal (docs/portal.md): the invitation and the
account it opens, the client's own consent decisions, the survey and the
email notices.

Each write is one transaction with its audit row. The client's writes are
access events by the client (`core.audit.record_access` sees a client's
account and records `by_client`, no organization). Every input rule is here:
the API and the pages only translate.
"""

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.throttle import AddressThrottle
from consent import services as consent_services
from consent.models import ConsentDirective, Effect
from consent.selectors import categories_shared_with, denies_covering
from core.audit import Action, record_access
from core.errors import (
    Conflict,
    InputErrors,
    InvalidInput,
    NotAllowed,
    TooManyAttempts,
    conflict_on_duplicate,
    require_text,
)
from core.permissions import may_issue_portal_invite
from core.vocabulary import NAME_LIMIT, Category, Sector
from portal.models import (
    SCALE_HIGH,
    SCALE_LOW,
    ExperienceAnswer,
    NoticeChoice,
    PortalInvite,
)
from portal.selectors import SURVEY_STATUSES, portal_client
from records.models import Client, Organization, Provider
from records.services import check_new_account, update_demographics
from referrals.models import Referral

INVITE_HOURS = 72
# Codes are typed from a printed handout: no 0/O, 1/I/L to misread.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 4  # "ABCD-EFGH-JKMN": about 59 bits
BIRTH_DATE_MISSES_VOID = 5

# One message for a wrong, used, voided or expired code and for a birth date
# that does not match: the answer must not tell a guesser which was wrong.
ACTIVATION_REFUSED = (
    "This code and birth date do not open an account. Check them, or ask your care team "
    "for a new code."
)
ACTIVATION_THROTTLED = "Too many failed activations from this address. Try again later."
ALREADY_HAS_ACCOUNT = "This client has a portal account already."
NOT_YOURS = "This is not one of your own."


def activation_throttle() -> AddressThrottle:
    """More than CARELINK_PORTAL_ACTIVATION_FAILURES_PER_ADDRESS failed
    activations from one address within the window: every further attempt from
    it waits (accounts.throttle, its own scope beside the sign-in's)."""
    return AddressThrottle(
        scope="portal-activation",
        limit=settings.CARELINK_PORTAL_ACTIVATION_FAILURES_PER_ADDRESS,
        window=timedelta(minutes=settings.CARELINK_PORTAL_ACTIVATION_WINDOW_MINUTES),
    )


def check_activation_throttle(address: str) -> None:
    """429 while the address is over its limit of failed activations."""
    if (wait := activation_throttle().retry_after(address)) is not None:
        raise TooManyAttempts(wait, ACTIVATION_THROTTLED)


def normalize_code(code: str) -> str:
    """What the client typed, as the code was drawn: case, spaces and dashes aside."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def hash_code(code: str) -> str:
    """The stored form of a code. A code carries about 59 random bits and lives
    72 hours, so one unsalted SHA-256 is enough: no table of hashes can be
    searched through that space in that time."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def _draw_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


# --- the invitation and the account --------------------------------------------------------


@transaction.atomic
def issue_portal_invite(*, provider: Provider, client: Client) -> tuple[PortalInvite, str]:
    """A new one-time code for the client (the caller resolved the client
    through the gate). Any code still open for the client is voided. Returns
    the invite and the plain code, which is never stored and never shown again."""
    if not may_issue_portal_invite(provider):
        raise NotAllowed(
            "Organization admins do not hand out portal invitations: a provider who sees the "
            "client, or a privacy officer, does."
        )
    now = timezone.now()
    PortalInvite.objects.filter(client=client, used_at__isnull=True, voided_at__isnull=True).update(
        voided_at=now
    )
    code = _draw_code()
    with conflict_on_duplicate("Another invitation for this client was just issued."):
        invite = PortalInvite.objects.create(
            client=client,
            code_hash=hash_code(code),
            issued_by=provider,
            issued_at=now,
            expires_at=now + timedelta(hours=INVITE_HOURS),
        )
    record_access(provider, client, Action.PORTAL_INVITE)
    return invite, code


def _refuse(address: str) -> InvalidInput:
    activation_throttle().record_failure(address)
    return InvalidInput({"non_field_errors": [ACTIVATION_REFUSED]})


def _count_birth_date_miss(invite: PortalInvite) -> None:
    """Kept whatever the request answers: the fifth miss voids the code."""
    with transaction.atomic():
        PortalInvite.objects.filter(pk=invite.pk).update(
            birth_date_misses=F("birth_date_misses") + 1
        )
        PortalInvite.objects.filter(
            pk=invite.pk, birth_date_misses__gte=BIRTH_DATE_MISSES_VOID, voided_at__isnull=True
        ).update(voided_at=timezone.now())


@transaction.atomic
def _open_account(
    invite: PortalInvite, *, username: str, password: str, full_name: str
) -> Provider | None:
    """The account, the code used and the audit row, together; None when the
    code is no longer live once locked (of two activations racing with one
    code, one opens the account)."""
    invite = PortalInvite.objects.select_for_update().select_related("client").get(pk=invite.pk)
    if not invite.is_live():
        return None
    client = invite.client
    if Provider.objects.filter(client=client).exists():
        raise Conflict(ALREADY_HAS_ACCOUNT)
    account = Provider(username=username, full_name=full_name, client=client)
    account.set_password(password)
    with conflict_on_duplicate(ALREADY_HAS_ACCOUNT):
        account.save()
    PortalInvite.objects.filter(pk=invite.pk).update(used_at=timezone.now(), account=account)
    record_access(account, client, Action.PORTAL_ACTIVATE)
    return account


def _check_activation_input(code: object, birth_date: object, username: object) -> None:
    errors = InputErrors()
    errors.check("code", isinstance(code, str) and bool(code.strip()), "Give the code.")
    errors.check("birth_date", isinstance(birth_date, date), "Give the birth date (YYYY-MM-DD).")
    errors.check(
        "username", isinstance(username, str) and bool(username.strip()), "Choose a username."
    )
    errors.raise_if_any()


def activate_portal_account(
    *, code: str, birth_date: date, username: str, password: str, address: str
) -> Provider:
    """Open the client's account with the code they were handed and their birth
    date (docs/portal.md, "Activation").

    In order: the address's guessing limit (429); the code and the birth date
    (one and the same 400 for every way they can be wrong; a birth date that
    does not match counts against the code, five void it); the username and
    the project's password rules (400 by field); one account per client (409).

    Call it outside any transaction of your own: a refusal writes what it
    counts (the address's failure, the code's miss) before raising, and a
    transaction left by that exception would take them back.
    """
    check_activation_throttle(address)
    _check_activation_input(code, birth_date, username)
    if isinstance(birth_date, datetime):
        birth_date = birth_date.date()
    invite = PortalInvite.objects.select_related("client").filter(code_hash=hash_code(code)).first()
    if invite is None or not invite.is_live():
        raise _refuse(address)
    if invite.client.birth_date != birth_date:
        _count_birth_date_miss(invite)
        raise _refuse(address)
    client = invite.client
    username = require_text("username", username, NAME_LIMIT)
    full_name = f"{client.given_name} {client.family_name}"
    check_new_account(username=username, password=password or "", full_name=full_name)
    account = _open_account(invite, username=username, password=password, full_name=full_name)
    if account is None:  # the code was used by a racing activation meanwhile
        raise _refuse(address)
    return account


# --- the client's own consent decisions --------------------------------------------------


def check_client_directive(
    *,
    effect: object,
    categories: object,
    grantee_organization: object = None,
    grantee_sector: object = None,
    expires_at: object = None,
) -> None:
    """A directive the client records: a known effect, at least one known
    category, exactly one grantee, an end (if any) in the future."""
    errors = InputErrors()
    errors.check("effect", effect in Effect.values, "Choose permit or deny.")
    valid_categories = (
        isinstance(categories, list | tuple)
        and bool(categories)
        and all(category in Category.values for category in categories)
    )
    errors.check("categories", valid_categories, "Choose at least one kind of information.")
    if grantee_organization is not None and not isinstance(grantee_organization, Organization):
        errors.add("grantee_organization", "No such organization.")
    if grantee_sector and grantee_sector not in Sector.values:
        errors.add("grantee_sector", "No such sector.")
    errors.check_rule(
        consent_services.check_one_grantee,
        grantee_organization=grantee_organization,
        grantee_sector=grantee_sector,
    )
    if expires_at is not None:
        errors.check(
            "expires_at",
            isinstance(expires_at, datetime) and expires_at > timezone.now(),
            "The end must be in the future.",
        )
    errors.raise_if_any()


def record_consent_by_client(
    *,
    account: Provider,
    effect: str,
    categories: list[str],
    grantee_organization: Organization | None = None,
    grantee_sector: str | None = None,
    expires_at: datetime | None = None,
) -> ConsentDirective:
    """The client records their own decision: an ordinary directive, read by
    the one consent engine like any other (so it bites on the next request
    everywhere), recorded by the client's own account and audited by them."""
    client = portal_client(account)
    check_client_directive(
        effect=effect,
        categories=categories,
        grantee_organization=grantee_organization,
        grantee_sector=grantee_sector,
        expires_at=expires_at,
    )
    return consent_services.record_consent(
        provider=account,
        client=client,
        effect=effect,
        categories=list(categories),
        grantee_organization=grantee_organization,
        grantee_sector=grantee_sector or "",
        expires_at=expires_at,
    )


def revoke_consent_by_client(*, account: Provider, directive: ConsentDirective) -> ConsentDirective:
    """The client revokes one of their directives — theirs or one recorded
    with a provider alike; a second revoke is a 409."""
    client = portal_client(account)
    if directive.client_id != client.pk:
        raise NotAllowed(NOT_YOURS)
    return consent_services.revoke_consent(provider=account, directive=directive)


@transaction.atomic
def change_sharing(
    *, account: Provider, organization: Organization, category: str, share: bool
) -> list[ConsentDirective]:
    """One kind of information for one organization, the way the client
    thinks of it: "let them see it" or "stop letting them see it". One
    transaction, all or nothing; returns the directives it recorded or revoked.

    - Stop: a deny for that organization and category (deny overrides any
      permit, whoever recorded it, at once).
    - Let: take back the client's active denies that keep the category from
      the organization (or its sector), then, where no permit covers it yet, a
      permit for that organization.
    """
    client = portal_client(account)
    errors = InputErrors()
    errors.check("category", category in Category.values, "Choose a kind of information.")
    errors.check("organization", isinstance(organization, Organization), "Choose an organization.")
    errors.raise_if_any()
    if not share:
        deny = record_consent_by_client(
            account=account,
            effect=Effect.DENY,
            categories=[category],
            grantee_organization=organization,
        )
        return [deny]
    changed = [
        revoke_consent_by_client(account=account, directive=directive)
        for directive in denies_covering(client, organization, category)
    ]
    if category not in categories_shared_with(client, [organization])[organization.pk]:
        changed.append(
            record_consent_by_client(
                account=account,
                effect=Effect.PERMIT,
                categories=[category],
                grantee_organization=organization,
            )
        )
    return changed


# --- how did it go? ------------------------------------------------------------------------


def _on_scale(value: object) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and SCALE_LOW <= value <= SCALE_HIGH
    )


@transaction.atomic
def record_experience(
    *,
    account: Provider,
    referral: Referral,
    repeated_story: bool,
    kept_informed: int,
    overall: int,
) -> ExperienceAnswer:
    """The client's answer about one referral: once, and only once it is
    scheduled or completed."""
    client = portal_client(account)
    if referral.client_id != client.pk:
        raise NotAllowed(NOT_YOURS)
    errors = InputErrors()
    errors.check("repeated_story", isinstance(repeated_story, bool), "Answer yes or no.")
    scale = f"Give a whole number from {SCALE_LOW} to {SCALE_HIGH}."
    errors.check("kept_informed", _on_scale(kept_informed), scale)
    errors.check("overall", _on_scale(overall), scale)
    errors.raise_if_any()
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status not in SURVEY_STATUSES:
        raise Conflict("You can say how it went once the referral has an appointment.")
    if ExperienceAnswer.objects.filter(referral=referral).exists():
        raise Conflict("You have already said how this referral went.")
    with conflict_on_duplicate("You have already said how this referral went."):
        answer = ExperienceAnswer.objects.create(
            referral=referral,
            repeated_story=repeated_story,
            kept_informed=kept_informed,
            overall=overall,
        )
    record_access(account, client, Action.EXPERIENCE_RECORD)
    return answer


# --- email notices -------------------------------------------------------------------------


@transaction.atomic
def set_email_notices(*, account: Provider, enabled: bool) -> NoticeChoice:
    """Email me when a referral is scheduled or declined: yes or no. Yes needs
    an email address on the record."""
    client = portal_client(account)
    if not isinstance(enabled, bool):
        raise InvalidInput({"email_notices": "Answer true or false."})
    if enabled and not client.email:
        raise InvalidInput({"email_notices": "Give your email address first."})
    choice, _ = NoticeChoice.objects.update_or_create(
        client=client, defaults={"email_notices": enabled, "changed_at": timezone.now()}
    )
    record_access(account, client, Action.PORTAL_NOTICES)
    return choice


@transaction.atomic
def set_portal_email(*, account: Provider, email: str) -> Client:
    """The client's own email address (their record's contact detail, which
    their care team sees too). Blank removes it, and with it the notices."""
    client = portal_client(account)
    email = (email or "").strip() if isinstance(email, str) else None
    if email is None:
        raise InvalidInput({"email": "Give an email address."})
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput({"email": "Enter a valid email address."}) from None
        if len(email) > 254:
            raise InvalidInput({"email": "Ensure this field has no more than 254 characters."})
    client = update_demographics(actor=account, client=client, email=email)
    if not email:
        NoticeChoice.objects.filter(client=client).update(
            email_notices=False, changed_at=timezone.now()
        )
    return client


_UNCHANGED: Any = object()


@transaction.atomic
def change_contact(
    *, account: Provider, email: Any = _UNCHANGED, email_notices: Any = _UNCHANGED
) -> Client:
    """The portal's "me": the email address and the notices choice together,
    all or nothing (emails on with the address removed in the same change is
    a 400 that changes neither)."""
    client = portal_client(account)
    if email is not _UNCHANGED:
        client = set_portal_email(account=account, email=email)
    if email_notices is not _UNCHANGED:
        set_email_notices(account=account, enabled=email_notices)
    return client


def stop_email_notices(client: Client | Any) -> bool:
    """The one-click opt-out (no sign-in: the signed link is the credential).
    Returns whether anything changed."""
    return bool(
        NoticeChoice.objects.filter(client=client, email_notices=True).update(
            email_notices=False, changed_at=timezone.now()
        )
    )
