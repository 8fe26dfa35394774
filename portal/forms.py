"""Forms of the portal's pages. They translate what a person typed; every rule
(a live code, a matching birth date, the password rules, one survey per
referral) is the portal services', and comes back as a field error."""

from typing import Any

from django import forms

from core.pages import DateInput
from core.vocabulary import NAME_LIMIT, Category

# The kinds of information, in words a client uses (docs/portal-pages.md).
KIND_NAMES = {
    Category.GENERAL_HEALTH: "General health",
    Category.MENTAL_HEALTH: "Mental health",
    Category.SUBSTANCE_USE: "Alcohol and drug use",
    Category.MEDICATIONS: "Medicines",
    Category.HOUSING: "Housing",
    Category.EMPLOYMENT: "Work and jobs",
    Category.EDUCATION: "School",
    Category.SOCIAL: "Social supports",
}


class ActivationForm(forms.Form):
    code = forms.CharField(
        label="Your code",
        max_length=64,
        help_text="It is on the paper your care team gave you.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )
    birth_date = forms.DateField(label="Your birth date", widget=DateInput)
    username = forms.CharField(
        label="Choose a username",
        max_length=NAME_LIMIT,
        help_text="You will use it to sign in.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        help_text="Use at least 8 characters. Not only numbers, and not your name.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Type the password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password") and data.get("password_again") != data["password"]:
            self.add_error("password_again", "The two passwords are not the same.")
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {key: data[key] for key in ("code", "birth_date", "username", "password")}


class SharingChangeForm(forms.Form):
    """One kind of information for one organization of the care team: share it,
    or stop sharing it. `organizations` are the care team's (anything else is
    not a choice this page offers)."""

    organization = forms.TypedChoiceField(coerce=int)
    kind = forms.ChoiceField(choices=Category.choices)
    share = forms.TypedChoiceField(
        choices=[("yes", "yes"), ("no", "no")], coerce=lambda value: value == "yes"
    )

    def __init__(self, *args: Any, organizations: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [(o.pk, o.name) for o in organizations]
        self.organizations = {o.pk: o for o in organizations}

    def chosen_organization(self) -> Any:
        return self.organizations[self.cleaned_data["organization"]]


RATING_HELP = "1 is the worst, 5 is the best."


class ExperienceForm(forms.Form):
    """The three questions after a referral was scheduled."""

    repeated_story = forms.TypedChoiceField(
        label="Did you have to tell your story again?",
        choices=[("yes", "Yes, I had to tell it again"), ("no", "No, they already knew it")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    kept_informed = forms.TypedChoiceField(
        label="Did they keep you up to date?",
        choices=[
            ("1", "1 – Not at all"),
            ("2", "2 – A little"),
            ("3", "3 – Sometimes"),
            ("4", "4 – Mostly"),
            ("5", "5 – Always"),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=RATING_HELP,
    )
    overall = forms.TypedChoiceField(
        label="Overall, how did it go?",
        choices=[
            ("1", "1 – Very badly"),
            ("2", "2 – Badly"),
            ("3", "3 – Okay"),
            ("4", "4 – Well"),
            ("5", "5 – Very well"),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=RATING_HELP,
    )


class EmailNoticesForm(forms.Form):
    email_notices = forms.TypedChoiceField(
        label="Email me when a referral is booked or turned down",
        choices=[("yes", "Yes, email me"), ("no", "No emails")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )


class EmailAddressForm(forms.Form):
    email = forms.CharField(
        label="Your email address",
        required=False,
        max_length=254,
        help_text="Leave it empty to remove it. Your care team sees it too.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
