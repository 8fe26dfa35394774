"""The measures app's panels of the client page (see core.panels):

- `safety-alert` (banner): the latest assessment the viewer may see that
  raised a safety alert, unmissable above everything else;
- `measures` (main column): a trend chart per instrument — only the scores
  the viewer may see, with the severity bands behind and the same numbers as
  a table — the withheld notice for assessments, and the way to record one.

Both read `visible_assessments` once per page (kept on the request).
"""

from typing import Any

from django.http import HttpRequest

from core.panels import BANNER, MAIN, ClientPanel, register_panel
from core.permissions import may_read_entries
from measures.charts import trend_chart
from measures.instruments import INSTRUMENTS
from measures.models import Assessment
from measures.selectors import assessment_withheld_count, visible_assessments
from records.models import Client

# The chart shows at most this many of a client's latest scores.
CHART_POINTS = 100


def _visible(request: HttpRequest, client: Client) -> list[Assessment]:
    """The viewer's visible assessments of the client, newest first: one query
    for both panels of a page."""
    key = f"_assessments_{client.pk}"
    if key not in request.__dict__:
        request.__dict__[key] = list(
            visible_assessments(request.user, client)[: CHART_POINTS * len(INSTRUMENTS)]
        )
    return request.__dict__[key]


def _safety_banner(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    concerns = []
    seen: set[str] = set()
    for assessment in _visible(request, client):  # newest first
        if assessment.instrument in seen:
            continue
        seen.add(assessment.instrument)
        instrument = INSTRUMENTS.get(assessment.instrument)
        if instrument is not None and instrument.raises_safety_alert(assessment.answers):
            item = instrument.safety_item
            concerns.append(
                {
                    "assessment": assessment,
                    "instrument": instrument,
                    "item": item,
                    "item_text": instrument.items[item - 1].text,
                    "answer": instrument.answer_label(assessment.answers[item - 1]),
                }
            )
    return {"concerns": concerns}


def _measures(request: HttpRequest, client: Client, forms: dict[str, Any]) -> dict:
    by_instrument: dict[str, list[Assessment]] = {}
    for assessment in _visible(request, client):
        by_instrument.setdefault(assessment.instrument, []).append(assessment)
    charts = [
        trend_chart(instrument, by_instrument[code][:CHART_POINTS])
        for code, instrument in INSTRUMENTS.items()
        if code in by_instrument
    ]
    return {
        "charts": charts,
        "may_record": may_read_entries(request.user),
        # Rule 5, over all the client's assessments.
        "withheld_assessments": assessment_withheld_count(request.user, client),
    }


register_panel(
    ClientPanel("safety-alert", BANNER, 5, "measures/_safety_banner.html", _safety_banner)
)
register_panel(ClientPanel("measures", MAIN, 5, "measures/_measures.html", _measures))
