"""Forms of the web pages for referrals. They translate input; the services
decide who may do what and when."""

from typing import Any

from django import forms

from capacity.selectors import service_waits
from core.pages import DateTimeInput, check_form
from core.vocabulary import BODY_LIMIT, REASON_LIMIT, TITLE_LIMIT, Category
from records.models import Organization, Provider, Service
from referrals.models import Urgency
from referrals.services import referral_destination


class ServiceChoice(forms.RadioSelect):
    """The services one may refer to, grouped by organization, each with its
    wait (median, 90th percentile, queue) and whether it takes referrals: a
    closed one is shown, disabled, saying so."""

    template_name = "referrals/service_choice.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalogue: list[tuple[Organization, list[tuple[Service, Any]]]] = []

    def get_context(self, name: str, value: Any, attrs: Any) -> dict:
        context = super().get_context(name, value, attrs)
        chosen = {str(v) for v in (value or []) if v}
        base = context["widget"]["attrs"].get("id", name)
        context["widget"]["catalogue"] = [
            (
                organization,
                [
                    (service, wait, str(service.pk) in chosen, f"{base}_{group}_{n}")
                    for n, (service, wait) in enumerate(rows)
                ],
            )
            for group, (organization, rows) in enumerate(self.catalogue)
        ]
        context["widget"]["none_chosen"] = not chosen
        return context


def offer_services(field: forms.ModelChoiceField, exclude: list[int]) -> None:
    """The services a form may choose from, with their waits, grouped by
    organization. Closed services stay in the queryset: one closed since the
    page was drawn reaches the service, which answers why (409) on the form."""
    services = Service.objects.exclude(organization_id__in=exclude)
    field.queryset = services
    listed = list(services.select_related("organization"))
    waits = service_waits(listed)
    catalogue: dict[int, tuple[Organization, list]] = {}
    for service in listed:
        entry = catalogue.setdefault(service.organization_id, (service.organization, []))
        entry[1].append((service, waits[service.pk]))
    field.widget.catalogue = list(catalogue.values())


class ReferForm(forms.Form):
    to_organization = forms.ModelChoiceField(
        label="Refer to",
        queryset=Organization.objects.none(),
        empty_label="Choose an organization…",
        required=False,
        help_text="Or choose one of its services below: the organization follows.",
    )
    service = forms.ModelChoiceField(
        label="Service (optional)",
        queryset=Service.objects.none(),
        required=False,
        widget=ServiceChoice,
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
        self.provider = provider
        # Choosing one's own organization is refused by the service as well;
        # leaving it out of the list just spares the user the error.
        self.fields["to_organization"].queryset = Organization.objects.exclude(
            pk=provider.organization_id
        ).order_by("name")
        offer_services(self.fields["service"], exclude=[provider.organization_id])

    def clean(self) -> dict:
        data = super().clean()
        if "to_organization" not in self.errors and "service" not in self.errors:
            check_form(
                self,
                referral_destination,
                provider=self.provider,
                to_organization=data.get("to_organization"),
                service=data.get("service"),
            )
        return data


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
    """After a decline: the same referral to another organization or service,
    in one step."""

    to_organization = forms.ModelChoiceField(
        label="Send it to",
        queryset=Organization.objects.none(),
        empty_label="Choose an organization…",
        required=False,
        help_text="Or choose one of its services below: the organization follows.",
    )
    service = forms.ModelChoiceField(
        label="Service (optional)",
        queryset=Service.objects.none(),
        required=False,
        widget=ServiceChoice,
    )
    note = forms.CharField(
        label="Add to the reason (optional)",
        max_length=REASON_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, referral: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        exclude = [referral.from_organization_id, referral.to_organization_id]
        self.fields["to_organization"].queryset = Organization.objects.exclude(
            pk__in=exclude
        ).order_by("name")
        offer_services(self.fields["service"], exclude=exclude)
