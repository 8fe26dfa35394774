"""Provider web pages of the records app: client search, intake, the client
page (timeline, care team, entries) and an organization's providers.

Thin like the API views: sign-in, the client gate, one service or selector, a
template. The consent panel and emergency access are consent/views.py; the
referral panel is referrals/views.py.
"""

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carelink.web import (
    client_or_404,
    htmx_target_is,
    organization_view,
    provider_view,
    require,
)
from consent.forms import ApplyPolicyForm, DirectiveForm, EmergencyAccessForm
from consent.selectors import (
    active_emergency_access,
    directives_of,
    live_policies,
    may_read_access_log,
    visible_entries,
    withheld_count,
)
from consent.services import record_access
from records import services
from records.forms import (
    ClientIntakeForm,
    ClientSearchForm,
    EntryForm,
    ProviderForm,
    TimelineFilterForm,
)
from records.models import Category, Client, Provider, Role
from records.selectors import active_care_team, search_clients

TIMELINE_PAGE_SIZE = 50


@require_GET
@organization_view
def client_search(request: HttpRequest) -> HttpResponse:
    form = ClientSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = Paginator(search_clients(request.user, query), 50).get_page(request.GET.get("page"))
    clients = list(page.object_list)
    record_access(request.user, clients, "web.client.search" if query else "web.client.list")
    context = {"form": form, "query": query, "page": page, "clients": clients, "nav": "clients"}
    if htmx_target_is(request, "client-results"):
        return render(request, "records/_client_results.html", context)
    return render(request, "records/client_search.html", context)


@require_http_methods(["GET", "POST"])
@organization_view
def client_new(request: HttpRequest) -> HttpResponse:
    form = ClientIntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        registration = services.register_client(provider=request.user, **form.cleaned_data)
        client = registration.client
        if registration.matched:
            messages.info(
                request,
                f"{client} was already registered: this links to the existing record, and you "
                "were added to the care team. No new record was created.",
            )
        else:
            messages.success(request, f"{client} is registered and you are on the care team.")
        return redirect("client-detail", client_id=client.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "records/client_new.html", {"form": form, "nav": "clients"}, status=status
    )


def client_page_context(request: HttpRequest, client: Client, **forms: Any) -> dict:
    """Everything the client page shows, each part through the consent engine."""
    provider = request.user
    filter_form = TimelineFilterForm(request.GET)
    category = filter_form.cleaned_data["category"] if filter_form.is_valid() else ""
    entries = visible_entries(provider, client).select_related("author", "organization")
    if category:
        entries = entries.filter(category=category)
    timeline = Paginator(entries, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    from referrals.views import client_referrals, refer_form_for

    return {
        "nav": "clients",
        "client": client,
        "care_team": active_care_team(client),
        "timeline": timeline,
        "filter_form": filter_form,
        "category": category,
        # Rule 5: over all the client's entries, whatever the filter.
        "withheld": withheld_count(provider, client),
        "emergency": active_emergency_access(provider, client),
        "directives": directives_of(client).select_related("grantee_organization", "policy"),
        "may_read_access_log": may_read_access_log(provider),
        "referrals": client_referrals(provider, client),
        "entry_form": forms.get("entry_form") or EntryForm(),
        "directive_form": forms.get("directive_form") or DirectiveForm(),
        "policy_form": forms.get("policy_form") or ApplyPolicyForm(),
        "emergency_form": forms.get("emergency_form") or EmergencyAccessForm(),
        "refer_form": forms.get("refer_form") or refer_form_for(provider),
        "open_panel": forms.get("open_panel", ""),
        "has_policies": live_policies().exists(),
        "category_choices": Category,
    }


def render_client_page(
    request: HttpRequest, client: Client, status: int = 200, **forms: Any
) -> HttpResponse:
    """The client page, also re-rendered with a rejected form and its errors (400)."""
    context = client_page_context(request, client, **forms)
    record_access(request.user, client, "web.client.read")
    if htmx_target_is(request, "timeline"):
        return render(request, "records/_timeline.html", context, status=status)
    return render(request, "records/client_detail.html", context, status=status)


@require_GET
@provider_view
def client_detail(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = client_or_404(request.user, client_id)
    return render_client_page(request, client)


@require_POST
@provider_view
def entry_add(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = client_or_404(request.user, client_id)
    form = EntryForm(request.POST)
    if not form.is_valid():
        return render_client_page(request, client, status=400, entry_form=form, open_panel="entry")
    entry = services.add_entry(provider=request.user, client=client, **form.service_fields())
    messages.success(request, f"Entry “{entry.title}” added to the record.")
    return redirect(reverse("client-detail", args=[client.pk]) + "#timeline")


@require_http_methods(["GET", "POST"])
@organization_view
def provider_list(request: HttpRequest) -> HttpResponse:
    """An organization admin's own organization: its providers, and adding one."""
    require(
        request.user.role == Role.ORG_ADMIN,
        "Only organization admins may manage their organization's providers.",
    )
    organization = request.user.organization
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        provider = services.create_provider(organization=organization, **form.cleaned_data)
        messages.success(
            request, f"{provider.display_name} can now sign in as {provider.username}."
        )
        return redirect("provider-list")
    providers = Provider.objects.filter(organization=organization).order_by("full_name", "username")
    return render(
        request,
        "records/provider_list.html",
        {"form": form, "providers": providers, "organization": organization, "nav": "providers"},
        status=400 if form.is_bound else 200,
    )
