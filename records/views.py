"""Web pages of the records app: client search, intake, the client page (composed
from every app's panels) with adding an entry, and an organization's providers.

Thin like the API views: sign-in, the client gate, one service or selector, a
template.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.lookups import access_entry
from access.pages import client_page
from accounts import services as accounts_services
from consent.selectors import search_clients
from core.audit import Action, record_access
from core.errors import ApplicationError, Conflict, InvalidInput
from core.ids import parse_int_id
from core.pages import add_errors, htmx_target_is, organization_page, require
from core.panels import render_client_page
from core.permissions import is_system_admin, may_add_providers, may_join_care_teams
from records import services
from records.forms import (
    AddColleagueForm,
    AmendEntryForm,
    ClientIntakeForm,
    ClientSearchForm,
    DemographicsForm,
    EditProviderForm,
    EntryForm,
    ProviderForm,
    ResetPasswordForm,
    RetractEntryForm,
)
from records.models import Client, Provider
from records.selectors import active_care_team


@require_GET
@organization_page
def client_search(request: HttpRequest) -> HttpResponse:
    form = ClientSearchForm(request.GET)
    if not form.is_valid():
        # An over-long search (or a NUL) is the app's own 400, naming the field,
        # never a silent empty search nor the server's raw 414.
        context = {"form": form, "query": "", "page": None, "clients": [], "nav": "clients"}
        return render(request, "records/client_search.html", context, status=400)
    query = form.cleaned_data["q"].strip()
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


def _back_to(client: Client, anchor: str) -> HttpResponse:
    return redirect(reverse("client-detail", args=[client.pk]) + f"#{anchor}")


@require_POST
@client_page
def demographics_edit(request: HttpRequest, client: Client) -> HttpResponse:
    form = DemographicsForm(request.POST, prefix="demographics")
    if form.is_valid():
        try:
            services.update_demographics(actor=request.user, client=client, **form.cleaned_data)
        except InvalidInput as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{client.given_name}'s details are saved.")
            return _back_to(client, "demographics")
    return render_client_page(
        request, client, status=400, demographics_form=form, open_panel="demographics"
    )


@require_POST
@client_page
def care_team_add(request: HttpRequest, client: Client) -> HttpResponse:
    """A provider of a care-team organization adds a colleague of their own."""
    form = AddColleagueForm(request.POST, client=client, provider=request.user)
    if form.is_valid():
        colleague = form.cleaned_data["provider"]
        try:
            services.join_care_team(actor=request.user, client=client, provider=colleague)
        except InvalidInput as error:
            add_errors(form, error)
        except Conflict as error:
            form.add_error("provider", error.message)
        else:
            messages.success(request, f"{colleague.display_name} is on the care team.")
            return _back_to(client, "care-team")
    return render_client_page(
        request, client, status=400, colleague_form=form, open_panel="care-team"
    )


@require_POST
@client_page
def care_team_leave(request: HttpRequest, client: Client, provider_id: str) -> HttpResponse:
    membership = get_object_or_404(active_care_team(client), provider_id=parse_int_id(provider_id))
    provider = membership.provider
    services.leave_care_team(actor=request.user, client=client, provider=provider)
    if provider.pk == request.user.pk:
        messages.success(request, f"You left {client.given_name}'s case; it stays in the history.")
    else:
        messages.success(request, f"{provider.display_name} left the case.")
    # Leaving may end the organization's access: then the client page is a 404.
    if services.organization_on_care_team(client, request.user.organization_id):
        return _back_to(client, "care-team")
    return redirect("dashboard")


# The client page's timeline offers "Amend" and "Retract" on the organization's
# own entries and brings each form in only when it is opened (htmx, or this page
# without JavaScript): fifty entries' forms rendered up front cost more than the
# rest of the page (docs/web.md, "Forms brought in when opened").
CHANGE_FORMS = {"amend": AmendEntryForm, "retract": RetractEntryForm}


def _entry_change(request: HttpRequest, client: Client, entry_id: str, verb: str) -> HttpResponse:
    entry = access_entry(request.user, client, entry_id)
    services.check_may_change_entry(request.user, entry, verb)
    form_class, prefix = CHANGE_FORMS[verb], f"{verb}-{entry.pk}"
    if request.method == "GET":
        initial = {"title": entry.title, "body": entry.body} if verb == "amend" else None
        form = form_class(prefix=prefix, initial=initial)
        return _change_form_page(request, client, entry, verb, form)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            if verb == "amend":
                changed = services.amend_entry(
                    provider=request.user, entry=entry, **form.cleaned_data
                )
                messages.success(request, "Entry amended; the original is kept.")
            else:
                changed = services.retract_entry(
                    provider=request.user, entry=entry, reason=form.cleaned_data["reason"]
                )
                messages.success(request, "Entry retracted; its readers see that it was.")
        except InvalidInput as error:
            add_errors(form, error)
        except ApplicationError as error:  # a 409: amended or retracted meanwhile
            messages.error(request, error.message)
            return render_client_page(request, client, status=error.status_code)
        else:
            return _back_to(client, f"entry-{changed.pk}")
    return _change_form_page(request, client, entry, verb, form, status=400)


def _change_form_page(
    request: HttpRequest, client: Client, entry, verb: str, form, status: int = 200
) -> HttpResponse:
    """The amend or retract form of one entry: the fragment the timeline swaps in
    when the entry's "Amend" or "Retract" is opened, or, without htmx (and with a
    rejected form's errors), a page of its own. The amend form carries the
    entry's text, so showing it is a read of the record, audited as one."""
    try:
        services.check_entry_is_current(entry, verb)
    except Conflict as error:
        form, status = None, error.status_code
        conflict = error.message
    else:
        conflict = ""
    record_access(request.user, client, Action.ENTRY_READ)
    context = {"client": client, "entry": entry, "verb": verb, "form": form, "conflict": conflict}
    if htmx_target_is(request, f"{verb}-form-{entry.pk}"):
        return render(request, "records/_entry_change.html", context, status=status)
    return render(request, "records/entry_change.html", context | {"nav": "clients"}, status=status)


@require_http_methods(["GET", "POST"])
@client_page
def entry_amend(request: HttpRequest, client: Client, entry_id: str) -> HttpResponse:
    return _entry_change(request, client, entry_id, "amend")


@require_http_methods(["GET", "POST"])
@client_page
def entry_retract(request: HttpRequest, client: Client, entry_id: str) -> HttpResponse:
    return _entry_change(request, client, entry_id, "retract")


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


def _managed_provider(request: HttpRequest, provider_id: str) -> Provider:
    """A provider of the admin's own organization; anyone else's is a 404."""
    require(
        may_add_providers(request.user, request.user.organization_id),
        "Only organization admins may manage their organization's providers.",
    )
    providers = Provider.objects.filter(organization_id=request.user.organization_id)
    return get_object_or_404(providers, pk=parse_int_id(provider_id))


@require_http_methods(["GET", "POST"])
@organization_page
def provider_detail(request: HttpRequest, provider_id: str) -> HttpResponse:
    """An organization admin's page for one of their providers: name and role,
    a new password, deactivation of someone who left."""
    provider = _managed_provider(request, provider_id)
    edit_form = EditProviderForm(initial={"full_name": provider.full_name, "role": provider.role})
    password_form = ResetPasswordForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "edit":
                edit_form = EditProviderForm(request.POST)
                if edit_form.is_valid():
                    services.update_provider(
                        actor=request.user, provider=provider, **edit_form.cleaned_data
                    )
                    messages.success(request, f"{provider.display_name}'s account is saved.")
                    return redirect("provider-detail", provider_id=provider.pk)
            elif action == "password":
                password_form = ResetPasswordForm(request.POST)
                if password_form.is_valid():
                    services.reset_password(
                        actor=request.user,
                        provider=provider,
                        password=password_form.cleaned_data["password"],
                    )
                    messages.success(request, "New password set; their other sessions ended.")
                    return redirect("provider-detail", provider_id=provider.pk)
            elif action == "deactivate":
                accounts_services.deactivate(actor=request.user, provider=provider)
                messages.success(
                    request,
                    f"{provider.display_name} is deactivated: signed out everywhere, and their "
                    "name stays on what they wrote.",
                )
                return redirect("provider-detail", provider_id=provider.pk)
        except InvalidInput as error:
            add_errors(password_form if action == "password" else edit_form, error)
        except Conflict as error:
            messages.error(request, error.message)
        status = 400
    provider.refresh_from_db()
    cases = provider.memberships.filter(ended_at__isnull=True).count()
    return render(
        request,
        "records/provider_detail.html",
        {
            "nav": "providers",
            "provider": provider,
            "cases": cases,
            "edit_form": edit_form,
            "password_form": password_form,
            "is_self": provider.pk == request.user.pk and not is_system_admin(request.user),
        },
        status=status,
    )
