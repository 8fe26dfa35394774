"""An assessment: a scored questionnaire, one to one with its entry of the shared record.

The entry (kind `assessment`, category `mental_health`) is what consent
governs: whoever may not see the entry does not see the assessment, on any
path, with no rule of its own (docs/measures.md). The assessment row keeps the
answers structured, for scoring, charts, the registry and FHIR.
"""

import uuid
from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q

from measures.instruments import INSTRUMENTS
from records.models import Entry


def _scored_by_its_instrument() -> Q:
    """The score lies in one of its instrument's bands, and the severity is that band's.

    Generated from the declarations: a new instrument changes this constraint,
    and `makemigrations` writes the migration."""
    return reduce(
        or_,
        (
            Q(
                instrument=instrument.code,
                score__gte=band.low,
                score__lte=band.high,
                severity=band.severity,
            )
            for instrument in INSTRUMENTS.values()
            for band in instrument.bands
        ),
    )


class RegistryStatus(models.TextChoices):
    """Where a client stands in the registry, in the order a case review walks it."""

    NOT_IMPROVING = "not_improving", "Not improving"
    NO_FOLLOW_UP = "no_follow_up", "No follow-up"
    IN_TREATMENT = "in_treatment", "In treatment"
    RESPONSE = "response", "Response"
    REMISSION = "remission", "Remission"


class Assessment(models.Model):
    """One administration of an instrument. Never deleted, like its entry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="assessment")
    # A code of measures.instruments; the database checks it with the score below.
    instrument = models.CharField(max_length=16)
    answers = models.JSONField()
    score = models.PositiveSmallIntegerField()
    severity = models.CharField(max_length=32)
    administered_at = models.DateTimeField()

    class Meta:
        ordering = ["-administered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_scored_by_its_instrument(), name="assessment_scored_by_its_instrument"
            ),
        ]
        indexes = [
            models.Index(fields=["instrument", "administered_at"], name="assessment_instrument_at"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.score}"
