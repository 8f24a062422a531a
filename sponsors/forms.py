from typing import cast

from django import forms

from accounts.lists import FilterForm
from sponsors.models import Sponsor
from sponsors.selectors import sponsor_contact_accounts


class SponsorForm(forms.ModelForm):
    class Meta:
        model = Sponsor
        fields = [
            "company_name",
            "contact_name",
            "contact_email",
            "contact_phone",
            "tax_number",
            "user",
        ]
        labels = {"user": "Contact's account"}
        help_texts = {
            "contact_email": "Agreement links to sign go to this address.",
            "tax_number": "The company's income tax or VAT number, if you have it.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user = cast(forms.ModelChoiceField, self.fields["user"])
        user.queryset = sponsor_contact_accounts(keep=self.instance.user_id)
        user.empty_label = "No account"
        user.help_text = (
            "Only if the contact has an account here (People, with the sponsor contact role). "
            "Signing does not need one: the sponsor signs by e-mailed link."
        )
        if self.instance.pk is not None:
            self.fields["contact_email"].help_text = (
                "Agreement links to sign go to this address. Changing it stops any link still "
                "open at the old one: invite the sponsor again from the cohort."
            )


class SponsorFilterForm(FilterForm):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Company or contact"}),
    )


class CohortSponsorForm(forms.Form):
    sponsor = forms.ModelChoiceField(
        queryset=Sponsor.objects.order_by("company_name", "pk"),
        required=False,
        empty_label="No sponsor",
    )
