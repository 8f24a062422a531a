from django import forms

from delivery.certificates_pdf import TEMPLATE_FIELDS

FIELDS_HELP = "May use " + ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS) + "."


class CertificateTemplateForm(forms.Form):
    title = forms.CharField(
        max_length=200, help_text="The heading, e.g. Certificate of completion."
    )
    body = forms.CharField(
        label="Wording",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Shown under the learner's name, above the results. " + FIELDS_HELP,
    )
    signatory_name = forms.CharField(
        label="Signatory's name", max_length=200, required=False,
        help_text="Printed above the signature line; leave empty for no line.",
    )  # fmt: skip
    signatory_title = forms.CharField(label="Signatory's title", max_length=200, required=False)
    footer = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Small print at the bottom, e.g. the accreditation number. " + FIELDS_HELP,
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Kept with the certificate (the audit trail records that one was given, not "
        "what it says); the verify page does not show it.",
    )


class VerifyCodeForm(forms.Form):
    code = forms.CharField(
        label="Verification code",
        max_length=40,
        help_text="Printed on the certificate, e.g. ABCD-EFGH-JKMN-PQRS.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class VerifyPdfForm(forms.Form):
    document = forms.FileField(label="Certificate PDF")
