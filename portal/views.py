"""The portal's pages, for the client themself (docs/portal-pages.md), and the
one provider page of the portal: the printable invitation handout.

Plain words first: a page says what happened to the person's record in a
sentence, never in the product's vocabulary. Every read and write goes through
the portal's selectors and services; what they refuse comes back as a page
with the reason (`core.errors`), never decided here a second time. The
client's own reads are not access events (docs/portal.md); their writes are,
written by the services.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.pages import client_page
from accounts.throttle import client_address
from consent.models import ConsentDirective, Effect
from consent.selectors import categories_shared_with
from core.errors import Conflict, InvalidInput
from core.pages import add_errors, login_required
from core.permissions import is_client_account
from core.vocabulary import Category, Sector
from portal import selectors, services
from portal.forms import (
    KIND_NAMES,
    ActivationForm,
    EmailAddressForm,
    EmailNoticesForm,
    ExperienceForm,
    SharingChangeForm,
)
from records.models import Client, Organization

ACCESS_LOG_PAGE_SIZE = 50
View = Callable[..., HttpResponse]


def portal_page(view: View) -> View:
    """Signed in with a client's own account; the view gets that client.

    A provider's account reaches no portal page (docs/portal.md, "The wall")."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_client_account(request.user):
            raise PermissionDenied("The portal is for a client's own account.")
        return view(request, selectors.portal_client(request.user), *args, **kwargs)

    return login_required(wrapped)


# --- words ---------------------------------------------------------------------------


def when(moment: datetime) -> str:
    """ "2 Dec, 10:14" — with the year when it is not this year."""
    local = timezone.localtime(moment)
    if local.year == timezone.localtime().year:
        return dateformat.format(local, "j M, H:i")
    return dateformat.format(local, "j M Y, H:i")


def kinds_in_words(kinds: Iterable[str]) -> str:
    names = [KIND_NAMES.get(kind, kind).lower() for kind in Category.values if kind in set(kinds)]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def grantee_in_words(directive: ConsentDirective) -> str:
    if directive.grantee_organization_id:
        return directive.grantee_organization.name
    return f"every {Sector(directive.grantee_sector).label.lower()} service"


# What a provider did, as the end of a sentence that starts with who they are.
PROVIDER_DID = {
    "client.list": "saw your name in a list",
    "client.search": "found you in a search",
    "client.read": "read your record",
    "client.create": "started your record",
    "client.match": "found your record when signing you up",
    "joined_by_matching": "joined your care team when signing you up",
    "client.update": "changed your contact details",
    "care_team.read": "looked at your care team",
    "care_team.add": "added someone to your care team",
    "care_team.remove": "took someone off your care team",
    "entry.list": "looked at the notes in your record",
    "entry.read": "read a note in your record",
    "entry.create": "added a note to your record",
    "entry.amend": "corrected a note in your record",
    "entry.retract": "took back a note in your record",
    "consent.list": "looked at your sharing choices",
    "consent.record": "wrote down a sharing choice for you",
    "consent.record_at_referral": "wrote down a sharing choice when they referred you",
    "consent.apply_policy": "wrote down a set of sharing choices for you",
    "consent.revoke": "took back a sharing choice",
    "emergency_access.grant": "used emergency access to open your record",
    "emergency_access.review": "checked a use of emergency access",
    "emergency_access.list": "looked at uses of emergency access",
    "access_log.read": "looked at this list of who saw your record",
    "referral.list": "saw your referral in a list",
    "referral.read": "read one of your referrals",
    "referral.create": "referred you to another service",
    "referral.accept": "accepted your referral",
    "referral.decline": "turned down your referral",
    "referral.schedule": "booked an appointment for your referral",
    "referral.complete": "marked your referral as done",
    "referral.cancel": "cancelled your referral",
    "inbox.list": "saw a message about you",
    "assessment.create": "wrote down your answers to a questionnaire",
    "assessment.list": "looked at your questionnaires",
    "assessment.read": "read one of your questionnaires",
    "registry.read": "saw you in a list of their clients",
    "dashboard.read": "saw you on their home page",
    "portal.invite": "gave you a code to open your account",
}
# What the client did themself ("You …").
CLIENT_DID = {
    "portal.activate": "opened your account",
    "portal.notices": "changed your email choice",
    "consent.record": "changed who can see your record",
    "consent.revoke": "took back a sharing choice",
    "experience.record": "told us how a referral went",
}


def access_sentence(event: Any) -> dict[str, Any]:
    """One access event as the sentence the page shows, and what it needs said
    beside it (emergency access, joining by matching)."""
    if event.by_client:
        did = CLIENT_DID.get(event.action)
        if did is None:
            did = PROVIDER_DID.get(event.action, "changed your record")
        who = "You"
    else:
        did = PROVIDER_DID.get(event.action, "opened your record")
        who = event.actor.full_name or event.actor.username
        if event.organization_id:
            who = f"{who} at {event.organization.name}"
    return {
        "event": event,
        "text": f"{who} {did}",
        "when": when(event.at),
        "emergency": event.emergency,
        "matching": event.action == "joined_by_matching",
        "by_client": event.by_client,
    }


def day_in_words(day: date) -> str:
    today = timezone.localdate()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day.year == today.year:
        return dateformat.format(day, "l j F")
    return dateformat.format(day, "l j F Y")


def _by_day(sentences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's sentences under a heading per day ("Today", "Yesterday", …).

    The same sentence said again and again in a row on one day (a provider
    paging through the record) is one line with how many times and from when
    to when, so one busy morning does not push everything else off the page.
    An emergency access is never folded into an ordinary one: it is another
    sentence."""
    days: list[dict[str, Any]] = []
    for sentence in sentences:
        day = timezone.localtime(sentence["event"].at).date()
        if not days or days[-1]["day"] != day:
            days.append({"day": day, "heading": day_in_words(day), "sentences": []})
        lines = days[-1]["sentences"]
        if lines and _same_line(lines[-1], sentence):
            lines[-1]["times"] += 1
            lines[-1]["earliest"] = sentence
        else:
            lines.append({**sentence, "times": 1, "earliest": sentence})
    return days


def _same_line(line: dict[str, Any], sentence: dict[str, Any]) -> bool:
    return all(line[key] == sentence[key] for key in ("text", "emergency", "matching", "by_client"))


# --- activation (no account yet) -----------------------------------------------------


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home" if is_client_account(request.user) else "dashboard")
    form = ActivationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.activate_portal_account(
                    **form.service_fields(), address=client_address(request)
                )
            except InvalidInput as error:
                # One message for any code or birth date that opens nothing (the service's).
                add_errors(form, error)
            except Conflict as error:
                form.add_error(None, error.message)
                status = 409
            else:
                messages.success(request, "Your account is ready. Sign in with it now.")
                return redirect(f"{settings.LOGIN_URL}?next={reverse('portal:home')}")
    return render(request, "portal/activate.html", {"form": form}, status=status)


# --- the client's pages --------------------------------------------------------------


@require_GET
@portal_page
def home(request: HttpRequest, client: Client) -> HttpResponse:
    referrals = list(selectors.portal_referrals(client))
    now = timezone.now()
    upcoming = sorted(
        (
            r
            for r in referrals
            if r.status == "scheduled" and r.appointment_at and r.appointment_at >= now
        ),
        key=lambda r: r.appointment_at,
    )
    context = {
        "nav": "home",
        "client": client,
        "care_team": _care_team_by_organization(client),
        "upcoming": [{"referral": r, "when": when(r.appointment_at)} for r in upcoming],
        "surveys": list(selectors.surveys_due(client)),
    }
    return render(request, "portal/home.html", context)


def _care_team_by_organization(client: Client) -> list[dict[str, Any]]:
    """The care team as the person knows it: each organization with its people."""
    groups: dict[Any, dict[str, Any]] = {}
    for member in selectors.portal_care_team(client):
        organization = member.provider.organization
        group = groups.setdefault(organization.pk, {"organization": organization, "people": []})
        group["people"].append(member.provider)
    return list(groups.values())


@require_GET
@portal_page
def access_log(request: HttpRequest, client: Client) -> HttpResponse:
    page = Paginator(selectors.portal_access_log(client), ACCESS_LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    sentences = [access_sentence(event) for event in page.object_list]
    context = {
        "nav": "access",
        "page": page,
        "days": _by_day(sentences),
        "any_emergency": any(s["emergency"] for s in sentences),
        "any_matching": any(s["matching"] for s in sentences),
    }
    return render(request, "portal/access_log.html", context)


# --- sharing choices -----------------------------------------------------------------


def _changes(
    organizations: list[Organization], before: dict[Any, set[str]], after: dict[Any, set[str]]
) -> list[str]:
    """What a change does, one sentence per organization it touches."""
    sentences = []
    for organization in organizations:
        gained = after[organization.pk] - before[organization.pk]
        lost = before[organization.pk] - after[organization.pk]
        if gained:
            sentences.append(
                f"{organization.name} will be able to see your {kinds_in_words(gained)} notes."
            )
        if lost:
            sentences.append(
                f"{organization.name} will no longer see your {kinds_in_words(lost)} notes."
            )
    return sentences


@require_GET
@portal_page
def sharing(request: HttpRequest, client: Client) -> HttpResponse:
    organizations = selectors.care_team_organizations(client)
    shared = selectors.shared_categories(client, organizations)
    rows = [
        {
            "organization": organization,
            "kinds": [
                {"value": kind, "name": KIND_NAMES[kind], "shared": kind in shared[organization.pk]}
                for kind in Category.values
            ],
        }
        for organization in organizations
    ]
    directives = list(selectors.portal_consents(client))
    now = timezone.now()
    context = {
        "nav": "sharing",
        "rows": rows,
        "choices": [_choice(d) for d in directives if d.is_active(now)],
        "past_choices": [_choice(d) for d in directives if not d.is_active(now)],
    }
    return render(request, "portal/sharing.html", context)


def _choice(directive: ConsentDirective) -> dict[str, Any]:
    share = directive.effect == Effect.PERMIT
    kinds = kinds_in_words(directive.categories)
    grantee = grantee_in_words(directive)
    if share:
        text = f"{grantee} may see your {kinds} notes."
    else:
        text = f"{grantee} may not see your {kinds} notes."
    if directive.recorded_by_id is None or directive.recorded_by.client_id:
        by = "You chose this"
    else:
        by = f"Written down by {directive.recorded_by.full_name or directive.recorded_by.username}"
    return {
        "directive": directive,
        "text": text[0].upper() + text[1:],
        "by": f"{by} on {when(directive.recorded_at)}.",
        "until": when(directive.expires_at) if directive.expires_at else "",
        "ended": when(directive.revoked_at) if directive.revoked_at else "",
    }


@require_http_methods(["GET", "POST"])
@portal_page
def sharing_change(request: HttpRequest, client: Client) -> HttpResponse:
    """One kind for one organization: the confirmation says what will change
    (GET), and saying yes makes it (POST)."""
    organizations = selectors.care_team_organizations(client)
    form = SharingChangeForm(request.POST or request.GET, organizations=organizations)
    if not form.is_valid():
        return render(request, "portal/sharing_invalid.html", {"nav": "sharing"}, status=400)
    organization = form.chosen_organization()
    kind, share = form.cleaned_data["kind"], form.cleaned_data["share"]
    change = {"organization": organization, "category": kind, "share": share}
    before = selectors.shared_categories(client, organizations)
    after = selectors.sharing_after(client, organizations, **change)
    changes = _changes(organizations, before, after)
    if request.method == "POST":
        if not changes:
            messages.info(request, "Nothing changed: this was already your choice.")
            return redirect("portal:sharing")
        services.change_sharing(account=request.user, **change)
        messages.success(request, "Saved. " + " ".join(changes) + " This starts now.")
        return redirect("portal:sharing")
    context = {
        "nav": "sharing",
        "form": form,
        "organization": organization,
        "kind_name": KIND_NAMES[kind].lower(),
        "share": share,
        "changes": changes,
    }
    return render(request, "portal/sharing_confirm.html", context)


@require_http_methods(["GET", "POST"])
@portal_page
def sharing_take_back(request: HttpRequest, client: Client, directive_id: Any) -> HttpResponse:
    """Take back one choice on file — the client's own or one a provider wrote
    down with them — after a confirmation that says what will change."""
    directive = selectors.portal_directive(client, directive_id)
    if not directive.is_active():
        return render(
            request, "portal/sharing_take_back.html", {"nav": "sharing", "ended": True}, status=409
        )
    organizations = selectors.care_team_organizations(client)
    before = selectors.shared_categories(client, organizations)
    after = categories_shared_with(client, organizations, without=[directive])
    changes = _changes(organizations, before, after)
    if request.method == "POST":
        try:
            services.revoke_consent_by_client(account=request.user, directive=directive)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("portal:sharing")
        messages.success(
            request,
            "Saved. " + (" ".join(changes) or "Your choice is taken back.") + " This starts now.",
        )
        return redirect("portal:sharing")
    context = {
        "nav": "sharing",
        "choice": _choice(directive),
        "changes": changes,
        "sector_wide": not directive.grantee_organization_id,
    }
    return render(request, "portal/sharing_take_back.html", context)


# --- referrals and the survey --------------------------------------------------------

STATUS_WORDS = {
    "sent": "Sent. Waiting for them to look at it.",
    "accepted": "Accepted. You are on their waiting list.",
    "scheduled": "Your appointment is booked.",
    "completed": "Done.",
    "declined": "They could not take this referral.",
    "cancelled": "Cancelled.",
}


def _in_weeks_or_days(days: int) -> tuple[int, str]:
    if days >= 14:
        return round(days / 7), "weeks"
    return days, "days"


def expected_wait_in_words(expected: dict | None) -> str:
    """ "Most people wait 3 to 8 weeks", from the service's median and 90th
    percentile, or "not enough data yet" while either is unpublished."""
    if not expected or expected.get("median_wait_days") is None:
        return ""
    median, p90 = expected["median_wait_days"], expected.get("p90_wait_days")
    if p90 is None or p90 <= median:
        amount, unit = _in_weeks_or_days(median)
        return f"Most people wait about {amount} {unit if amount != 1 else unit[:-1]}."
    low, low_unit = _in_weeks_or_days(median)
    high, high_unit = _in_weeks_or_days(p90)
    if low_unit != high_unit:
        low, low_unit = median, "days"
        high, high_unit = p90, "days"
    if low == high:
        return f"Most people wait about {low} {low_unit}."
    return f"Most people wait {low} to {high} {high_unit}."


def _referral_view(referral: Any) -> dict[str, Any]:
    waiting = referral.status in ("sent", "accepted")
    return {
        "referral": referral,
        "to": referral.service.name if referral.service_id else referral.to_organization.name,
        "organization": referral.to_organization.name,
        "status": STATUS_WORDS.get(referral.status, referral.status),
        "appointment": when(referral.appointment_at) if referral.appointment_at else "",
        "waiting": waiting,
        "expected": expected_wait_in_words(referral.expected_wait) if waiting else "",
        "waited_days": max(0, (timezone.now() - referral.created_at).days) if waiting else None,
        "sent": when(referral.created_at),
        "survey_due": referral.status in ("scheduled", "completed")
        and not referral.experience_given,
    }


@require_GET
@portal_page
def referrals(request: HttpRequest, client: Client) -> HttpResponse:
    rows = [_referral_view(r) for r in selectors.portal_referrals(client)]
    return render(request, "portal/referrals.html", {"nav": "referrals", "rows": rows})


@require_http_methods(["GET", "POST"])
@portal_page
def experience(request: HttpRequest, client: Client, referral_id: Any) -> HttpResponse:
    """How did it go? Three questions, once per referral, after it was booked."""
    referral = selectors.portal_referral(client, referral_id)
    # The one referral, with what the list knows of it (answered or not).
    referral = next(r for r in selectors.portal_referrals(client) if r.pk == referral.pk)
    context = {"nav": "referrals", "row": _referral_view(referral)}
    if referral.experience_given:
        return render(
            request,
            "portal/experience_done.html",
            context,
            status=200 if request.method == "GET" else 409,
        )
    form = ExperienceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.record_experience(
                    account=request.user, referral=referral, **form.cleaned_data
                )
            except InvalidInput as error:
                add_errors(form, error)
            except Conflict as error:
                return render(
                    request,
                    "portal/experience_done.html",
                    context | {"reason": error.message},
                    status=409,
                )
            else:
                messages.success(request, "Thank you. Your answers help make services better.")
                return redirect("portal:referrals")
    return render(request, "portal/experience.html", context | {"form": form}, status=status)


# --- email notices -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@portal_page
def notices(request: HttpRequest, client: Client) -> HttpResponse:
    """Emails about referrals: the address they go to, and yes or no. Which of
    the two forms was sent is `which` (a field named `form` would shadow the
    form element's own `.form` for htmx)."""
    enabled = selectors.email_notices(client)
    posted = request.POST.get("which") if request.method == "POST" else None
    address_form = EmailAddressForm(
        request.POST if posted == "address" else None, initial={"email": client.email}
    )
    choice_form = EmailNoticesForm(
        request.POST if posted == "notices" else None,
        initial={"email_notices": "yes" if enabled else "no"},
    )
    form = address_form if posted == "address" else choice_form
    saved = ""
    if posted and form.is_valid():
        try:
            if posted == "address":
                services.set_portal_email(account=request.user, email=form.cleaned_data["email"])
                saved = "Saved. Your email address is changed."
            else:
                on = form.cleaned_data["email_notices"]
                services.set_email_notices(account=request.user, enabled=on)
                saved = (
                    f"Saved. You {'will' if on else 'will not'} get emails about your referrals."
                )
        except InvalidInput as error:
            add_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, saved)
                return redirect("portal:notices")
            # htmx swaps the choice alone, saying what was saved.
            enabled = selectors.email_notices(client)
            choice_form = EmailNoticesForm(initial={"email_notices": "yes" if enabled else "no"})
            posted = None
    context = {
        "nav": "notices",
        "address_form": address_form,
        "choice_form": choice_form,
        "client": client,
        "enabled": enabled,
        "saved": saved if request.htmx and not posted else "",
    }
    status = 400 if posted else 200
    if request.htmx and request.POST.get("which") == "notices":
        return render(request, "portal/_notices_choice.html", context, status=status)
    return render(request, "portal/notices.html", context, status=status)


# --- the provider's side: the invitation handout -------------------------------------


@never_cache  # the code is shown once: no copy in the browser's cache
@require_POST
@client_page
def portal_invite(request: HttpRequest, client: Client) -> HttpResponse:
    """Issue a code and show the handout to print. The code is shown this once
    (only its hash is kept); issuing another voids it."""
    invite, code = services.issue_portal_invite(provider=request.user, client=client)
    address = settings.CARELINK_BASE_URL.rstrip("/") + reverse("portal:activate")
    context = {
        "nav": "clients",
        "client": client,
        "code": code,
        "address": address,
        "expires": when(invite.expires_at),
    }
    return render(request, "portal/handout.html", context)
