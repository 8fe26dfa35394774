"""Web pages of the measures app: the questionnaire, and the organization's
registry (the client page's chart and banner are panels, in `panels.py`).

Thin like the API views: sign-in, the gate, one service or selector, a template.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.pages import client_page
from core.audit import Action, record_access
from core.errors import InvalidInput
from core.pages import add_errors, htmx_target_is, organization_page, require
from core.permissions import may_read_entries
from measures import services
from measures.forms import QuestionnaireForm
from measures.instruments import INSTRUMENTS, PHQ9, Instrument, instrument_codes, instrument_named
from measures.selectors import STATUS_ORDER, RegistryRows, registry
from records.models import Client

REGISTRY_PAGE_SIZE = 50
NOT_FOR_YOUR_ROLE = "Your role does not read assessments or the registry."


def _instrument(request: HttpRequest) -> Instrument:
    code = request.GET.get("instrument") or PHQ9.code
    instrument = instrument_named(code)
    if instrument is None:
        raise InvalidInput(
            {
                "instrument": f'"{code}" is not an instrument. '
                f"Use one of: {', '.join(instrument_codes())}."
            }
        )
    return instrument


@require_http_methods(["GET", "POST"])
@client_page
def assessment_new(request: HttpRequest, client: Client) -> HttpResponse:
    """The questionnaire: one radio group per item; on save, the score and
    severity (and, for a safety item answered above 0, who was alerted)."""
    require(may_read_entries(request.user), NOT_FOR_YOUR_ROLE)
    instrument = _instrument(request)
    form = QuestionnaireForm(instrument, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.record_assessment(
                provider=request.user, client=client, **form.service_fields()
            )
        except InvalidInput as error:
            add_errors(form, error)
        else:
            band = instrument.band_of(assessment.score)
            messages.success(
                request,
                f"{instrument.name} recorded for {client}: score {assessment.score} of "
                f"{instrument.max_score}, {band.label.lower()}.",
            )
            if instrument.raises_safety_alert(assessment.answers):
                messages.warning(
                    request,
                    f"Item {instrument.safety_item} was answered above 0. The other care-team "
                    "providers who may see this assessment have a safety alert in their inbox. "
                    "Follow your organization's suicide-risk protocol.",
                )
            return redirect(reverse("client-detail", args=[client.pk]) + "#measures")
    # The page names the client: a read of the record like the client page.
    record_access(request.user, client, Action.CLIENT_READ)
    return render(
        request,
        "measures/questionnaire.html",
        {
            "nav": "clients",
            "client": client,
            "instrument": instrument,
            "instruments": list(INSTRUMENTS.values()),
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "")
    return int(raw) if raw.isascii() and raw.isdecimal() and 1 <= int(raw) <= 10**9 else 1


@require_GET
@organization_page
def registry_page(request: HttpRequest) -> HttpResponse:
    """The organization's registry for one instrument: the summary by status,
    the rows in the API's order (not improving and no follow-up first), a
    status filter; each client links to their page."""
    provider = request.user
    require(may_read_entries(provider), NOT_FOR_YOUR_ROLE)
    instrument = _instrument(request)
    statuses = [each.value for each in STATUS_ORDER]
    wanted = request.GET.get("status") or None
    if wanted is not None and wanted not in statuses:
        raise InvalidInput({"status": f'"{wanted}" is not a status.'})
    number = _page_number(request)
    offset = (number - 1) * REGISTRY_PAGE_SIZE
    result = registry(provider, instrument, status=wanted, offset=offset, limit=REGISTRY_PAGE_SIZE)
    if not result.rows and number > 1:  # past the end: the last page, as other lists do
        number = max(1, -(-result.total // REGISTRY_PAGE_SIZE))
        offset = (number - 1) * REGISTRY_PAGE_SIZE
        result = registry(
            provider, instrument, status=wanted, offset=offset, limit=REGISTRY_PAGE_SIZE
        )
    page = Paginator(RegistryRows(result, offset), REGISTRY_PAGE_SIZE).page(number)
    rows = list(page.object_list)
    record_access(provider, [Client(pk=row.client_id) for row in rows], Action.REGISTRY_READ)
    context = {
        "nav": "registry",
        "instrument": instrument,
        "instruments": list(INSTRUMENTS.values()),
        "statuses": [
            {"value": each.value, "label": each.label, "count": result.summary[each.value]}
            for each in STATUS_ORDER
        ],
        "all_count": sum(result.summary.values()),
        "wanted": wanted or "",
        "page": page,
        "rows": rows,
    }
    if htmx_target_is(request, "registry"):
        return render(request, "measures/_registry.html", context)
    return render(request, "measures/registry.html", context)
