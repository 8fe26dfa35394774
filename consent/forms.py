"""Forms of the web pages for the consent app. They translate input; the rules
(a reason long enough to break the glass, a policy name no other policy has)
are the services'."""

from datetime import datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from consent.models import ConsentPolicy, Effect
from consent.services import POLICY_RULE_LIMIT
from core.pages import DateInput
from core.vocabulary import NAME_LIMIT, REASON_LIMIT, Category, Sector
from records.models import Organization


def grantee_choices() -> list:
    """One list for 'who': a whole sector, or one organization."""
    return [
        ("", "Choose who…"),
        (
            "Sectors",
            [
                (f"sector:{value}", f"Every {label.lower()} service")
                for value, label in Sector.choices
            ],
        ),
        (
            "Organizations",
            [(f"organization:{o.pk}", o.name) for o in Organization.objects.order_by("name")],
        ),
    ]


class GranteeField(forms.ChoiceField):
    """'sector:<sector>' or 'organization:<id>' → the two grantee keywords of the services."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=grantee_choices, **kwargs)

    def clean(self, value: Any) -> dict:
        value = super().clean(value)
        kind, _, key = value.partition(":")
        if kind == "sector":
            return {"grantee_sector": key, "grantee_organization": None}
        organization = Organization.objects.filter(pk=key).first() if key.isdigit() else None
        if organization is None:
            raise ValidationError("Choose a sector or an organization.")
        return {"grantee_sector": "", "grantee_organization": organization}


def grantee_value(grantee_organization_id: int | None, grantee_sector: str) -> str:
    if grantee_organization_id:
        return f"organization:{grantee_organization_id}"
    return f"sector:{grantee_sector}"


class CategoriesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Category.choices, widget=forms.CheckboxSelectMultiple, **kwargs)


class DirectiveForm(forms.Form):
    effect = forms.ChoiceField(
        label="The client's decision",
        choices=[(Effect.PERMIT, "Permit: share"), (Effect.DENY, "Deny: do not share")],
        widget=forms.RadioSelect,
        initial=Effect.PERMIT,
    )
    grantee = GranteeField(label="With whom")
    categories = CategoriesField(label="Which parts of the record")
    expires_at = forms.DateField(
        label="Until (optional)",
        required=False,
        widget=DateInput,
        help_text="Leave empty for no end date.",
    )
    note = forms.CharField(label="Note (optional)", max_length=REASON_LIMIT, required=False)

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        if value is None:
            return None
        expires = timezone.make_aware(datetime.combine(value, time.min))
        if expires <= timezone.now():
            raise ValidationError("The end date must be in the future.")
        return expires

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        return {**data.pop("grantee"), **data}


class ApplyPolicyForm(forms.Form):
    policy = forms.ModelChoiceField(
        label="Consent policy",
        queryset=ConsentPolicy.objects.filter(archived_at__isnull=True),
        empty_label="Choose a policy…",
    )


class EmergencyAccessForm(forms.Form):
    reason = forms.CharField(
        label="Reason for emergency access",
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="At least 20 characters. The client's privacy officers are told.",
    )


class ConsentPolicyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=NAME_LIMIT)
    description = forms.CharField(
        label="Description",
        max_length=REASON_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PolicyRuleForm(forms.Form):
    effect = forms.ChoiceField(label="Decision", choices=Effect.choices)
    grantee = GranteeField(label="With whom")
    categories = CategoriesField(label="Categories")

    def rule(self) -> dict:
        data = self.cleaned_data
        return {"effect": data["effect"], "categories": data["categories"], **data["grantee"]}


class BasePolicyRuleFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.rules():
            raise ValidationError("A policy needs at least one rule.")

    def rules(self) -> list[dict]:
        return [
            form.rule()
            for form in self.forms
            if form.has_changed() and not self._should_delete_form(form)
        ]


PolicyRuleFormSet = forms.formset_factory(
    PolicyRuleForm,
    formset=BasePolicyRuleFormSet,
    extra=1,
    can_delete=True,
    max_num=POLICY_RULE_LIMIT,
    validate_max=True,
    absolute_max=POLICY_RULE_LIMIT + 1,
)


class AccessLogFilterForm(forms.Form):
    """Narrow a client's access log: who, which organization, what, when."""

    person = forms.ChoiceField(label="Person", required=False)
    organization = forms.ChoiceField(label="Organization", required=False)
    action = forms.ChoiceField(label="Action", required=False)
    since = forms.DateField(label="From", required=False, widget=DateInput)
    until = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, *args: Any, people: list, organizations: list, actions: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "Anyone"), *people]
        self.fields["organization"].choices = [("", "Any organization"), *organizations]
        self.fields["action"].choices = [("", "Any action"), *actions]

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end is before the start.")
        return data


class EmergencyReviewForm(forms.Form):
    note = forms.CharField(
        label="What you found",
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
