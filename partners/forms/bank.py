"""Asking for new bank details, confirming them against the source document, and rejecting a
change. The account number is never written
back into the page: a form returned with an error asks for it again."""

from typing import Any

from django import forms

from partners.bank import BankDetails
from partners.forms.partners import FormRefusals
from partners.models import BankAccountType


class NumberInput(forms.TextInput):
    """A text box that never renders its value (like a password box, but readable while
    typed), so that the full number is on no page the server sends."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        return super().get_context(name, None, attrs)


class BankDetailsForm(FormRefusals):
    holder = forms.CharField(
        label="Account holder",
        max_length=200,
        help_text="The name the bank has on the account.",
    )
    bank_name = forms.CharField(label="Bank", max_length=100, help_text="E.g. FNB, Absa, Capitec.")
    branch_code = forms.CharField(
        label="Branch code",
        max_length=10,
        help_text="The six-digit branch (universal) code.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_number = forms.CharField(
        label="Account number",
        max_length=30,
        help_text="6 to 16 digits. Only its last four digits are shown again.",
        widget=NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_type = forms.ChoiceField(
        label="Account type", choices=BankAccountType.choices, initial=BankAccountType.CURRENT
    )

    def details(self) -> BankDetails:
        return BankDetails(**self.cleaned_data)


class BankConfirmForm(FormRefusals):
    """The confirmer types the number and branch code from the source document (the bank's
    letter, a stamped statement); neither is ever rendered back."""

    account_number = forms.CharField(
        label="Account number, from the document",
        max_length=30,
        help_text="Type it from the bank's letter or statement, not from this page.",
        widget=NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    branch_code = forms.CharField(
        label="Branch code, from the document",
        max_length=10,
        help_text="The six-digit branch (universal) code on the same document.",
        widget=NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class BankRejectForm(forms.Form):
    reason = forms.CharField(
        label="Why reject them",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the change, e.g. “The bank's letter gives another account.”",
    )
