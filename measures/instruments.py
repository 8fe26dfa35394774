"""The standardized questionnaires, as declarations (docs/measures.md).

An instrument is data: its items with their wording, the answer scale, the
severity bands, the LOINC codes, and which item (if any) raises a safety alert.
Scoring, validation, the questionnaire form, the API's description of it, the
chart's bands and the registry all read the declaration, so a third instrument
is one more `Instrument(...)` in `INSTRUMENTS` (and the migration
`makemigrations` then writes for the database's check of scores and bands).

The PHQ-9 and GAD-7 wording and answer labels are reproduced as published
(Spitzer, Williams, Kroenke and colleagues, with an educational grant from
Pfizer Inc.; no permission is required to reproduce, translate, display or
distribute them).
"""

from dataclasses import dataclass
from typing import Any

LOINC = "http://loinc.org"


@dataclass(frozen=True)
class Answer:
    """One point of the answer scale: what the client chose, and what it scores."""

    value: int
    label: str
    loinc: str = ""


@dataclass(frozen=True)
class Item:
    text: str
    loinc: str = ""


@dataclass(frozen=True)
class Band:
    """A severity band: scores from `low` to `high`, both included."""

    severity: str
    label: str
    low: int
    high: int

    def holds(self, score: int) -> bool:
        return self.low <= score <= self.high


@dataclass(frozen=True)
class Instrument:
    """A questionnaire scored by summing its answers.

    - `code`: the API's name (`"phq9"`), stored on every assessment;
    - `question`: the stem every item answers;
    - `bands`: cover 0 to the maximum score without gap or overlap (checked
      when the declaration is loaded);
    - `safety_item`: the 1-based number of the item whose answer above 0
      raises a safety alert, or None;
    - `remission_below`: a latest score below it, on a second assessment or
      later, is remission in the registry.
    """

    code: str
    name: str
    title: str
    question: str
    items: tuple[Item, ...]
    answers: tuple[Answer, ...]
    bands: tuple[Band, ...]
    loinc_total: str
    loinc_panel: str = ""
    safety_item: int | None = None
    remission_below: int = 5
    copyright: str = ""

    def __post_init__(self) -> None:
        values = [answer.value for answer in self.answers]
        if values != sorted(set(values)):
            raise ValueError(f"{self.code}: answer values must be distinct and ascending")
        edges = [(band.low, band.high) for band in self.bands]
        expected_low = 0
        for low, high in edges:
            if low != expected_low or high < low:
                raise ValueError(f"{self.code}: bands must cover 0..max without gaps")
            expected_low = high + 1
        if expected_low - 1 != self.max_score:
            raise ValueError(f"{self.code}: bands must end at the maximum score")
        if self.safety_item is not None and not 1 <= self.safety_item <= len(self.items):
            raise ValueError(f"{self.code}: the safety item must be one of its items")

    @property
    def lowest_answer(self) -> int:
        return self.answers[0].value

    @property
    def highest_answer(self) -> int:
        return self.answers[-1].value

    @property
    def max_score(self) -> int:
        return self.highest_answer * len(self.items)

    def check_answers(self, answers: Any) -> list[str]:
        """What is wrong with these answers, in words for the person who sent them."""
        count = len(self.items)
        low, high = self.lowest_answer, self.highest_answer
        expected = f"{self.name} takes {count} answers, each a whole number from {low} to {high}."
        if not isinstance(answers, list | tuple):
            return [expected]
        if len(answers) != count:
            return [f"{expected} Got {len(answers)}."]
        problems = []
        allowed = {answer.value for answer in self.answers}
        for number, answer in enumerate(answers, start=1):
            # JSON true/false are not answers, though Python counts them as ints.
            if isinstance(answer, bool) or not isinstance(answer, int) or answer not in allowed:
                problems.append(
                    f"Answer {number} must be a whole number from {low} to {high}, not {answer!r}."
                )
        return problems

    def score(self, answers: list[int]) -> int:
        return sum(answers)

    def band_of(self, score: int) -> Band:
        for band in self.bands:
            if band.holds(score):
                return band
        raise ValueError(f"{self.code}: no band holds the score {score}")

    def answer_label(self, value: int) -> str:
        for answer in self.answers:
            if answer.value == value:
                return answer.label
        raise ValueError(f"{self.code}: no answer has the value {value}")

    def raises_safety_alert(self, answers: list[int]) -> bool:
        return self.safety_item is not None and answers[self.safety_item - 1] > 0

    def title_for(self, score: int) -> str:
        """The entry's title: the instrument, the score and the severity."""
        band = self.band_of(score)
        return f"{self.name}: score {score} of {self.max_score}, {band.label.lower()}"

    def summary_of(self, answers: list[int]) -> str:
        """The entry's text: the total, then each item answered above the
        lowest answer (the rest in one line), as a reader of the record wants it."""
        score = self.score(answers)
        lines = [f"Total score {score} of {self.max_score}: {self.band_of(score).label.lower()}."]
        if self.raises_safety_alert(answers):
            lines.append(
                f"Safety: item {self.safety_item} was answered above 0. Follow your "
                "organization's suicide-risk protocol."
            )
        lines.append(self.question)
        rest = []
        for number, (item, value) in enumerate(zip(self.items, answers, strict=True), start=1):
            if value > self.lowest_answer:
                lines.append(f"{number}. {item.text}: {self.answer_label(value)} ({value})")
            else:
                rest.append(str(number))
        if rest:
            label = self.answer_label(self.lowest_answer)
            lines.append(
                f"{label} ({self.lowest_answer}): item{'s' if len(rest) > 1 else ''} "
                f"{', '.join(rest)}."
            )
        return "\n".join(lines)


# The frequency scale of both questionnaires, with LOINC's answer codes.
OVER_TWO_WEEKS = (
    Answer(0, "Not at all", "LA6568-5"),
    Answer(1, "Several days", "LA6569-3"),
    Answer(2, "More than half the days", "LA6570-1"),
    Answer(3, "Nearly every day", "LA6571-9"),
)

PFIZER = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues, with an educational grant from Pfizer Inc. No permission required to "
    "reproduce, translate, display or distribute."
)

PHQ9 = Instrument(
    code="phq9",
    name="PHQ-9",
    title="Patient Health Questionnaire (PHQ-9)",
    question=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=(
        Item("Little interest or pleasure in doing things", "44250-9"),
        Item("Feeling down, depressed, or hopeless", "44255-8"),
        Item("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
        Item("Feeling tired or having little energy", "44254-1"),
        Item("Poor appetite or overeating", "44251-7"),
        Item(
            "Feeling bad about yourself — or that you are a failure or have let yourself "
            "or your family down",
            "44258-2",
        ),
        Item(
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "44252-5",
        ),
        Item(
            "Moving or speaking so slowly that other people could have noticed? Or the "
            "opposite — being so fidgety or restless that you have been moving around a lot "
            "more than usual",
            "44253-3",
        ),
        Item(
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            "44260-8",
        ),
    ),
    answers=OVER_TWO_WEEKS,
    bands=(
        Band("minimal", "Minimal", 0, 4),
        Band("mild", "Mild", 5, 9),
        Band("moderate", "Moderate", 10, 14),
        Band("moderately_severe", "Moderately severe", 15, 19),
        Band("severe", "Severe", 20, 27),
    ),
    loinc_total="44261-6",
    loinc_panel="44249-1",
    safety_item=9,
    copyright=PFIZER,
)

GAD7 = Instrument(
    code="gad7",
    name="GAD-7",
    title="Generalized Anxiety Disorder 7-item scale (GAD-7)",
    question=("Over the last 2 weeks, how often have you been bothered by the following problems?"),
    items=(
        Item("Feeling nervous, anxious or on edge", "69725-0"),
        Item("Not being able to stop or control worrying", "68509-9"),
        Item("Worrying too much about different things", "69733-4"),
        Item("Trouble relaxing", "69734-2"),
        Item("Being so restless that it is hard to sit still", "69735-9"),
        Item("Becoming easily annoyed or irritable", "69689-8"),
        Item("Feeling afraid as if something awful might happen", "69736-7"),
    ),
    answers=OVER_TWO_WEEKS,
    bands=(
        Band("minimal", "Minimal", 0, 4),
        Band("mild", "Mild", 5, 9),
        Band("moderate", "Moderate", 10, 14),
        Band("severe", "Severe", 15, 21),
    ),
    loinc_total="70274-6",
    loinc_panel="69737-5",
    copyright=PFIZER,
)

# Every instrument CareLink scores, by code. Add a declaration here.
INSTRUMENTS: dict[str, Instrument] = {each.code: each for each in (PHQ9, GAD7)}


def instrument_named(code: Any) -> Instrument | None:
    return INSTRUMENTS.get(code) if isinstance(code, str) else None


def instrument_codes() -> list[str]:
    return list(INSTRUMENTS)


def all_severities() -> list[tuple[str, str]]:
    """Every severity of every instrument, once, in the order they first appear."""
    seen: dict[str, str] = {}
    for instrument in INSTRUMENTS.values():
        for band in instrument.bands:
            seen.setdefault(band.severity, band.label)
    return list(seen.items())
