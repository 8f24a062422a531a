import base64
import binascii

from django import forms

from accounts.lists import FilterForm
from signing.models import SignerRole, SubmissionStatus

SIGNER_CHOICES = [("", "Nobody"), *SignerRole.choices]
SIGNER_FIELDS = ("first_signer", "second_signer", "third_signer")


class SubmissionFilterForm(FilterForm):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Title, signer's name or e-mail"}
        ),
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *SubmissionStatus.choices]
    )


class TemplateForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace", "spellcheck": "true"}),
        label="Agreement text",
        help_text="HTML. The buttons above add headings, bold text, lists and merge fields; "
        "the preview shows the result with example values.",
    )
    first_signer = forms.ChoiceField(label="Signs first", choices=SignerRole.choices)
    second_signer = forms.ChoiceField(label="Then", choices=SIGNER_CHOICES, required=False)
    third_signer = forms.ChoiceField(label="Then", choices=SIGNER_CHOICES, required=False)

    @staticmethod
    def initial_for(signer_roles: list[str]) -> dict[str, str]:
        return dict(zip(SIGNER_FIELDS, signer_roles, strict=False))

    def clean(self) -> dict:
        """Collect the signers in order as `signer_roles`: no gaps, nobody twice."""
        super().clean()
        cleaned = self.cleaned_data
        roles: list[str] = []
        for name in SIGNER_FIELDS:
            role = cleaned.get(name)
            if not role:
                continue
            if len(roles) < SIGNER_FIELDS.index(name):
                self.add_error(name, "Choose the signers before this one first.")
            elif role in roles:
                self.add_error(name, "Each signer signs once.")
            roles.append(role)
        cleaned["signer_roles"] = roles
        return cleaned


class SignForm(forms.Form):
    signed_name = forms.CharField(label="Your full name", max_length=200)
    signature_text = forms.CharField(label="Type your signature", max_length=200, required=False)
    signature_image = forms.CharField(widget=forms.HiddenInput, required=False)
    consent = forms.BooleanField(required=False)

    def clean_signature_image(self) -> bytes | None:
        value = self.cleaned_data["signature_image"]
        prefix = "data:image/png;base64,"
        if not value:
            return None
        if not value.startswith(prefix):
            raise forms.ValidationError("The drawn signature could not be read.")
        try:
            return base64.b64decode(value[len(prefix) :], validate=True)
        except (binascii.Error, ValueError) as error:
            raise forms.ValidationError("The drawn signature could not be read.") from error


class DeclineForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why are you revoking it?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text="Kept in the agreement's trail; the signers are not e-mailed.",
    )


class VerifyForm(forms.Form):
    document = forms.FileField(label="Signed PDF")
