"""Web pages of services and waits: the directory ("Waits across the
network"), a service's page with its 26-week history, the intake queue per
service with one-click open/close, and managing an organization's services.

Every figure comes from `capacity.selectors`, the same functions the API
serializes, so a page and the API cannot disagree.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from capacity import charts, selectors
from capacity.forms import ServiceForm
from capacity.selectors import access_service
from core.audit import Action, record_access
from core.errors import InvalidInput
from core.pages import add_errors, organization_page, require
from core.permissions import may_manage_services, may_open_and_close_intake
from records import services as record_services
from records.models import Service
from referrals.models import WAITING_STATUSES
from referrals.selectors import visible_referrals, with_urgency_rank

QUEUE_PAGE_SIZE = 50


DIRECTORY_PAGE_SIZE = 50


@require_GET
@organization_page
def service_directory(request: HttpRequest) -> HttpResponse:
    """Every service, the growing ones first (the ones to look at), fifty to a
    page with their full figures. Which are growing is known for all of them
    from three counts; only the page's services have their samples ranked."""
    now = timezone.now()
    ids = list(Service.objects.values_list("pk", flat=True))  # the directory's order
    growing = selectors.growing_services(ids, now)
    # Growing first, each part in the directory's own order (organization, name).
    ids.sort(key=lambda pk: pk not in growing)
    page = Paginator(ids, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    by_id = Service.objects.select_related("organization").in_bulk(page.object_list)
    shown = [by_id[pk] for pk in page.object_list]
    waits = selectors.service_waits(shown, now)
    experiences = selectors.service_experiences(shown)
    return render(
        request,
        "capacity/directory.html",
        {
            "nav": "services",
            "page": page,
            "rows": [(service, waits[service.pk], experiences[service.pk]) for service in shown],
            "services": len(ids),
            "growing": len(growing),
            "may_add": may_manage_services(request.user, request.user.organization_id),
        },
    )


def _service_context(request: HttpRequest, service: Service) -> dict:
    user = request.user
    return {
        "nav": "services",
        "service": service,
        "wait": selectors.service_wait(service),
        "experience": selectors.service_experiences([service])[service.pk],
        "may_manage": may_manage_services(user, service.organization_id),
        "may_toggle": may_open_and_close_intake(user, service.organization_id),
        "own_service": user.organization_id == service.organization_id,
    }


@require_GET
@organization_page
def service_detail(request: HttpRequest, service_id: str) -> HttpResponse:
    service = access_service(service_id)
    weeks = selectors.wait_history(service)
    context = _service_context(request, service) | {
        "weeks": weeks,
        "flow": charts.flow_chart(weeks),
        "medians": charts.median_chart(weeks),
        "summary": charts.summary(weeks),
    }
    return render(request, "capacity/service_detail.html", context)


@require_GET
@organization_page
def service_queue(request: HttpRequest, service_id: str) -> HttpResponse:
    """The referrals waiting for one service of the caller's organization,
    most urgent first and the longest-waiting first within each urgency."""
    service = access_service(service_id)
    require(
        request.user.organization_id == service.organization_id,
        "The queue of a service is for its own organization.",
    )
    waiting = with_urgency_rank(
        visible_referrals(request.user).filter(service=service, status__in=WAITING_STATUSES)
    ).order_by("urgency_rank", "created_at", "id")
    page = Paginator(waiting, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    now = timezone.now()
    for referral in rows:
        referral.days_waiting = max(0, (now - referral.created_at).days)
    record_access(request.user, [r.client for r in rows], Action.REFERRAL_LIST)
    context = _service_context(request, service) | {"page": page, "referrals": rows}
    return render(request, "capacity/service_queue.html", context)


@require_POST
@organization_page
def service_intake(request: HttpRequest, service_id: str) -> HttpResponse:
    """One click opens or closes intake; an htmx request gets the control back."""
    service = access_service(service_id)
    accepting = request.POST.get("accepting_referrals") == "true"
    record_services.update_service(
        actor=request.user, service=service, accepting_referrals=accepting
    )
    if request.htmx:
        return render(request, "capacity/_intake_toggle.html", _service_context(request, service))
    state = "open to referrals" if accepting else "closed to new referrals"
    messages.success(request, f"{service.name} is {state}.")
    back = request.POST.get("next", "")
    allowed = {
        reverse("service-queue", args=[service.pk]),
        reverse("service-detail", args=[service.pk]),
    }
    return redirect(back if back in allowed else reverse("service-detail", args=[service.pk]))


@require_http_methods(["GET", "POST"])
@organization_page
def service_edit(request: HttpRequest, service_id: str | None = None) -> HttpResponse:
    """Organization admins add, edit and close their organization's services."""
    user = request.user
    service = access_service(service_id) if service_id else None
    organization_id = service.organization_id if service else user.organization_id
    require(
        may_manage_services(user, organization_id),
        "Only the organization's admins may manage its services.",
    )
    initial = {}
    if service is not None:
        initial = {
            field: getattr(service, field)
            for field in ("name", "description", "eligibility", "accepting_referrals")
        }
    form = ServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if service is None:
                service = record_services.create_service(
                    actor=user, organization=user.organization, **form.cleaned_data
                )
            else:
                record_services.update_service(actor=user, service=service, **form.cleaned_data)
        except InvalidInput as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{service.name} is saved.")
            return redirect("service-detail", service_id=service.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "capacity/service_form.html",
        {"nav": "services", "form": form, "service": service},
        status=status,
    )
