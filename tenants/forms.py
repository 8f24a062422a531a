import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.lists import FilterForm
from signing.services.certificates import PKCS12_MAX_BYTES
from tenants.models import Institution
from tenants.options import choices_settings
from tenants.provisioning import provisioning_code_validate
from tenants.services import REMOVE_PDF_ACTIVE_CONTENT
from tenants.zones import time_zone_choices

LOGO_MAX_BYTES = 1024 * 1024
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MIN_CONTRAST = 4.5  # WCAG AA for normal text: the navigation and buttons are white on the colour


def contrast_with_white(hex_colour: str) -> float:
    """WCAG contrast ratio of white text on `hex_colour` (#rrggbb)."""

    def channel(value: int) -> float:
        share = value / 255
        return share / 12.92 if share <= 0.03928 else ((share + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return 1.05 / (luminance + 0.05)


LOGO_MAX_PIXELS = 2000


class InstitutionFilterForm(FilterForm):
    q = forms.CharField(
        required=False,
        label="Name or code",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or code"}),
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Institution.Status.choices]
    )


class FindInstitutionForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address",
        help_text="We e-mail you a link to every institution where this address has an account.",
    )


class InstitutionCreateForm(forms.Form):
    name = forms.CharField(max_length=200, label="Institution name")
    # No max_length: the code's own check says what is wrong with a long one.
    code = forms.CharField(label="Code")
    admin_email = forms.EmailField(
        label="Super admin's e-mail", help_text="They receive an invitation to set a password."
    )
    admin_name = forms.CharField(max_length=200, required=False, label="Super admin's name")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = (
            "Up to 40 lower-case letters, digits and hyphens, starting with a letter. It becomes "
            f"the institution's web address: acme gives acme.{settings.PLATFORM_DOMAIN}."
        )

    def clean_code(self) -> str:
        """Refused beside the field: an invalid or taken code, or one already requested."""
        try:
            return provisioning_code_validate(self.cleaned_data["code"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from error


class InstitutionProfileForm(forms.ModelForm):
    """What a super admin may change about their institution: profile, branding, signing and
    how uploaded documents are handled (the last kept in Institution.settings)."""

    remove_pdf_active_content = forms.BooleanField(
        required=False,
        label="Accept PDFs with active content, storing a copy without it",
        help_text="Some PDFs contain program code or attachments: JavaScript, actions that run "
        "by themselves, commands that start programs, attached files or XFA forms. Normally such "
        "a PDF is refused and the student is asked to print it to a new PDF. When this is "
        "ticked, it is accepted, but only a copy without that content is kept; reviewers see "
        "the copy and the fingerprint (SHA-256) of the file as uploaded.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        required=False,  # a form sent without it (the select always sends one) keeps the zone
        help_text="Pages, e-mails and signed documents give times in this zone, labelled with "
        "it (e.g. 14:05 SAST). Documents already signed keep the times they were sealed with.",
    )

    class Meta:
        model = Institution
        fields = [
            "name",
            "registration_number",
            "address",
            "contact_email",
            "contact_phone",
            "brand_colour",
            "logo",
            "signing_link_days",
            "time_zone",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "brand_colour": forms.TextInput(attrs={"type": "color", "class": "form-control-color"}),
            "logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
            "signing_link_days": forms.NumberInput(attrs={"min": 1, "max": 90}),
        }
        help_texts = {
            "brand_colour": "Used for the navigation bar, buttons and e-mails.",
            "logo": "PNG or JPEG, at most 1 MB and 2000 × 2000 pixels.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.settings or {}
        self.fields[REMOVE_PDF_ACTIVE_CONTENT].initial = bool(
            stored.get(REMOVE_PDF_ACTIVE_CONTENT, False)
        )
        for setting in choices_settings():
            self.fields[setting.key] = forms.MultipleChoiceField(
                label=setting.label,
                help_text=setting.help_text,
                choices=setting.offered(),
                required=False,
                initial=stored.get(setting.key, []),
                widget=forms.CheckboxSelectMultiple,
            )

    def choices_sections(self) -> list[tuple[str, forms.BoundField]]:
        """Each registered setting's section title and field, for the page."""
        return [(setting.section, self[setting.key]) for setting in choices_settings()]

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"] or self.instance.time_zone

    def clean_brand_colour(self) -> str:
        colour = self.cleaned_data["brand_colour"]
        if not HEX_COLOUR.fullmatch(colour):
            return colour  # the model's validator explains the format
        if contrast_with_white(colour) < MIN_CONTRAST:
            raise forms.ValidationError(
                "White text is hard to read on this colour (contrast %(ratio).1f:1, at least "
                "4.5:1 is needed); choose a darker one.",
                params={"ratio": contrast_with_white(colour)},
            )
        return colour

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not logo or not hasattr(logo, "image"):
            return logo
        if logo.size > LOGO_MAX_BYTES:
            raise forms.ValidationError("The logo is larger than 1 MB.")
        if logo.image.format not in {"PNG", "JPEG"}:
            raise forms.ValidationError("Upload a PNG or JPEG image.")
        width, height = logo.image.size
        if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
            raise forms.ValidationError("The logo is larger than 2000 × 2000 pixels.")
        return logo


class SealCertificateUploadForm(forms.Form):
    """The institution's own sealing certificate: a PKCS#12 file and its password. The password
    is never shown again, not even when the form comes back with an error."""

    file = forms.FileField(
        label="Certificate file (.p12 or .pfx)",
        widget=forms.FileInput(attrs={"accept": ".p12,.pfx,application/x-pkcs12"}),
        help_text="The certificate with its private key, exported as PKCS#12; at most 100 KB.",
    )
    password = forms.CharField(
        label="The file's password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty if the file has no password.",
    )

    def clean_file(self) -> bytes:
        """The file's content, read no further than the size limit needs."""
        return self.cleaned_data["file"].read(PKCS12_MAX_BYTES + 1)


class SuspendForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why",
        help_text="Kept in the platform's audit trail with your name; the institution's people "
        "see only that it is suspended.",
    )
