"""Forms of the web pages for referrals. They translate input; the services
decide who may do what and when."""

from typing import Any

from django import forms

from core.pages import DateTimeInput
from core.vocabulary import BODY_LIMIT, REASON_LIMIT, TITLE_LIMIT, Category
from records.models import Organization, Provider
from referrals.models import Urgency


class ReferForm(forms.Form):
    to_organization = forms.ModelChoiceField(
        label="Refer to",
        queryset=Organization.objects.none(),
        empty_label="Choose an organization…",
    )
    urgency = forms.ChoiceField(
        label="Urgency", choices=Urgency.choices, initial=Urgency.ROUTINE, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="Reason for referral",
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    share_categories = forms.MultipleChoiceField(
        label="The client agrees to share with them",
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Recorded as the client's consent; withdrawn if the referral is declined or "
        "cancelled.",
    )

    def __init__(self, *args: Any, provider: Provider, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choosing one's own organization is refused by the service as well;
        # leaving it out of the list just spares the user the error.
        self.fields["to_organization"].queryset = Organization.objects.exclude(
            pk=provider.organization_id
        ).order_by("name")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=REASON_LIMIT, widget=forms.Textarea(attrs={"rows": 2})
    )


class ScheduleForm(forms.Form):
    appointment_at = forms.DateTimeField(label="Appointment", widget=DateTimeInput)


class CompleteForm(forms.Form):
    title = forms.CharField(label="Report title", max_length=TITLE_LIMIT)
    category = forms.ChoiceField(
        label="Category", choices=Category.choices, initial=Category.MENTAL_HEALTH
    )
    body = forms.CharField(
        label="Intake report", max_length=BODY_LIMIT, required=False, widget=forms.Textarea
    )

    before_appointment = forms.BooleanField(
        label="The appointment has not taken place yet: complete the referral anyway",
        required=False,
    )

    def __init__(self, *args: Any, appointment_ahead: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appointment_ahead = appointment_ahead
        if not appointment_ahead:
            del self.fields["before_appointment"]

    def clean(self) -> dict:
        data = super().clean()
        # Completing before the appointment is usually a slip: ask, once.
        if self.appointment_ahead and not data.get("before_appointment"):
            self.add_error(
                "before_appointment",
                "The appointment is still ahead. Tick this to complete the referral now.",
            )
        data.pop("before_appointment", None)
        return data


class RedirectForm(forms.Form):
    """After a decline: the same referral to another organization, in one step.
    (The target is an organization today; it can become a service.)"""

    to_organization = forms.ModelChoiceField(
        label="Send it to",
        queryset=Organization.objects.none(),
        empty_label="Choose an organization…",
    )
    note = forms.CharField(
        label="Add to the reason (optional)",
        max_length=REASON_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, referral: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_organization"].queryset = Organization.objects.exclude(
            pk__in=[referral.from_organization_id, referral.to_organization_id]
        ).order_by("name")
