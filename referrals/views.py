"""Web pages of the referrals app: the dashboard, referral lists and pages with
their transitions.

The buttons a referral page offers are the rows of the transition table the
viewer may take; the services check the same table (403 for the wrong side,
409 for the wrong state).
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.inbox import inbox, unread_badge, with_previews
from access.lookups import access_referral
from access.pages import client_page
from consent.selectors import visible_clients, visible_entry_versions
from core.audit import Action, record_access
from core.errors import Conflict, InvalidInput
from core.events import kind_named
from core.pages import add_errors, htmx_target_is, organization_page, signed_in_page
from core.panels import render_panel_form
from core.permissions import Side, is_provider, triages_referrals
from core.vocabulary import Category
from records.models import Client, Provider
from referrals import selectors, services
from referrals.forms import (
    CompleteForm,
    ReasonForm,
    RedirectForm,
    ReferForm,
    ScheduleForm,
    refilled,
)
from referrals.models import Referral, ReferralStatus
from referrals.transitions import ReferralAction, actions_for, viewer_side

DASHBOARD_INBOX_SIZE = 10
# The dashboard shows the head of the queue and of the caseload (and audits what
# it shows); the full lists are a click away, paginated.
DASHBOARD_LIST_SIZE = 50
LIST_PAGE_SIZE = 50


def caseload(provider: Provider) -> QuerySet[Client]:
    """Clients whose care team the provider is on, through the consent gate."""
    return (
        visible_clients(provider)
        .filter(care_team__provider=provider, care_team__ended_at__isnull=True)
        .distinct()
        .order_by("family_name", "given_name", "id")
    )


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


def wait_text(referral: Referral, now) -> str:
    """What a row's wait measures, in words: how long the client waited (to the
    appointment or completion), how far off the appointment is, how long it has
    waited so far, or after how long it was closed."""
    if referral.status in (ReferralStatus.DECLINED, ReferralStatus.CANCELLED):
        ended = referral.declined_at or referral.cancelled_at or now
        took = max(0, (ended - referral.created_at).days)
        return f"{referral.get_status_display().lower()} after {_days(took)}"
    if referral.appointment_at and referral.appointment_at > now:
        return f"appointment in {_days(max(0, (referral.appointment_at - now).days))}"
    waited = selectors.wait_days(referral)
    if waited is not None:
        return f"waited {_days(waited)}"
    return f"waiting {_days(max(0, (now - referral.created_at).days))} so far"


def _with_waits(referrals: list[Referral]) -> list[Referral]:
    """Attach the contract's wait (send → appointment or completion), how long
    the referral has been waiting so far, and the wait in words."""
    now = timezone.now()
    for referral in referrals:
        referral.wait = selectors.wait_days(referral)
        referral.days_waiting = max(0, (now - referral.created_at).days)
        referral.wait_text = wait_text(referral, now)
    return referrals


@require_GET
@signed_in_page
def dashboard(request: HttpRequest) -> HttpResponse:
    provider = request.user
    context: dict = {"nav": "dashboard"}
    if is_provider(provider):
        unread = with_previews(provider, list(inbox(provider, unread=True)[:DASHBOARD_INBOX_SIZE]))
        clients = list(caseload(provider)[: DASHBOARD_LIST_SIZE + 1])
        show_queue = triages_referrals(provider)
        queue: list[Referral] = []
        if show_queue:
            queue = _with_waits(list(selectors.incoming_queue(provider)[: DASHBOARD_LIST_SIZE + 1]))
        # One row past the limit tells whether there are more, without a count query.
        more_clients, more_queue = (
            len(clients) > DASHBOARD_LIST_SIZE,
            len(queue) > DASHBOARD_LIST_SIZE,
        )
        clients, queue = clients[:DASHBOARD_LIST_SIZE], queue[:DASHBOARD_LIST_SIZE]
        context |= {
            "unread": unread,
            "unread_total": unread_badge(request),
            "caseload": clients,
            "more_clients": more_clients,
            "more_queue": more_queue,
            "show_queue": show_queue,
            "queue": queue,
        }
        record_access(
            provider,
            clients + [r.client for r in queue] + [n.client for n in unread],
            Action.DASHBOARD_READ,
        )
    return render(request, "referrals/dashboard.html", context)


@require_GET
@organization_page
def referral_list(request: HttpRequest) -> HttpResponse:
    provider = request.user
    # Open on the side the user works: triage roles receive, everyone else refers.
    default = "incoming" if triages_referrals(provider) else "outgoing"
    direction = request.GET.get("direction")
    if direction not in ("incoming", "outgoing"):
        direction = default
    referrals = selectors.visible_referrals(provider, direction)
    status = request.GET.get("status", "")
    if status in ReferralStatus.values:
        referrals = referrals.filter(status=status)
    else:
        status = ""
    page = Paginator(referrals, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _with_waits(list(page.object_list))
    record_access(provider, [r.client for r in rows], Action.REFERRAL_LIST)
    return render(
        request,
        "referrals/referral_list.html",
        {
            "nav": "referrals",
            "direction": direction,
            "status": status,
            "statuses": ReferralStatus.choices,
            "page": page,
            "referrals": rows,
        },
    )


@require_http_methods(["GET", "POST"])
@client_page
def referral_create(request: HttpRequest, client: Client) -> HttpResponse:
    """Referring a client: the form the client page's "Refer" panel brings in
    when opened, or, without htmx and with a rejected form's errors, a page of
    its own. GET with an organization chosen is htmx asking for that
    organization's services with their waits (referrals.forms.offer_services)."""
    make = {"provider": request.user, "services_url": reverse("referral-create", args=[client.pk])}
    if request.method == "GET":
        # An organization chosen (htmx asks for its services) or none yet.
        form = refilled(ReferForm, request.GET, "refer", **make)
        return _refer_page(request, client, form)
    if "show_services" in request.POST:  # without JavaScript: list them, send nothing
        return _refer_page(request, client, refilled(ReferForm, request.POST, "refer", **make))
    form = ReferForm(request.POST, prefix="refer", **make)
    if form.is_valid():
        try:
            referral = services.refer_client(
                provider=request.user, client=client, **form.cleaned_data
            )
        except InvalidInput as error:
            add_errors(form, error)
        except Conflict as error:  # the service closed since the page was drawn
            form.add_error("service", error.message)
            return _refer_page(request, client, form, status=409)
        else:
            messages.success(
                request,
                f"Referral sent to {referral.to_organization.name}. You will hear back here.",
            )
            return redirect("referral-detail", referral_id=referral.pk)
    return _refer_page(request, client, form, status=400)


def _refer_page(
    request: HttpRequest, client: Client, form: ReferForm, status: int = 200
) -> HttpResponse:
    # The fragment: the form, or (htmx's hx-select) its list of services.
    return render_panel_form(
        request,
        client,
        targets=("refer-form", "id_refer-service"),
        fragment="referrals/_refer_form.html",
        page="referrals/refer.html",
        context={"refer_form": form},
        status=status,
    )


def _referral_page(
    request: HttpRequest, referral: Referral, status: int = 200, **forms: object
) -> HttpResponse:
    provider = request.user
    client = referral.client
    client_visible = visible_clients(provider).filter(pk=client.pk).exists()
    report = None
    if client_visible and referral.report_entry_id:
        # The report is an entry like any other: shown only if consent lets this reader see it.
        report = (
            visible_entry_versions(provider, client).filter(pk=referral.report_entry_id).first()
        )
    record_access(provider, client, Action.REFERRAL_READ)
    side = viewer_side(provider, referral)
    appointment_ahead = bool(referral.appointment_at and referral.appointment_at > timezone.now())
    redirected_to = Referral.objects.filter(redirected_from=referral).first()
    may_redirect = (
        side == Side.REFERRING
        and referral.status == ReferralStatus.DECLINED
        and redirected_to is None
    )
    context = {
        "nav": "referrals",
        "referral": _with_waits([referral])[0],
        "shared": [Category(value).label for value in services.shared_categories(referral)],
        "history": _history_lines(referral, side),
        "redirected_to": redirected_to if side == Side.REFERRING else None,
        "may_redirect": may_redirect,
        # Built only where it is shown: it lists organizations and services.
        "redirect_form": (forms.get("redirect_form") or _redirect_form(referral))
        if may_redirect
        else None,
        "appointment_ahead": appointment_ahead,
        "client": client,
        "client_visible": client_visible,
        "report": report,
        "actions": {action.value for action in actions_for(provider, referral)},
        "decline_form": forms.get("decline_form") or ReasonForm(prefix="decline"),
        "cancel_form": forms.get("cancel_form") or ReasonForm(prefix="cancel"),
        "schedule_form": forms.get("schedule_form")
        or ScheduleForm(
            prefix="schedule",
            initial={
                "appointment_at": referral.appointment_at
                and timezone.localtime(referral.appointment_at)
            },
        ),
        "complete_form": forms.get("complete_form")
        or CompleteForm(prefix="complete", appointment_ahead=appointment_ahead),
    }
    return render(request, "referrals/referral_detail.html", context, status=status)


# The first event of a referral, said from the side of who reads it.
_SENDER_SAYS = {"referral_received": "Referral sent"}


def _history_lines(referral: Referral, side: Side | None) -> list[dict]:
    lines = []
    for event in selectors.referral_history(referral):
        text = kind_named(event.kind).label
        if side == Side.REFERRING and event.kind in _SENDER_SAYS:
            text = f"{_SENDER_SAYS[event.kind]} to {referral.to_organization.name}"
        lines.append({"event": event, "text": text})
    return lines


@require_GET
@signed_in_page
def referral_detail(request: HttpRequest, referral_id: str) -> HttpResponse:
    return _referral_page(request, access_referral(request.user, referral_id))


Transition = Callable[[Provider, Referral, dict], Referral]

# action → (form class or None, the service call, success message)
_PAGES: dict[ReferralAction, tuple[type | None, Transition, str]] = {
    ReferralAction.ACCEPT: (
        None,
        lambda p, r, d: services.accept_referral(provider=p, referral=r),
        "Referral accepted: you are on the client's care team.",
    ),
    ReferralAction.DECLINE: (
        ReasonForm,
        lambda p, r, d: services.decline_referral(provider=p, referral=r, reason=d["reason"]),
        "Referral declined. The referrer is told.",
    ),
    ReferralAction.SCHEDULE: (
        ScheduleForm,
        lambda p, r, d: services.schedule_referral(
            provider=p, referral=r, appointment_at=d["appointment_at"]
        ),
        "Appointment set. The care team is told.",
    ),
    ReferralAction.COMPLETE: (
        CompleteForm,
        lambda p, r, d: services.complete_referral(provider=p, referral=r, report=dict(d)),
        "Intake report filed. The referrer and the care team are told.",
    ),
    ReferralAction.CANCEL: (
        ReasonForm,
        lambda p, r, d: services.cancel_referral(provider=p, referral=r, reason=d["reason"]),
        "Referral cancelled.",
    ),
}


@require_POST
@signed_in_page
def referral_transition(request: HttpRequest, referral_id: str, action: str) -> HttpResponse:
    referral = access_referral(request.user, referral_id)
    action = ReferralAction(action)
    form_class, transition, success = _PAGES[action]
    form_name = f"{action.value}_form"
    options = {}
    if action == ReferralAction.COMPLETE:
        options["appointment_ahead"] = bool(
            referral.appointment_at and referral.appointment_at > timezone.now()
        )
    form = form_class(request.POST, prefix=action.value, **options) if form_class else None
    if form is not None and not form.is_valid():
        return _referral_page(request, referral, status=400, **{form_name: form})
    try:
        transition(request.user, referral, form.cleaned_data if form else {})
    except InvalidInput as error:
        add_errors(form, error)
        return _referral_page(request, referral, status=400, **{form_name: form})
    except Conflict as error:
        messages.error(request, error.message)
        referral = access_referral(request.user, referral_id)
        return _referral_page(request, referral, status=409)
    messages.success(request, success)
    return redirect("referral-detail", referral_id=referral.pk)


def _redirect_form(referral: Referral, data: Any = None) -> RedirectForm:
    """The redirect form, unbound, holding what `data` chose (if anything)."""
    url = reverse("referral-redirect", args=[referral.pk])
    return refilled(RedirectForm, data or {}, "redirect", referral=referral, services_url=url)


@require_http_methods(["GET", "POST"])
@signed_in_page
def referral_redirect(request: HttpRequest, referral_id: str) -> HttpResponse:
    """After a decline, the same referral to another organization or service in
    one step. GET is htmx asking for the chosen organization's services (the
    form alone: services and their waits); anything else is the referral page."""
    referral = access_referral(request.user, referral_id)
    if request.method == "GET":
        if htmx_target_is(request, "id_redirect-service"):
            context = {"referral": referral, "redirect_form": _redirect_form(referral, request.GET)}
            return render(request, "referrals/_redirect_form.html", context)
        return redirect(reverse("referral-detail", args=[referral.pk]) + "#redirect")
    if "show_services" in request.POST:  # without JavaScript: list them, send nothing
        return _referral_page(
            request, referral, redirect_form=_redirect_form(referral, request.POST)
        )
    form = RedirectForm(
        request.POST,
        referral=referral,
        prefix="redirect",
        services_url=reverse("referral-redirect", args=[referral.pk]),
    )
    if form.is_valid():
        try:
            new = services.redirect_referral(
                provider=request.user,
                referral=referral,
                to_organization=form.cleaned_data["to_organization"],
                service=form.cleaned_data["service"],
                note=form.cleaned_data["note"],
            )
        except InvalidInput as error:
            add_errors(form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return _referral_page(request, referral, status=409)
        else:
            messages.success(
                request,
                f"Referral sent to {new.to_organization.name}, with the same reason and "
                "shared categories.",
            )
            return redirect("referral-detail", referral_id=new.pk)
    return _referral_page(request, referral, status=400, redirect_form=form)
