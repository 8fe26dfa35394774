"""The records app's panels of the client page: timeline, adding an entry,
demographics and the care team (see core.panels)."""

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest

from consent.selectors import visible_entries, withheld_count
from core.panels import MAIN, SIDE, ClientPanel, register_panel
from core.permissions import may_read_entries
from records.forms import EntryForm, TimelineFilterForm
from records.models import Client
from records.selectors import active_care_team

TIMELINE_PAGE_SIZE = 50


def _timeline(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    provider = request.user
    if not may_read_entries(provider):
        # Minimum necessary: the panel says why instead of listing (the engine
        # would list nothing, and the withheld count would only say "all").
        return {"reads_entries": False}
    filter_form = TimelineFilterForm(request.GET)
    category = filter_form.cleaned_data["category"] if filter_form.is_valid() else ""
    entries = visible_entries(provider, client)
    if category:
        entries = entries.filter(category=category)
    return {
        "timeline": Paginator(entries, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page")),
        "filter_form": filter_form,
        "category": category,
        # Rule 5: over all the client's entries, whatever the filter.
        "withheld": withheld_count(provider, client),
        "reads_entries": True,
    }


def _add_entry(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    return {
        "entry_form": forms.get("entry_form") or EntryForm(),
        "reads_entries": may_read_entries(request.user),
    }


def _demographics(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    return {}


def _care_team(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    return {"care_team": active_care_team(client)}


register_panel(ClientPanel("timeline", MAIN, 10, "records/_timeline.html", _timeline))
register_panel(ClientPanel("add-entry", MAIN, 20, "records/_add_entry.html", _add_entry))
register_panel(ClientPanel("demographics", SIDE, 10, "records/_demographics.html", _demographics))
register_panel(ClientPanel("care-team", SIDE, 20, "records/_care_team.html", _care_team))
