"""Forms of the web pages for the records app.

They translate input (required fields, limits, choices) with the same limits
as the API serializers; the rules themselves — a free username, a birth date
not in the future, a health card with letters or digits — are the services',
whose `InvalidInput` the views show by field.
"""

from django import forms

from core.pages import DateInput, DateTimeInput, check_form
from core.permissions import TREATING_ROLES
from core.vocabulary import (
    BODY_LIMIT,
    NAME_LIMIT,
    REASON_LIMIT,
    TITLE_LIMIT,
    Category,
    EntryKind,
    Role,
)
from records.models import CareTeamMembership, Client, Provider
from records.services import check_demographics, check_new_account, check_occurred_at


class ClientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search by name, birth date (YYYY-MM-DD) or health card number",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def clean_q(self) -> str:
        value = self.cleaned_data["q"]
        if "\x00" in value:
            raise forms.ValidationError("Null characters are not allowed.")
        return value


class ClientIntakeForm(forms.Form):
    given_name = forms.CharField(label="Given name", max_length=NAME_LIMIT)
    family_name = forms.CharField(label="Family name", max_length=NAME_LIMIT)
    birth_date = forms.DateField(label="Birth date", widget=DateInput)
    health_card_number = forms.CharField(
        label="Health card number",
        max_length=32,
        required=False,
        help_text="With the birth date and family name, links to an existing record.",
    )
    phone = forms.CharField(label="Phone", max_length=32, required=False)
    email = forms.EmailField(label="Email", max_length=254, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("birth_date") is not None:
            check_form(
                self,
                check_demographics,
                given_name=data.get("given_name", ""),
                family_name=data.get("family_name", ""),
                birth_date=data["birth_date"],
                health_card_number=data.get("health_card_number", ""),
            )
        return data


class EntryForm(forms.Form):
    category = forms.ChoiceField(label="Category", choices=Category.choices)
    kind = forms.ChoiceField(label="Kind", choices=EntryKind.choices)
    title = forms.CharField(label="Title", max_length=TITLE_LIMIT)
    body = forms.CharField(
        label="Text", max_length=BODY_LIMIT, required=False, widget=forms.Textarea
    )
    occurred_at = forms.DateTimeField(
        label="When it happened",
        required=False,
        widget=DateTimeInput,
        help_text="Leave empty for now.",
    )

    def clean(self) -> dict:
        data = super().clean()
        check_form(self, check_occurred_at, occurred_at=data.get("occurred_at"))
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("occurred_at") is None:
            data.pop("occurred_at", None)
        return data


class TimelineFilterForm(forms.Form):
    category = forms.ChoiceField(
        label="Show category",
        choices=[("", "All categories"), *Category.choices],
        required=False,
    )


class ProviderForm(forms.Form):
    username = forms.CharField(label="Username", max_length=NAME_LIMIT)
    full_name = forms.CharField(label="Full name", max_length=NAME_LIMIT)
    role = forms.ChoiceField(label="Role", choices=Role.choices)
    password = forms.CharField(
        label="Initial password",
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Give it to the person privately; they should change it.",
    )

    def clean(self) -> dict:
        data = super().clean()
        check_form(
            self,
            check_new_account,
            username=self.data.get("username", ""),
            password=data.get("password"),
            full_name=self.data.get("full_name", ""),
        )
        return data


class DemographicsForm(forms.Form):
    """Correcting a client's details; the rules are `update_demographics`'s."""

    given_name = forms.CharField(label="Given name", max_length=NAME_LIMIT)
    family_name = forms.CharField(label="Family name", max_length=NAME_LIMIT)
    birth_date = forms.DateField(label="Birth date", widget=DateInput)
    health_card_number = forms.CharField(label="Health card number", max_length=32, required=False)
    phone = forms.CharField(label="Phone", max_length=32, required=False)
    email = forms.EmailField(label="Email", max_length=254, required=False)

    @classmethod
    def of(cls, client: Client) -> "DemographicsForm":
        return cls(
            initial={name: getattr(client, name) for name in cls.base_fields},
            prefix="demographics",
        )


class AddColleagueForm(forms.Form):
    provider = forms.ModelChoiceField(
        label="Colleague", queryset=Provider.objects.none(), empty_label="Choose a colleague…"
    )

    def __init__(self, *args, client: Client, provider: Provider, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Colleagues of the viewer's organization who treat and are not on the case yet.
        on_team = CareTeamMembership.objects.filter(client=client, ended_at__isnull=True)
        self.fields["provider"].queryset = (
            Provider.objects.filter(
                organization_id=provider.organization_id,
                is_active=True,
                role__in=TREATING_ROLES,
            )
            .exclude(pk__in=on_team.values("provider_id"))
            .order_by("full_name", "username")
        )


class AmendEntryForm(forms.Form):
    title = forms.CharField(label="Title", max_length=TITLE_LIMIT)
    body = forms.CharField(
        label="Text", max_length=BODY_LIMIT, required=False, widget=forms.Textarea
    )
    reason = forms.CharField(
        label="Why (optional)",
        max_length=REASON_LIMIT,
        required=False,
        help_text="The original stays in the record, shown as amended.",
    )


class RetractEntryForm(forms.Form):
    reason = forms.CharField(
        label="Why is it retracted",
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Those who could read the entry see that it was retracted, by whom and why.",
    )


class EditProviderForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=NAME_LIMIT)
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class ResetPasswordForm(forms.Form):
    password = forms.CharField(
        label="New password",
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Give it to the person privately; their other sessions end now.",
    )
