from django import forms
from django.core.exceptions import ValidationError

from tenants.services import institution_code_validate


class FindInstitutionForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address",
        help_text="We e-mail you a link to every institution where this address has an account.",
    )


class InstitutionCreateForm(forms.Form):
    name = forms.CharField(max_length=200, label="Institution name")
    code = forms.CharField(
        max_length=40,
        label="Code",
        help_text="Lower-case letters, digits and hyphens; it becomes the institution's address.",
    )
    admin_email = forms.EmailField(
        label="Super admin's e-mail", help_text="They receive an invitation to set a password."
    )
    admin_name = forms.CharField(max_length=200, required=False, label="Super admin's name")

    def clean_code(self) -> str:
        try:
            return institution_code_validate(self.cleaned_data["code"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from error
