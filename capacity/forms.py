"""Forms of the capacity pages. They translate input; `records.services`
decides who may change what and whether a name is free."""

from django import forms

from core.vocabulary import NAME_LIMIT, REASON_LIMIT


class ServiceForm(forms.Form):
    name = forms.CharField(label="Name", max_length=NAME_LIMIT)
    description = forms.CharField(
        label="What it offers",
        max_length=REASON_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    eligibility = forms.CharField(
        label="Who it is for",
        max_length=REASON_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    accepting_referrals = forms.BooleanField(
        label="Accepting referrals",
        required=False,
        initial=True,
        help_text="A closed service stays listed, with its queue; referrers cannot choose it.",
    )
