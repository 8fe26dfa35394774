"""Web pages of the records app: client search, intake, the client page (composed
from every app's panels) with adding an entry, and an organization's providers.

Thin like the API views: sign-in, the client gate, one service or selector, a
template.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.pages import client_page
from consent.selectors import search_clients
from core.audit import Action, record_access
from core.errors import InvalidInput
from core.pages import add_errors, htmx_target_is, organization_page, require
from core.panels import render_client_page
from core.permissions import may_add_providers, may_join_care_teams
from records import services
from records.forms import ClientIntakeForm, ClientSearchForm, EntryForm, ProviderForm
from records.models import Client, Provider


@require_GET
@organization_page
def client_search(request: HttpRequest) -> HttpResponse:
    form = ClientSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = Paginator(search_clients(request.user, query), 50).get_page(request.GET.get("page"))
    clients = list(page.object_list)
    record_access(request.user, clients, Action.CLIENT_SEARCH if query else Action.CLIENT_LIST)
    context = {"form": form, "query": query, "page": page, "clients": clients, "nav": "clients"}
    if htmx_target_is(request, "client-results"):
        return render(request, "records/_client_results.html", context)
    return render(request, "records/client_search.html", context)


@require_http_methods(["GET", "POST"])
@organization_page
def client_new(request: HttpRequest) -> HttpResponse:
    require(
        may_join_care_teams(request.user),
        "Organization admins and privacy officers do not register clients: intake puts you "
        "on the care team.",
    )
    form = ClientIntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.register_client(provider=request.user, **form.cleaned_data)
        except InvalidInput as error:
            add_errors(form, error)
        else:
            client = registration.client
            if registration.matched:
                messages.info(
                    request,
                    f"{client} was already registered: this links to the existing record, and "
                    "you were added to the care team. No new record was created.",
                )
            else:
                messages.success(request, f"{client} is registered and you are on the care team.")
            return redirect("client-detail", client_id=client.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "records/client_new.html", {"form": form, "nav": "clients"}, status=status
    )


@require_GET
@client_page
def client_detail(request: HttpRequest, client: Client) -> HttpResponse:
    return render_client_page(request, client)


@require_POST
@client_page
def entry_add(request: HttpRequest, client: Client) -> HttpResponse:
    form = EntryForm(request.POST)
    if form.is_valid():
        try:
            entry = services.add_entry(
                provider=request.user, client=client, **form.service_fields()
            )
        except InvalidInput as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Entry “{entry.title}” added to the record.")
            return redirect(reverse("client-detail", args=[client.pk]) + "#timeline")
    return render_client_page(request, client, status=400, entry_form=form, open_panel="entry")


@require_http_methods(["GET", "POST"])
@organization_page
def provider_list(request: HttpRequest) -> HttpResponse:
    """An organization admin's own organization: its providers, and adding one."""
    organization = request.user.organization
    require(
        may_add_providers(request.user, organization.pk),
        "Only organization admins may manage their organization's providers.",
    )
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.create_provider(organization=organization, **form.cleaned_data)
        except InvalidInput as error:
            add_errors(form, error)
        else:
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
