import base64
import binascii

from django import forms

from signing.models import SignerRole


class TemplateForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace"}),
        help_text="HTML: <p>, <h2>, <strong>, <ul>/<li>, <table> ... Merge fields as "
        "{{ cohort.name }}; the list is beside the editor.",
    )
    signer_roles = forms.CharField(
        label="Signers, in signing order",
        help_text="Comma-separated, from: " + ", ".join(SignerRole.values),
    )

    def clean_signer_roles(self) -> list[str]:
        return [
            role.strip() for role in self.cleaned_data["signer_roles"].split(",") if role.strip()
        ]


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


class VerifyForm(forms.Form):
    document = forms.FileField(label="Signed PDF")
