from typing import cast

from django import forms

from accounts.lists import FilterForm
from cohorts.models import Cohort, CohortState, DocumentType, FileKind, ProgramType
from enrolments.models import EnrollmentState
from signing.models import AgreementTemplate


class CohortForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = [
            "name",
            "program_type",
            "start_date",
            "end_date",
            "student_count",
            "sponsor_email",
            "main_template",
            "supporting_templates",
            "required_document_types",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "supporting_templates": forms.CheckboxSelectMultiple,
            "required_document_types": forms.CheckboxSelectMultiple,
        }
        labels = {"program_type": "Programme type"}
        help_texts = {
            "main_template": "The agreement the institution, students and sponsor sign.",
            "required_document_types": "What every student must upload.",
            "student_count": "How many students you expect; you can change it later.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        templates = AgreementTemplate.objects.filter(is_archived=False)
        for name in ("main_template", "supporting_templates"):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = templates
        document_types = cast(forms.ModelChoiceField, self.fields["required_document_types"])
        document_types.queryset = DocumentType.objects.filter(is_active=True)
        if not self.instance.pk:
            # Sensible defaults for a new cohort: the first agreement and the identity documents.
            self.initial.setdefault("main_template", templates.order_by("pk").first())
            self.initial.setdefault(
                "required_document_types",
                DocumentType.objects.filter(
                    is_active=True, name__in=["South African ID or passport", "Matric certificate"]
                ),
            )
        if self.instance.pk and not self.instance.is_editable:
            for name, field in self.fields.items():
                if name not in {"start_date", "end_date", "student_count"}:
                    field.disabled = True
                    field.help_text = "Fixed once the cohort is active."

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The cohort cannot end before it starts.")
        return cleaned

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class CohortFilterForm(FilterForm):
    q = forms.CharField(
        required=False, label="Search", widget=forms.TextInput(attrs={"placeholder": "Cohort name"})
    )
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *CohortState.choices])
    program_type = forms.ChoiceField(
        label="Programme", required=False, choices=[("", "Any programme"), *ProgramType.choices]
    )


class StudentFilterForm(FilterForm):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Search by name or e-mail"}),
    )
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *EnrollmentState.choices])
    sort = forms.CharField(required=False, widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, label="Reason"
    )


class ForceCompleteForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        label="Reason to complete anyway",
        help_text="Needed only if some students are not complete and verified.",
    )


class InviteStudentForm(forms.Form):
    full_name = forms.CharField(max_length=200)
    email = forms.EmailField(label="E-mail address")
    id_number = forms.CharField(
        max_length=13, required=False, label="South African ID number (optional)"
    )

    def clean_id_number(self) -> str:
        from stdnum.exceptions import ValidationError as NumberError
        from stdnum.za import idnr

        value = self.cleaned_data["id_number"].strip()
        if not value:
            return ""
        try:
            return idnr.validate(value)
        except NumberError as error:
            raise forms.ValidationError(f"This ID number is not valid: {error}.") from error


class ReviewerForm(forms.Form):
    reviewer: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label="Verifier")

    def __init__(self, *args, verifiers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["reviewer"]).queryset = verifiers


class DocumentTypeForm(forms.ModelForm):
    accepted_kinds = forms.MultipleChoiceField(
        choices=FileKind.choices, widget=forms.CheckboxSelectMultiple, label="Accepted files"
    )

    class Meta:
        model = DocumentType
        fields = ["name", "description", "accepted_kinds", "max_size_mb", "expires", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"max_size_mb": "Largest file (MB)", "is_active": "Offered for new cohorts"}
