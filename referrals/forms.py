"""Forms of the web pages for referrals. They translate input; the services
decide who may do what and when."""

import uuid
from typing import Any

from django import forms

from capacity.selectors import service_waits
from core.pages import DateTimeInput, check_form
from core.vocabulary import BODY_LIMIT, REASON_LIMIT, TITLE_LIMIT, Category
from records.models import Organization, Provider, Service
from referrals.models import Urgency
from referrals.services import referral_destination


class ServiceChoice(forms.RadioSelect):
    """The services of the chosen organization, each with its wait (median,
    90th percentile, queue) and whether it takes referrals: a closed one is
    shown, disabled, saying so. Only the chosen organization's: a province
    offers over a thousand services (docs/web.md, "Forms brought in when
    opened"), so the widget never walks its choices, only `catalogue`."""

    template_name = "referrals/service_choice.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalogue: list[tuple[Organization, list[tuple[Service, Any]]]] = []

    def get_context(self, name: str, value: Any, attrs: Any) -> dict:
        # forms.Widget's context, not ChoiceWidget's: that one would build an
        # option for every service of the queryset, which the template never shows.
        context = forms.Widget.get_context(self, name, value, attrs)
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


def offer_services(form: forms.Form, exclude: list[int], services_url: str | None = None) -> None:
    """The form's `service` may be any service outside `exclude`; its widget
    lists, with their waits, those of the organization chosen in the form's
    `to_organization` (or of the service chosen). Closed services stay in the
    queryset: one closed since the page was drawn reaches the service, which
    answers why (409) on the form.

    With `services_url`, choosing an organization asks htmx for the form again
    from that URL and swaps in its list of services alone."""
    services = Service.objects.exclude(organization_id__in=exclude)
    field = form.fields["service"]
    field.queryset = services
    if services_url:
        target = f"#{form['service'].auto_id}"
        form.fields["to_organization"].widget.attrs.update(
            {
                "hx-get": services_url,
                "hx-trigger": "change",
                "hx-target": target,
                "hx-select": target,
                "hx-swap": "outerHTML",
            }
        )
    organization = _chosen_organization(form)
    if organization is None:
        return
    listed = list(services.filter(organization_id=organization).select_related("organization"))
    waits = service_waits(listed)
    if listed:
        field.widget.catalogue = [
            (listed[0].organization, [(service, waits[service.pk]) for service in listed])
        ]


def _chosen_organization(form: forms.Form) -> int | None:
    """The organization whose services the form lists: the one chosen, else the
    chosen service's; None when neither is (or is not an id)."""

    def chosen(name: str) -> Any:
        if form.is_bound:
            return form.data.get(form.add_prefix(name))
        return form.initial.get(name)

    try:
        return int(chosen("to_organization"))
    except (TypeError, ValueError):
        pass
    try:
        service = uuid.UUID(str(chosen("service")))
    except ValueError:
        return None
    return Service.objects.filter(pk=service).values_list("organization_id", flat=True).first()


def refilled(form_class: type[forms.Form], data: Any, prefix: str, **kwargs: Any) -> forms.Form:
    """An unbound form holding what was sent in `data`, for a form sent only to
    list the chosen organization's services (without JavaScript): shown again
    as typed, with no errors, since nothing was submitted yet."""
    initial = {
        name: field.widget.value_from_datadict(data, {}, f"{prefix}-{name}")
        for name, field in form_class.base_fields.items()
        # A field not sent keeps its own initial value (a routine urgency).
        if not field.widget.value_omitted_from_data(data, {}, f"{prefix}-{name}")
    }
    return form_class(prefix=prefix, initial=initial, **kwargs)


class ReferForm(forms.Form):
    to_organization = forms.ModelChoiceField(
        label="Refer to",
        queryset=Organization.objects.none(),
        empty_label="Choose an organization…",
        required=False,
        help_text="Its services and their waits are listed below once it is chosen.",
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

    def __init__(
        self, *args: Any, provider: Provider, services_url: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider
        # Choosing one's own organization is refused by the service as well;
        # leaving it out of the list just spares the user the error.
        self.fields["to_organization"].queryset = Organization.objects.exclude(
            pk=provider.organization_id
        ).order_by("name")
        offer_services(self, exclude=[provider.organization_id], services_url=services_url)

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
        help_text="Its services and their waits are listed below once it is chosen.",
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

    def __init__(
        self, *args: Any, referral: Any, services_url: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        exclude = [referral.from_organization_id, referral.to_organization_id]
        self.fields["to_organization"].queryset = Organization.objects.exclude(
            pk__in=exclude
        ).order_by("name")
        offer_services(self, exclude=exclude, services_url=services_url)
