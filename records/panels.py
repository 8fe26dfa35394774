"""The records app's panels of the client page: timeline, adding an entry,
demographics and the care team (see core.panels)."""

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest

from consent.selectors import (
    entry_counts,
    entry_visibility_q,
    visible_entries,
    visible_entry_versions,
)
from core.panels import MAIN, SIDE, ClientPanel, register_panel
from core.permissions import may_read_entries
from records.forms import (
    AddColleagueForm,
    DemographicsForm,
    EntryForm,
    TimelineFilterForm,
)
from records.models import CareTeamMembership, Client
from records.selectors import active_care_team

# Entry text longer than this is folded behind "Show more".
FOLD_AFTER = 600

TIMELINE_PAGE_SIZE = 50

# What the organization may do to its own entries, each a form brought in when
# opened (the URL names are entry-amend and entry-retract).
CHANGE_VERBS = (("amend", "Amend"), ("retract", "Retract"))


def _timeline(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    provider = request.user
    if not may_read_entries(provider):
        # Minimum necessary: the panel says why instead of listing (the engine
        # would list nothing, and the withheld count would only say "all").
        return {"reads_entries": False}
    filter_form = TimelineFilterForm(request.GET)
    category = filter_form.cleaned_data["category"] if filter_form.is_valid() else ""
    # Rules 2–4 decided once for the page, its counts and its earlier versions.
    visibility = entry_visibility_q(provider, client=client)
    entries = visible_entries(provider, client, visibility)
    if category:
        entries = entries.filter(category=category)
    timeline = Paginator(entries, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(timeline.object_list)
    _attach_versions(provider, client, rows, visibility)
    return {
        "timeline": timeline,
        "entries": rows,
        "filter_form": filter_form,
        "category": category,
        # Rule 5: over all the client's entries, whatever the filter.
        "withheld": entry_counts(provider, client, visibility=visibility)[1],
        "reads_entries": True,
        "fold_after": FOLD_AFTER,
        "change_verbs": CHANGE_VERBS,
    }


def _attach_versions(provider, client: Client, rows: list, visibility: Q) -> None:
    """Each amended entry's previous version (one query for the page, through
    the engine, with the timeline's decision `visibility`), and whether the
    organization may amend or retract the entry. The forms themselves come only
    when one is opened (`records.views.entry_amend`, `entry_retract`)."""
    previous_ids = [entry.amends_id for entry in rows if entry.amends_id]
    versions = (
        visible_entry_versions(provider, client, visibility).filter(pk__in=previous_ids)
        if previous_ids
        else []
    )
    previous = {version.pk: version for version in versions}
    for entry in rows:
        entry.previous = previous.get(entry.amends_id)
        entry.folded = len(entry.body) > FOLD_AFTER
        entry.changeable = (
            entry.organization_id == provider.organization_id and not entry.retracted_at
        )


def _add_entry(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    return {
        "entry_form": forms.get("entry_form") or EntryForm(),
        "reads_entries": may_read_entries(request.user),
    }


def _demographics(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    return {"demographics_form": forms.get("demographics_form") or DemographicsForm.of(client)}


def _care_team(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    """Who is on the case now (with how each began), who was (the history), and
    adding a colleague; leaving is offered to the provider and their colleagues."""
    viewer = request.user
    team = list(active_care_team(client))
    for member in team:
        member.may_end = (
            member.provider_id == viewer.pk or member.organization_id == viewer.organization_id
        )
    history = (
        CareTeamMembership.objects.filter(client=client, ended_at__isnull=False)
        .select_related("provider", "organization", "ended_by")
        .order_by("-ended_at", "-id")
    )
    return {
        "care_team": team,
        "history": history,
        "colleague_form": forms.get("colleague_form")
        or AddColleagueForm(client=client, provider=viewer),
    }


register_panel(ClientPanel("timeline", MAIN, 10, "records/_timeline.html", _timeline))
register_panel(ClientPanel("add-entry", MAIN, 20, "records/_add_entry.html", _add_entry))
register_panel(ClientPanel("demographics", SIDE, 10, "records/_demographics.html", _demographics))
register_panel(ClientPanel("care-team", SIDE, 20, "records/_care_team.html", _care_team))
