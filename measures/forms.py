"""The questionnaire form, built from an instrument's declaration: one radio
group (a fieldset with the item as its legend) per item, labelled with the
instrument's own answer labels.

It translates input only; the rules (the answers, the time) are
`measures.services.check_assessment`'s, which the form reports by field."""

from typing import Any

from django import forms

from core.pages import DateTimeInput, check_form
from measures.instruments import Instrument
from measures.services import check_assessment

ADMINISTERED_AT = "administered_at"


def item_field(number: int) -> str:
    return f"item_{number}"


class QuestionnaireForm(forms.Form):
    def __init__(self, instrument: Instrument, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        choices = [(answer.value, answer.label) for answer in instrument.answers]
        for number, item in enumerate(instrument.items, start=1):
            self.fields[item_field(number)] = forms.TypedChoiceField(
                label=f"{number}. {item.text}",
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose an answer to this question."},
            )
        self.fields[ADMINISTERED_AT] = forms.DateTimeField(
            label="When it was answered",
            required=False,
            widget=DateTimeInput,
            help_text="Leave empty for now.",
        )

    def item_fields(self) -> list[forms.BoundField]:
        return [self[item_field(n)] for n in range(1, len(self.instrument.items) + 1)]

    def missing_answers(self) -> int:
        return sum(1 for field in self.item_fields() if field.name in self.errors)

    def answers(self) -> list[int] | None:
        values = [self.cleaned_data.get(field.name) for field in self.item_fields()]
        return None if any(value is None for value in values) else values

    def clean(self) -> dict:
        data = super().clean()
        answers = self.answers()
        if answers is not None:
            check_form(
                self,
                check_assessment,
                instrument=self.instrument.code,
                answers=answers,
                administered_at=data.get(ADMINISTERED_AT),
            )
        return data

    def service_fields(self) -> dict:
        return {
            "instrument": self.instrument.code,
            "answers": self.answers(),
            "administered_at": self.cleaned_data.get(ADMINISTERED_AT),
        }
