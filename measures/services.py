"""Writes of the measures app: recording an assessment.

One transaction holds the entry (through `records.services.create_entry`),
the assessment row, the audit row and the routing events. The safety alert's
recipients are decided here, once, by the consent engine, so the partition
between `safety_alert` and `entry_added` can neither leak nor double
(docs/measures.md).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from consent.selectors import providers_who_may_see
from core.audit import Action, record_access
from core.errors import InputErrors, NotAllowed
from core.permissions import may_read_entries
from core.vocabulary import Category, EntryKind
from measures import events
from measures.instruments import Instrument, instrument_codes, instrument_named
from measures.models import Assessment
from records import events as record_events
from records.models import Client, Provider
from records.selectors import care_team_at
from records.services import create_entry

# The earliest moment an assessment may be dated (docs/measures.md).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CheckedAssessment:
    instrument: Instrument
    answers: list[int]
    administered_at: datetime


def check_assessment(
    *, instrument: Any, answers: Any, administered_at: datetime | None = None
) -> CheckedAssessment:
    """The rules of an assessment, every bad field at once: a known instrument,
    its number of answers each on its scale, and a time from 1900 to now
    (none means now)."""
    errors = InputErrors()
    declaration = instrument_named(instrument)
    if declaration is None:
        errors.add(
            "instrument",
            f'"{instrument}" is not an instrument. Use one of: {", ".join(instrument_codes())}.',
        )
    else:
        for problem in declaration.check_answers(answers):
            errors.add("answers", problem)
    now = timezone.now()
    if administered_at is not None:
        errors.check(
            "administered_at", administered_at <= now, "An assessment cannot be in the future."
        )
        errors.check(
            "administered_at",
            administered_at >= EARLIEST,
            "An assessment cannot be dated before 1900-01-01.",
        )
    errors.raise_if_any()
    return CheckedAssessment(declaration, list(answers), administered_at or now)


def _other_care_team_providers(client: Client, actor: Provider, at: datetime):
    """The active providers on the case at that moment, the author left out —
    the same people `entry_added` would reach."""
    return Provider.objects.filter(
        is_active=True, pk__in=care_team_at(client.pk, at).values("provider_id")
    ).exclude(pk=actor.pk)


@transaction.atomic
def record_assessment(
    *,
    provider: Provider,
    client: Client,
    instrument: str,
    answers: list[int],
    administered_at: datetime | None = None,
) -> Assessment:
    """Score the answers and write them to the shared record.

    The entry is an ordinary entry of kind `assessment`, category
    `mental_health`, so consent governs it (and the assessment) like any entry.
    `client` must come from the gate (a care-team organization's provider).

    When the instrument's safety item is answered above 0, the other care-team
    providers who may see the entry — asked of the consent engine now, in this
    transaction — get `safety_alert`, and every other one `entry_added`; without
    it, `entry_added` goes to all of them, as for any entry.
    """
    if not may_read_entries(provider):
        raise NotAllowed("Your role does not record or read assessments.")
    checked = check_assessment(
        instrument=instrument, answers=answers, administered_at=administered_at
    )
    declaration = checked.instrument
    score = declaration.score(checked.answers)
    band = declaration.band_of(score)
    entry = create_entry(
        client=client,
        author=provider,
        category=Category.MENTAL_HEALTH,
        kind=EntryKind.ASSESSMENT,
        title=declaration.title_for(score),
        body=declaration.summary_of(checked.answers),
        data={
            "instrument": declaration.code,
            "answers": checked.answers,
            "score": score,
            "severity": band.severity,
        },
        occurred_at=checked.administered_at,
    )
    assessment = Assessment.objects.create(
        entry=entry,
        instrument=declaration.code,
        answers=checked.answers,
        score=score,
        severity=band.severity,
        administered_at=checked.administered_at,
    )
    record_access(provider, client, Action.ASSESSMENT_CREATE)
    alerted: list[int] = []
    if declaration.raises_safety_alert(checked.answers):
        others = _other_care_team_providers(client, provider, entry.created_at)
        alerted = list(providers_who_may_see(entry, others).values_list("pk", flat=True))
        if alerted:
            events.safety_alert(assessment, actor=provider, recipients=alerted)
    record_events.entry_added(entry, actor=provider, told_elsewhere=alerted)
    return assessment
