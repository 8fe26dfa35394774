"""Web pages of the consent app: recording and revoking the client's decisions,
applying a policy, emergency access, consent policies and a client's access log."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.lookups import access_client_for_audit, access_directive
from access.pages import client_page
from consent import services
from consent.forms import (
    ApplyPolicyForm,
    ConsentPolicyForm,
    DirectiveForm,
    EmergencyAccessForm,
    PolicyRuleFormSet,
    grantee_value,
)
from consent.models import ConsentPolicy, ConsentPolicyRule
from consent.selectors import access_log, live_policies
from core.audit import Action, record_access
from core.errors import Conflict, InvalidInput
from core.pages import add_errors, require, signed_in_page
from core.panels import render_client_page
from core.permissions import may_edit_policies, may_read_access_log
from core.vocabulary import Category
from records.models import Client

ACCESS_LOG_PAGE_SIZE = 100


def _consent_panel(client: Client) -> str:
    return reverse("client-detail", args=[client.pk]) + "#consent"


@require_POST
@client_page
def consent_record(request: HttpRequest, client: Client) -> HttpResponse:
    form = DirectiveForm(request.POST)
    if not form.is_valid():
        return render_client_page(
            request, client, status=400, directive_form=form, open_panel="consent"
        )
    directive = services.record_consent(
        provider=request.user, client=client, **form.service_fields()
    )
    messages.success(request, f"The client's decision to {directive.effect} was recorded.")
    return redirect(_consent_panel(client))


@require_POST
@client_page
def consent_apply_policy(request: HttpRequest, client: Client) -> HttpResponse:
    form = ApplyPolicyForm(request.POST)
    if not form.is_valid():
        return render_client_page(
            request, client, status=400, policy_form=form, open_panel="consent"
        )
    policy = form.cleaned_data["policy"]
    directives = services.apply_consent_policy(provider=request.user, client=client, policy=policy)
    messages.success(
        request, f"Policy “{policy.name}” applied: {len(directives)} directives recorded."
    )
    return redirect(_consent_panel(client))


@require_POST
@signed_in_page
def consent_revoke(request: HttpRequest, consent_id: str) -> HttpResponse:
    # A directive of a client off the caller's care teams does not exist for them.
    directive = access_directive(request.user, consent_id)
    client = directive.client
    try:
        services.revoke_consent(provider=request.user, directive=directive)
    except Conflict as error:
        messages.error(request, error.message)
        return render_client_page(request, client, status=409, open_panel="consent")
    messages.success(request, "The consent directive is revoked. It applies from now on.")
    return redirect(_consent_panel(client))


@require_POST
@client_page
def emergency_access_grant(request: HttpRequest, client: Client) -> HttpResponse:
    form = EmergencyAccessForm(request.POST)
    if form.is_valid():
        try:
            grant = services.grant_emergency_access(
                provider=request.user, client=client, reason=form.cleaned_data["reason"]
            )
        except InvalidInput as error:
            add_errors(form, error)
        else:
            until = formats.date_format(timezone.localtime(grant.expires_at), "DATETIME_FORMAT")
            messages.warning(
                request,
                f"Emergency access is active until {until}. Every record you open is marked, "
                "and the privacy officers are told.",
            )
            return redirect("client-detail", client_id=client.pk)
    return render_client_page(
        request, client, status=400, emergency_form=form, open_panel="emergency"
    )


@require_GET
@signed_in_page
def access_log_view(request: HttpRequest, client_id: str) -> HttpResponse:
    """A client's access log: privacy officers of care-team organizations, and
    system admins for any client (as in the API)."""
    client = access_client_for_audit(request.user, client_id)
    require(
        may_read_access_log(request.user),
        "Only privacy officers and system admins may read the access log.",
    )
    page = Paginator(access_log(client), ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    record_access(request.user, client, Action.ACCESS_LOG_READ)
    return render(
        request,
        "consent/access_log.html",
        {"client": client, "page": page, "events": page.object_list, "nav": "clients"},
    )


# --- consent policies -------------------------------------------------------------------


def _require_policy_editor(request: HttpRequest) -> None:
    require(
        may_edit_policies(request.user),
        "Only privacy officers and system admins may change consent policies.",
    )


@require_GET
@signed_in_page
def consent_policy_list(request: HttpRequest) -> HttpResponse:
    policies = (
        live_policies()
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("rules", ConsentPolicyRule.objects.select_related("grantee_organization"))
        )
    )
    return render(
        request,
        "consent/policy_list.html",
        {
            "policies": policies,
            "may_edit": may_edit_policies(request.user),
            "category_choices": Category,
            "nav": "policies",
        },
    )


def _rule_initial(policy: ConsentPolicy) -> list[dict]:
    return [
        {
            "effect": rule.effect,
            "grantee": grantee_value(rule.grantee_organization_id, rule.grantee_sector),
            "categories": rule.categories,
        }
        for rule in policy.rules.all()
    ]


@require_http_methods(["GET", "POST"])
@signed_in_page
def consent_policy_edit(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    _require_policy_editor(request)
    policy = get_object_or_404(live_policies(), pk=policy_id) if policy_id else None
    if request.method == "POST":
        form = ConsentPolicyForm(request.POST)
        rules = PolicyRuleFormSet(request.POST, prefix="rules")
        if form.is_valid() and rules.is_valid():
            try:
                saved = services.save_consent_policy(
                    policy=policy,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    rules=rules.rules(),
                )
            except InvalidInput as error:
                add_errors(form, error)
            else:
                messages.success(request, f"Consent policy “{saved.name}” saved.")
                return redirect("consent-policy-list")
        status = 400
    else:
        initial = {"name": policy.name, "description": policy.description} if policy else None
        form = ConsentPolicyForm(initial=initial)
        rules = PolicyRuleFormSet(prefix="rules", initial=_rule_initial(policy) if policy else None)
        status = 200
    return render(
        request,
        "consent/policy_form.html",
        {"form": form, "rules": rules, "policy": policy, "nav": "policies"},
        status=status,
    )
