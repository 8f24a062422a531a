"""The vetting pages' forms: the records list's filters, a vetting type, what a programme
requires, opening a record, the decisions with their reasons, and an evidence upload. The
services check everything again; the forms shape input and say what is missing."""

from typing import Any, ClassVar

from django import forms

from accounts.lists import FilterForm
from placements.models import VettingStatus, VettingType
from placements.services.vetting import EVIDENCE_MAX_SIZE_MB, EXPIRY_WARNING_DAYS, MAX_VALIDITY_DAYS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VettingRecordFilterForm(FilterForm):
    q = forms.CharField(label="Search learners", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *VettingStatus.choices]
    )
    vetting_type = forms.ModelChoiceField(
        label="Type",
        required=False,
        queryset=VettingType.objects.order_by("name"),
        empty_label="Any type",
    )
    expiring = forms.BooleanField(
        label=f"Expiring within {EXPIRY_WARNING_DAYS} days",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    selector_names: ClassVar[dict[str, str]] = {"q": "search"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Learner's name, e-mail or reference"
        # A checkbox keeps Bootstrap's own look.
        self.fields["expiring"].widget.attrs["class"] = "form-check-input"
        self.fields["expiring"].widget.attrs.pop("aria-label", None)

    def selector_filters(self) -> dict[str, Any]:
        filters = super().selector_filters()
        if not filters.get("expiring"):
            filters.pop("expiring", None)
        return filters


class VettingTypeForm(forms.Form):
    name = forms.CharField(max_length=100)
    code = forms.SlugField(
        max_length=40,
        help_text="Short, lower case, never changed afterwards, e.g. first_aid.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What is checked and what proves it.",
    )
    expires = forms.BooleanField(
        label="Clearances expire",
        required=False,
        help_text="A clearance of this type is given with an expiry date.",
    )
    validity_days = forms.IntegerField(
        label="Usual validity (days)",
        required=False,
        min_value=1,
        max_value=MAX_VALIDITY_DAYS,
        help_text="Offered as the expiry date when clearing, e.g. 180 for six months.",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]


class ProgrammeVettingForm(forms.Form):
    vetting_types = forms.ModelMultipleChoiceField(
        label="Required before a placement",
        required=False,
        queryset=VettingType.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Learners of the programme are cleared for placement once every type ticked "
        "here is cleared and unexpired.",
    )

    def __init__(self, *args: Any, required: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Inactive types stay listed while the programme still requires them, so that they
        # can be taken off.
        field = self.fields["vetting_types"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 (for mypy)
        field.queryset = VettingType.objects.filter(is_active=True) | VettingType.objects.filter(
            pk__in=required
        )
        field.queryset = field.queryset.order_by("name")
        self.initial.setdefault("vetting_types", required)


class VettingOpenForm(forms.Form):
    vetting_type = forms.ModelChoiceField(
        label="Type", queryset=VettingType.objects.filter(is_active=True).order_by("name")
    )
    reference = forms.CharField(
        required=False,
        max_length=100,
        help_text="The application's or certificate's number, if there is one yet.",
    )


class VettingStartForm(forms.Form):
    reference = forms.CharField(
        required=False,
        max_length=100,
        help_text="E.g. the police clearance application's number.",
    )


class VettingClearForm(forms.Form):
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=DATE_INPUT,
        help_text="The date on the certificate after which it no longer counts.",
    )
    reference = forms.CharField(required=False, max_length=100, label="Certificate's number")
    reason = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you checked, for whoever reads this record later.",
    )

    def __init__(self, *args: Any, vetting_type: VettingType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if vetting_type.expires:
            self.fields["expires_on"].required = True
        else:
            del self.fields["expires_on"]


class VettingReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept on the record and shown to the learner in their portal.",
    )


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(
        label="Evidence file",
        help_text=f"A PDF, JPEG or PNG of at most {EVIDENCE_MAX_SIZE_MB} MB: the certificate, "
        "report or letter that proves the check.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
