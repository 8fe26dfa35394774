"""Web pages of the consent app: recording and revoking the client's decisions,
applying a policy, emergency access, consent policies and a client's access log."""

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.lookups import access_client_for_audit, access_directive, access_emergency_access
from access.pages import client_page
from consent import services
from consent.forms import (
    AccessLogFilterForm,
    ApplyPolicyForm,
    ConsentPolicyForm,
    DirectiveForm,
    EmergencyAccessForm,
    EmergencyReviewForm,
    PolicyRuleFormSet,
    grantee_value,
)
from consent.models import ConsentPolicy, ConsentPolicyRule, EmergencyAccessReview
from consent.selectors import (
    access_log,
    access_log_pages,
    emergency_review_queue,
    live_policies,
    reads_under,
)
from core.audit import Action, action_label, record_access
from core.errors import Conflict, InvalidInput
from core.pages import add_errors, organization_page, require, signed_in_page
from core.panels import render_client_page, render_panel_form
from core.permissions import (
    may_edit_policies,
    may_read_access_log,
    may_review_emergency_access,
)
from core.vocabulary import Category
from records.models import Client

ACCESS_LOG_PAGE_SIZE = 100


def _consent_panel(client: Client) -> str:
    return reverse("client-detail", args=[client.pk]) + "#consent"


@require_http_methods(["GET", "POST"])
@client_page
def consent_record(request: HttpRequest, client: Client) -> HttpResponse:
    """Recording the client's decision: the forms the client page's consent
    panel brings in when "Record the client's decision" is opened (the
    grantee list names every organization of the province), or, without htmx
    and with a rejected form's errors, a page of their own."""
    if request.method == "GET":
        return _consent_forms(request, client)
    form = DirectiveForm(request.POST)
    if not form.is_valid():
        return _consent_forms(request, client, directive_form=form, status=400)
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
        return _consent_forms(request, client, policy_form=form, status=400)
    policy = form.cleaned_data["policy"]
    directives = services.apply_consent_policy(provider=request.user, client=client, policy=policy)
    messages.success(
        request, f"Policy “{policy.name}” applied: {len(directives)} directives recorded."
    )
    return redirect(_consent_panel(client))


def _consent_forms(
    request: HttpRequest,
    client: Client,
    directive_form: DirectiveForm | None = None,
    policy_form: ApplyPolicyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render_panel_form(
        request,
        client,
        targets=("consent-forms",),
        fragment="consent/_consent_forms.html",
        page="consent/consent_forms.html",
        context={
            "directive_form": directive_form or DirectiveForm(),
            "policy_form": policy_form or ApplyPolicyForm(),
            "has_policies": live_policies().exists(),
        },
        status=status,
    )


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


def _filtered_access_log(request: HttpRequest, client: Client):
    """The client's access log and the filter form over it (people and
    organizations offered are those that appear in this log)."""
    events = access_log(client)
    people = [
        (str(pk), name or username)
        for pk, name, username in events.order_by()
        .values_list("actor_id", "actor__full_name", "actor__username")
        .distinct()
    ]
    organizations = [
        (str(pk), name)
        for pk, name in events.order_by()
        .exclude(organization__isnull=True)
        .values_list("organization_id", "organization__name")
        .distinct()
    ]
    form = AccessLogFilterForm(
        request.GET or None,
        people=sorted(set(people), key=lambda p: p[1]),
        organizations=sorted(set(organizations), key=lambda o: o[1]),
        actions=Action.choices,
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["person"]:
            events = events.filter(actor_id=data["person"])
        if data["organization"]:
            events = events.filter(organization_id=data["organization"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
    return events, form


def _access_log_csv(client: Client, events) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"access-log-{client.family_name}-{client.given_name}-{timezone.localdate()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(["when", "who", "organization", "action", "through", "emergency"])
    for event in events.iterator():
        who = event.actor.display_name
        organization = (
            "the client"
            if event.by_client
            else (event.organization.name if event.organization else "")
        )
        writer.writerow(
            [
                timezone.localtime(event.at).isoformat(timespec="seconds"),
                _csv_safe(who),
                _csv_safe(organization),
                action_label(event.action),
                event.channel,
                "yes" if event.emergency else "no",
            ]
        )
    return response


def _csv_safe(text: str) -> str:
    """A name that a spreadsheet would run as a formula is written as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


@require_GET
@signed_in_page
def access_log_view(request: HttpRequest, client_id: str) -> HttpResponse:
    """A client's access log: privacy officers of care-team organizations, and
    system admins for any client (as in the API). In plain words, filterable by
    person, organization, action and dates, and as CSV (the filtered rows)."""
    client = access_client_for_audit(request.user, client_id)
    require(
        may_read_access_log(request.user),
        "Only privacy officers and system admins may read the access log.",
    )
    events, form = _filtered_access_log(request, client)
    if request.GET.get("format") == "csv" and not form.errors:
        record_access(request.user, client, Action.ACCESS_LOG_READ)
        return _access_log_csv(client, events)
    pages = Paginator(access_log_pages(events), ACCESS_LOG_PAGE_SIZE)
    page = pages.get_page(request.GET.get("page"))
    record_access(request.user, client, Action.ACCESS_LOG_READ)
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    return render(
        request,
        "consent/access_log.html",
        {
            "client": client,
            "page": page,
            "events": page.object_list,
            "filter_form": form,
            "csv_query": query.urlencode(),
            "nav": "clients",
        },
        status=400 if form.errors else 200,
    )


# --- the privacy officer's desk ---------------------------------------------------------


@require_GET
@organization_page
def privacy_desk(request: HttpRequest) -> HttpResponse:
    """Emergency accesses on the organization's clients waiting for review
    (reason, who, when, what was read), or those reviewed already."""
    officer = request.user
    require(may_review_emergency_access(officer), "Only privacy officers have this desk.")
    show = "reviewed" if request.GET.get("show") == "reviewed" else "waiting"
    grants = emergency_review_queue(officer, reviewed=show == "reviewed")
    page = Paginator(grants, ACCESS_LOG_PAGE_SIZE // 2).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    reads = reads_under(rows)
    reviews = {
        review.emergency_access_id: review
        for review in EmergencyAccessReview.objects.filter(
            emergency_access__in=rows, organization_id=officer.organization_id
        ).select_related("reviewed_by")
    }
    for grant in rows:
        grant.reads = reads[grant.pk]
        grant.review = reviews.get(grant.pk)
        grant.form = EmergencyReviewForm(prefix=f"review-{grant.pk}")
    record_access(officer, [grant.client for grant in rows], Action.EMERGENCY_ACCESS_LIST)
    return render(
        request,
        "consent/privacy_desk.html",
        {"nav": "privacy", "show": show, "page": page, "grants": rows, "now": timezone.now()},
    )


@require_POST
@organization_page
def emergency_access_acknowledge(request: HttpRequest, grant_id: str) -> HttpResponse:
    grant = access_emergency_access(request.user, grant_id)
    form = EmergencyReviewForm(request.POST, prefix=f"review-{grant.pk}")
    if form.is_valid():
        try:
            services.acknowledge_emergency_access(
                officer=request.user, grant=grant, note=form.cleaned_data["note"]
            )
        except InvalidInput as error:
            messages.error(request, " ".join(error.fields.get("note", [error.message])))
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"Emergency access on {grant.client} reviewed; your note is kept."
            )
    else:
        messages.error(request, "Write a note on what you found before acknowledging.")
    return redirect("privacy-desk")


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
