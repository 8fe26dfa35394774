"""Provider web pages of the referrals app: the dashboard, referral lists and
pages with their transitions, and the inbox.

Every transition is a referrals service; the buttons shown are only a guide,
the service decides (403 for the wrong side, 409 for the wrong state).
"""

from collections.abc import Callable
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from carelink.web import add_model_errors, client_or_404, organization_view, provider_view
from consent.selectors import visible_clients, visible_entries
from consent.services import TransitionNotAllowed, record_access
from records.models import Client, Provider, Role
from records.views import render_client_page
from referrals import selectors, services
from referrals.forms import CompleteForm, ReasonForm, ReferForm, ScheduleForm
from referrals.models import Referral, ReferralStatus, Urgency

DASHBOARD_INBOX_SIZE = 10
# The dashboard shows the head of the queue and of the caseload (and audits what
# it shows); the full lists are a click away, paginated.
DASHBOARD_LIST_SIZE = 50
LIST_PAGE_SIZE = 50
_OPEN = {ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.SCHEDULED}
_URGENCY_RANK = Case(
    When(urgency=Urgency.EMERGENT, then=Value(0)),
    When(urgency=Urgency.URGENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def refer_form_for(provider: Provider, data: dict | None = None) -> ReferForm:
    return ReferForm(data, provider=provider, prefix="refer")


def client_referrals(provider: Provider, client: Client) -> QuerySet[Referral]:
    """The client's referrals that the provider's organization is a party to."""
    return selectors.visible_referrals(provider).filter(client=client)


def incoming_queue(provider: Provider) -> QuerySet[Referral]:
    """Referrals waiting for the provider's organization: emergent first, then
    urgent, then routine, the longest-waiting first within each."""
    return (
        selectors.visible_referrals(provider)
        .filter(to_organization_id=provider.organization_id, status=ReferralStatus.SENT)
        .annotate(urgency_rank=_URGENCY_RANK)
        .order_by("urgency_rank", "created_at", "id")
    )


def caseload(provider: Provider) -> QuerySet[Client]:
    """Clients whose care team the provider is on, through the consent gate."""
    return (
        visible_clients(provider)
        .filter(care_team__provider=provider, care_team__ended_at__isnull=True)
        .distinct()
        .order_by("family_name", "given_name", "id")
    )


def _with_waits(referrals: list[Referral]) -> list[Referral]:
    """Attach the contract's wait (send → appointment or completion) and, while
    nothing is set yet, how long the referral has been waiting so far."""
    now = timezone.now()
    for referral in referrals:
        referral.wait = selectors.wait_days(referral)
        referral.days_waiting = max(0, (now - referral.created_at).days)
    return referrals


def _notifications(provider: Provider, notifications: list) -> list:
    for notification in notifications:
        notification.preview = selectors.notification_preview(notification)
    return notifications


def _audit_clients(provider: Provider, clients: list[Client], action: str) -> None:
    """Rule 7: one access event per distinct client shown, in one bulk insert."""
    record_access(provider, list({c.pk: c for c in clients}.values()), action)


@require_GET
@provider_view
def dashboard(request: HttpRequest) -> HttpResponse:
    provider = request.user
    context: dict = {"nav": "dashboard"}
    if provider.organization_id is not None:
        unread = _notifications(
            provider, list(selectors.inbox(provider, unread=True)[:DASHBOARD_INBOX_SIZE])
        )
        clients = list(caseload(provider)[: DASHBOARD_LIST_SIZE + 1])
        queue: list[Referral] = []
        if provider.role in (Role.INTAKE_WORKER, Role.CARE_COORDINATOR):
            queue = _with_waits(list(incoming_queue(provider)[: DASHBOARD_LIST_SIZE + 1]))
        # One row past the limit tells whether there are more, without a count query.
        more_clients, more_queue = (
            len(clients) > DASHBOARD_LIST_SIZE,
            len(queue) > DASHBOARD_LIST_SIZE,
        )
        clients, queue = clients[:DASHBOARD_LIST_SIZE], queue[:DASHBOARD_LIST_SIZE]
        context |= {
            "unread": unread,
            "unread_total": selectors.inbox(provider, unread=True).count(),
            "caseload": clients,
            "more_clients": more_clients,
            "more_queue": more_queue,
            "show_queue": provider.role in (Role.INTAKE_WORKER, Role.CARE_COORDINATOR),
            "queue": queue,
        }
        _audit_clients(
            provider,
            clients + [r.client for r in queue] + [n.client for n in unread],
            "web.dashboard.read",
        )
    return render(request, "referrals/dashboard.html", context)


@require_GET
@organization_view
def referral_list(request: HttpRequest) -> HttpResponse:
    provider = request.user
    direction = "outgoing" if request.GET.get("direction") == "outgoing" else "incoming"
    referrals = selectors.visible_referrals(provider)
    if direction == "incoming":
        referrals = referrals.filter(to_organization_id=provider.organization_id)
    else:
        referrals = referrals.filter(from_organization_id=provider.organization_id)
    status = request.GET.get("status", "")
    if status in ReferralStatus.values:
        referrals = referrals.filter(status=status)
    else:
        status = ""
    page = Paginator(referrals, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _with_waits(list(page.object_list))
    _audit_clients(provider, [r.client for r in rows], "web.referral.list")
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


@require_POST
@provider_view
def referral_create(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = client_or_404(request.user, client_id)
    form = refer_form_for(request.user, request.POST)
    if form.is_valid():
        try:
            referral = services.refer_client(
                provider=request.user, client=client, **form.cleaned_data
            )
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(
                request,
                f"Referral sent to {referral.to_organization.name}. You will hear back here.",
            )
            return redirect("referral-detail", referral_id=referral.pk)
    return render_client_page(request, client, status=400, refer_form=form, open_panel="refer")


def _actions_for(provider: Provider, referral: Referral) -> set[str]:
    """Which buttons to offer. A guide only: the services enforce the same rules."""
    actions: set[str] = set()
    if provider.organization_id == referral.to_organization_id:
        if referral.status == ReferralStatus.SENT:
            actions |= {"accept", "decline"}
        elif referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.SCHEDULED):
            actions |= {"schedule", "complete"}
    if provider.organization_id == referral.from_organization_id and referral.status in _OPEN:
        actions.add("cancel")
    return actions


def _referral_page(
    request: HttpRequest, referral: Referral, status: int = 200, **forms: object
) -> HttpResponse:
    provider = request.user
    client = referral.client
    client_visible = visible_clients(provider).filter(pk=client.pk).exists()
    report = None
    if client_visible and referral.report_entry_id:
        # The report is an entry like any other: shown only if consent lets this reader see it.
        report = visible_entries(provider, client).filter(pk=referral.report_entry_id).first()
    record_access(provider, client, "web.referral.read")
    context = {
        "nav": "referrals",
        "referral": _with_waits([referral])[0],
        "client": client,
        "client_visible": client_visible,
        "report": report,
        "history": selectors.referral_history(referral),
        "actions": _actions_for(provider, referral),
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
        "complete_form": forms.get("complete_form") or CompleteForm(prefix="complete"),
    }
    return render(request, "referrals/referral_detail.html", context, status=status)


@require_GET
@provider_view
def referral_detail(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    return _referral_page(request, selectors.referral_for(request.user, referral_id))


Transition = Callable[[Provider, Referral, dict], Referral]

# action → (form class or None, form context name, service call, success message)
_TRANSITIONS: dict[str, tuple[type | None, str, Transition, str]] = {
    "accept": (
        None,
        "",
        lambda p, r, d: services.accept_referral(provider=p, referral=r),
        "Referral accepted: you are on the client's care team.",
    ),
    "decline": (
        ReasonForm,
        "decline_form",
        lambda p, r, d: services.decline_referral(provider=p, referral=r, reason=d["reason"]),
        "Referral declined. The referrer is told.",
    ),
    "schedule": (
        ScheduleForm,
        "schedule_form",
        lambda p, r, d: services.schedule_referral(
            provider=p, referral=r, appointment_at=d["appointment_at"]
        ),
        "Appointment set. The care team is told.",
    ),
    "complete": (
        CompleteForm,
        "complete_form",
        lambda p, r, d: services.complete_referral(provider=p, referral=r, report=dict(d)),
        "Intake report filed. The referrer and the care team are told.",
    ),
    "cancel": (
        ReasonForm,
        "cancel_form",
        lambda p, r, d: services.cancel_referral(provider=p, referral=r, reason=d["reason"]),
        "Referral cancelled.",
    ),
}


@require_POST
@provider_view
def referral_transition(request: HttpRequest, referral_id: UUID, action: str) -> HttpResponse:
    referral = selectors.referral_for(request.user, referral_id)
    form_class, form_name, transition, success = _TRANSITIONS[action]
    form = form_class(request.POST, prefix=action) if form_class else None
    if form is not None and not form.is_valid():
        return _referral_page(request, referral, status=400, **{form_name: form})
    try:
        transition(request.user, referral, form.cleaned_data if form else {})
    except ValidationError as error:
        add_model_errors(form, error)
        return _referral_page(request, referral, status=400, **{form_name: form})
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
        referral = selectors.referral_for(request.user, referral_id)
        return _referral_page(request, referral, status=409)
    messages.success(request, success)
    return redirect("referral-detail", referral_id=referral.pk)


@require_GET
@organization_view
def inbox(request: HttpRequest) -> HttpResponse:
    provider = request.user
    show = request.GET.get("show", "unread")
    notifications = selectors.inbox(provider, unread=True if show == "unread" else None)
    page = Paginator(notifications, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _notifications(provider, list(page.object_list))
    _audit_clients(provider, [n.client for n in rows], "web.inbox.list")
    return render(
        request,
        "referrals/inbox.html",
        {
            "nav": "inbox",
            "show": "unread" if show == "unread" else "all",
            "page": page,
            "notifications": rows,
        },
    )


@require_POST
@organization_view
def notification_read(request: HttpRequest, notification_id: UUID) -> HttpResponse:
    notification = selectors.notification_for(request.user, notification_id)
    services.mark_notification_read(provider=request.user, notification=notification)
    if request.htmx:
        notification = selectors.notification_for(request.user, notification.pk)
        _notifications(request.user, [notification])
        return render(request, "referrals/_notification.html", {"notification": notification})
    return redirect("dashboard" if request.POST.get("back") == "dashboard" else "inbox")
