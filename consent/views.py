"""Provider web pages of the consent app: the consent panel of the client page,
emergency access, consent policies and a client's access log."""

from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carelink.web import client_or_404, provider_view, require
from consent import services
from consent.forms import (
    ApplyPolicyForm,
    ConsentPolicyForm,
    DirectiveForm,
    EmergencyAccessForm,
    PolicyRuleFormSet,
    grantee_value,
)
from consent.models import ConsentDirective, ConsentPolicy, ConsentPolicyRule
from consent.selectors import access_log, live_policies, may_read_access_log
from consent.services import TransitionNotAllowed, record_access
from records.models import Category, Client, Role
from records.views import render_client_page

ACCESS_LOG_PAGE_SIZE = 100


def _consent_panel(client: Client) -> str:
    return reverse("client-detail", args=[client.pk]) + "#consent"


@require_POST
@provider_view
def consent_record(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = client_or_404(request.user, client_id)
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
@provider_view
def consent_apply_policy(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = client_or_404(request.user, client_id)
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
@provider_view
def consent_revoke(request: HttpRequest, consent_id: UUID) -> HttpResponse:
    directive = ConsentDirective.objects.filter(pk=consent_id).first()
    if directive is None:
        raise Http404("No consent directive found.")
    # A directive of a client off the caller's care teams does not exist for them.
    client = client_or_404(request.user, directive.client_id)
    try:
        services.revoke_consent(provider=request.user, directive=directive)
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
        return render_client_page(request, client, status=409, open_panel="consent")
    messages.success(request, "The consent directive is revoked. It applies from now on.")
    return redirect(_consent_panel(client))


@require_POST
@provider_view
def emergency_access_grant(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = client_or_404(request.user, client_id)
    form = EmergencyAccessForm(request.POST)
    if not form.is_valid():
        return render_client_page(
            request, client, status=400, emergency_form=form, open_panel="emergency"
        )
    grant = services.grant_emergency_access(
        provider=request.user, client=client, reason=form.cleaned_data["reason"]
    )
    until = formats.date_format(timezone.localtime(grant.expires_at), "DATETIME_FORMAT")
    messages.warning(
        request,
        f"Emergency access is active until {until}. Every record you open is marked, "
        "and the privacy officers are told.",
    )
    return redirect("client-detail", client_id=client.pk)


@require_GET
@provider_view
def access_log_view(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """A client's access log: privacy officers of care-team organizations, and
    system admins for any client (as in the API)."""
    if request.user.is_superuser:
        client = get_object_or_404(Client, pk=client_id)
    else:
        client = client_or_404(request.user, client_id)
    require(
        may_read_access_log(request.user),
        "Only privacy officers and system admins may read the access log.",
    )
    page = Paginator(access_log(client), ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    record_access(request.user, client, "web.access_log.read")
    return render(
        request,
        "consent/access_log.html",
        {"client": client, "page": page, "events": page.object_list, "nav": "clients"},
    )


# --- consent policies -------------------------------------------------------------------


def _may_edit_policies(request: HttpRequest) -> bool:
    return request.user.is_superuser or request.user.role == Role.PRIVACY_OFFICER


def _require_policy_editor(request: HttpRequest) -> None:
    require(
        _may_edit_policies(request),
        "Only privacy officers and system admins may change consent policies.",
    )


@require_GET
@provider_view
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
            "may_edit": _may_edit_policies(request),
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
@provider_view
def consent_policy_edit(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    _require_policy_editor(request)
    policy = get_object_or_404(live_policies(), pk=policy_id) if policy_id else None
    if request.method == "POST":
        form = ConsentPolicyForm(request.POST, policy=policy)
        rules = PolicyRuleFormSet(request.POST, prefix="rules")
        if form.is_valid() and rules.is_valid():
            saved = services.save_consent_policy(
                policy=policy,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                rules=rules.rules(),
            )
            messages.success(request, f"Consent policy “{saved.name}” saved.")
            return redirect("consent-policy-list")
        status = 400
    else:
        initial = {"name": policy.name, "description": policy.description} if policy else None
        form = ConsentPolicyForm(initial=initial, policy=policy)
        rules = PolicyRuleFormSet(prefix="rules", initial=_rule_initial(policy) if policy else None)
        status = 200
    return render(
        request,
        "consent/policy_form.html",
        {"form": form, "rules": rules, "policy": policy, "nav": "policies"},
        status=status,
    )
