"""The demo's measurement-based care: called once by `manage.py load_demo`
(`measures.demo.load(self)`), inside its transaction, after the three stories.

- Ana: PHQ-9 severe when her family doctor first measured her, then
  responding on sertraline; her first score at the mental-health centre,
  taken at the intake call, the latest.
- Marcus: PHQ-9 at the clinic, not improving (a case for review).
- Leo: GAD-7 with his psychologist, improving but not yet responding.
- The centre's own caseload, so that its registry shows every status for
  PHQ-9 and for GAD-7 — including one client whose item 9 raised a safety
  alert (the banner on her page, the alert in her care coordinator's inbox).

Everything goes through `measures.services.record_assessment`, so entries,
audit and notifications are what real use would leave.
"""

from datetime import date
from typing import Any

from measures.instruments import GAD7, PHQ9, Instrument
from measures.services import record_assessment
from records.models import Client

CENTRE = "Eastside Community Mental Health"

# (given, family, birth date, health card, PHQ-9 series, GAD-7 series); a series
# is (days ago, score) pairs, oldest first; "!" after a score: item 9 above 0.
CASELOAD: list[tuple[str, str, date, str, list, list]] = [
    (
        "Priya",
        "Shah",
        date(1979, 6, 3),
        "6120-554-018",
        [(95, 19), (67, 18), (39, 18), (11, 17)],
        [(95, 15), (11, 14)],
    ),
    ("Tom", "Becker", date(1988, 11, 21), "6120-554-026", [(70, 15), (42, 16), (9, 15)], []),
    ("Nadia", "Rahman", date(1995, 2, 9), "6120-554-034", [(75, 17), (45, 13)], []),
    ("Omar", "Haddad", date(1971, 8, 30), "6120-554-042", [(40, 12)], [(40, 10)]),
    (
        "Lena",
        "Fischer",
        date(2001, 4, 17),
        "6120-554-059",
        [(24, 16), (10, 12)],
        [(24, 14), (10, 9)],
    ),
    ("Sofia", "Rossi", date(1999, 12, 5), "6120-554-067", [(5, "15!")], [(5, 16)]),
    (
        "Daniel",
        "Okoro",
        date(1983, 1, 28),
        "6120-554-075",
        [(84, 20), (56, 15), (28, 11), (6, 9)],
        [(84, 12), (6, 5)],
    ),
    (
        "Mei",
        "Chen",
        date(1990, 10, 12),
        "6120-554-083",
        [(100, 13), (70, 9), (40, 6), (12, 4)],
        [(100, 11), (12, 3)],
    ),
]


def answers_for(instrument: Instrument, score: int, *, safety: bool = False) -> list[int]:
    """Plausible answers that sum to `score`: spread over the items, the
    safety item left at 0 unless `safety` (then answered "Several days")."""
    items = len(instrument.items)
    safety_index = instrument.safety_item - 1 if instrument.safety_item else None
    answers = [0] * items
    if safety and safety_index is not None:
        answers[safety_index] = 1
        score -= 1
    order = [i for i in range(items) if i != safety_index]
    if not 0 <= score <= len(order) * instrument.highest_answer:
        raise ValueError(f"{instrument.name} cannot score {score} this way")
    level = 0
    while score > 0:
        level += 1
        for i in order:
            if score == 0:
                break
            if answers[i] < min(level, instrument.highest_answer):
                answers[i] += 1
                score -= 1
    return answers


def _measure(command: Any, by: str, client: Client, instrument: Instrument, series) -> None:
    for days, score in series:
        safety = isinstance(score, str) and score.endswith("!")
        value = int(str(score).rstrip("!"))
        record_assessment(
            provider=command.people[by],
            client=client,
            instrument=instrument.code,
            answers=answers_for(instrument, value, safety=safety),
            administered_at=command.days_ago(days),
        )


def load(command: Any) -> None:
    """Add the measures to the loaded stories (`command` is load_demo's Command)."""
    ana = Client.objects.get(given_name="Ana", family_name="Silva")
    marcus = Client.objects.get(given_name="Marcus", family_name="Brown")
    leo = Client.objects.get(given_name="Leo", family_name="Tremblay")

    _measure(command, "dr_lee", ana, PHQ9, [(126, 22), (98, 18), (70, 14), (42, 11)])
    _measure(command, "intake_kim", ana, PHQ9, [(2, 9)])
    _measure(command, "dr_cho", marcus, PHQ9, [(84, 16), (56, 15), (28, 15), (6, 14)])
    _measure(command, "psych_fox", leo, GAD7, [(35, 15), (21, 12), (7, 8)])

    for given, family, born, card, phq9, gad7 in CASELOAD:
        client = command.client(
            "dr_osei",
            given_name=given,
            family_name=family,
            birth_date=born,
            health_card_number=card,
        )
        command.join(client, "coord_rivera")
        _measure(command, "dr_osei", client, PHQ9, phq9)
        _measure(command, "coord_rivera", client, GAD7, gad7)
