"""Forms of the provider web pages for the records app.

They check input only (required fields, limits, choices), with the same limits
as the API serializers; who may do what is decided by the gate and the services.
"""

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from records.models import Category, EntryKind, Provider, Role, normalize_health_card


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError("This field may not be blank.")
    return value


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ClientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search by name or health card number",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class ClientIntakeForm(forms.Form):
    given_name = forms.CharField(label="Given name", max_length=100)
    family_name = forms.CharField(label="Family name", max_length=100)
    birth_date = forms.DateField(label="Birth date", widget=DateInput)
    health_card_number = forms.CharField(
        label="Health card number",
        max_length=32,
        required=False,
        help_text="With the birth date and family name, links to an existing record.",
    )
    phone = forms.CharField(label="Phone", max_length=32, required=False)
    email = forms.EmailField(label="Email", max_length=254, required=False)

    def clean_given_name(self) -> str:
        return _not_blank(self.cleaned_data["given_name"])

    def clean_family_name(self) -> str:
        return _not_blank(self.cleaned_data["family_name"])

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise ValidationError("Birth date cannot be in the future.")
        return value

    def clean_health_card_number(self) -> str:
        value = self.cleaned_data["health_card_number"].strip()
        if value and not normalize_health_card(value):
            raise ValidationError("Enter a health card number with letters or digits.")
        return value


class EntryForm(forms.Form):
    category = forms.ChoiceField(label="Category", choices=Category.choices)
    kind = forms.ChoiceField(label="Kind", choices=EntryKind.choices)
    title = forms.CharField(label="Title", max_length=200)
    body = forms.CharField(label="Text", max_length=20_000, required=False, widget=forms.Textarea)
    occurred_at = forms.DateTimeField(
        label="When it happened",
        required=False,
        widget=DateTimeInput,
        help_text="Leave empty for now.",
    )

    def clean_title(self) -> str:
        return _not_blank(self.cleaned_data["title"])

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
    username = forms.CharField(label="Username", max_length=100)
    full_name = forms.CharField(label="Full name", max_length=100)
    role = forms.ChoiceField(label="Role", choices=Role.choices)
    password = forms.CharField(
        label="Initial password",
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Give it to the person privately; they should change it.",
    )

    def clean_username(self) -> str:
        value = _not_blank(self.cleaned_data["username"])
        if Provider.objects.filter(username__iexact=value).exists():
            raise ValidationError("This username is taken.")
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if "password" in cleaned:
            candidate = Provider(
                username=self.data.get("username", ""), full_name=self.data.get("full_name", "")
            )
            try:
                validate_password(cleaned["password"], candidate)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned
