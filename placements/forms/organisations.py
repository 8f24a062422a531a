"""Forms of the organisation pages. They check what a form can (types, lengths, both
coordinates or neither); the services decide the rest and their refusals come back beside the
field they name (CatalogueForm.refusal_show)."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from academics.forms import CatalogueForm
from accounts.lists import FilterForm
from placements.models import (
    ADDRESS_FIELDS,
    Organisation,
    OrganisationAddress,
    OrganisationContact,
    OrganisationDetail,
    latitude_validators,
    longitude_validators,
)
from placements.organisation_imports import MAX_FILE_BYTES, MAX_ROWS, TOO_LARGE
from sponsors.models import Sponsor


class OrganisationFilterForm(FilterForm):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, URN, code or town"}),
    )
    kind = forms.ChoiceField(
        required=False,
        label="Kind",
        choices=[
            ("", "Every kind"),
            ("school", "Schools"),
            ("provider", "Providers"),
            ("employer", "Employers"),
        ],  # fmt: skip
    )
    active = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[("", "Active or not"), ("yes", "Active"), ("no", "Deactivated")],
    )
    coordinates = forms.ChoiceField(
        required=False,
        label="Coordinates",
        choices=[
            ("", "Any coordinates"),
            ("flagged", "Flagged (stale, failed, waiting)"),
            ("missing", "None"),
        ],  # fmt: skip
    )


class OrganisationForm(CatalogueForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "school",
            "provider",
            "employer",
            "urn",
            "ukprn",
            "code",
            "email_address",
            "phone",
            "sponsor",
        ]
        labels = {"school": "School", "provider": "Training provider", "employer": "Employer"}
        help_texts = {
            "school": "",
            "provider": "",
            "employer": "Tick every kind that applies.",
            "sponsor": "When the organisation also funds cohorts: its sponsor record, linked "
            "rather than copied.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sponsor = self.fields["sponsor"]
        assert isinstance(sponsor, forms.ModelChoiceField)
        sponsor.queryset = Sponsor.objects.order_by("company_name", "pk")
        sponsor.empty_label = "Not a sponsor"


class OrganisationDetailForm(CatalogueForm):
    website = forms.URLField(
        required=False, max_length=200, assume_scheme="https", help_text="E.g. www.school.example."
    )

    class Meta:
        model = OrganisationDetail
        fields = ["phase", "pupil_count", "employee_count", "sector", "website"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        phase = self.fields["phase"]
        assert isinstance(phase, forms.TypedChoiceField)
        phase.choices = [("", "Not given"), *OrganisationDetail.Phase.choices]


class OrganisationAddressForm(CatalogueForm):
    class Meta:
        model = OrganisationAddress
        fields = list(ADDRESS_FIELDS)
        help_texts = {"country": "Two letters, e.g. ZA."}


class CoordinatesForm(forms.Form):
    """Coordinates entered by hand: both or neither (neither clears them)."""

    latitude = forms.FloatField(
        required=False,
        validators=latitude_validators,
        help_text="Decimal degrees; south is negative, e.g. -26.2041.",
    )
    longitude = forms.FloatField(
        required=False,
        validators=longitude_validators,
        help_text="Decimal degrees; east is positive, e.g. 28.0473.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if (
            "latitude" in cleaned
            and "longitude" in cleaned
            and (latitude is None) != (longitude is None)
        ):
            raise ValidationError("Give both the latitude and the longitude, or neither.")
        return cleaned


class OrganisationContactForm(CatalogueForm):
    class Meta:
        model = OrganisationContact
        fields = ["first_name", "last_name", "role", "email_address", "phone"]


class OrganisationImportForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        allow_empty_file=True,  # refused by the import itself, in the same words as the rest
        help_text=f"CSV or Excel (.xlsx), at most {MAX_FILE_BYTES // 1024 // 1024} MB and "
        f"{MAX_ROWS:,} rows: one per organisation.",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self) -> Any:
        """Refused by its size before anything reads it."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(TOO_LARGE, code="file")
        return upload
