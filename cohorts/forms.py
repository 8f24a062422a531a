from typing import cast

from django import forms
from django.db.models import Q
from django.utils.http import urlencode

from academics.models import Programme
from accounts.lists import FilterForm
from cohorts.models import (
    ARCHIVED,
    MAX_EXPECTED_STUDENTS,
    Cohort,
    CohortState,
    DocumentType,
    FileKind,
    ProgramType,
)
from cohorts.services import NO_RESPONSIBLE_ADMIN, NOT_REQUIRED_FRESH, programme_settable
from enrolments.models import AgreementStatus, DocumentsStatus, EnrollmentState
from signing.models import AgreementTemplate


class CohortForm(forms.ModelForm):
    """A cohort's own settings. Its sponsor is chosen on the cohort's page, from the sponsors'
    records: the sponsor's notices go to that record's contact, never to an address typed here."""

    student_count = forms.IntegerField(
        label="Expected students",
        min_value=1,
        max_value=MAX_EXPECTED_STUDENTS,
        initial=1,
        help_text="How many students you plan to enrol, for planning and for the systems the "
        "cohort is synchronised with. It does not limit enrolment and can change later.",
        error_messages={
            "required": "Enter the number of students you expect.",
            "invalid": "Enter a whole number, such as 25.",
            "min_value": "A cohort expects at least 1 student.",
            "max_value": "A cohort expects at most 100,000 students.",
        },
    )

    class Meta:
        model = Cohort
        fields = [
            "name",
            "program_type",
            "programme",
            "start_date",
            "end_date",
            "student_count",
            "main_template",
            "supporting_templates",
            "required_document_types",
            "fresh_document_types",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "supporting_templates": forms.CheckboxSelectMultiple,
            "required_document_types": forms.CheckboxSelectMultiple,
            "fresh_document_types": forms.CheckboxSelectMultiple,
        }
        labels = {
            "program_type": "Programme type",
            "supporting_templates": "Supporting agreements",
            "fresh_document_types": "Documents uploaded again",
        }
        help_texts = {
            "name": "How pages, e-mails and agreements name the cohort, e.g. "
            "“Electrical learnership 2027”.",
            "program_type": "The kind of programme, named in the agreements and in the "
            "sponsor's notices.",
            "programme": "What the cohort studies: its courses become the cohort's course "
            "runs. Optional; it can be chosen later while the cohort has none.",
            "start_date": "The programme's first day, as the agreements state it.",
            "end_date": "The programme's last day, as the agreements state it.",
            "main_template": "The agreement signed for this cohort by the institution, the "
            "sponsor and each student. An admin signs it before the cohort can be activated.",
            "supporting_templates": "Further documents each student signs after the main "
            "agreement, such as a POPIA consent form or a code of conduct.",
            "required_document_types": "The documents every student uploads; a verifier "
            "reviews each one before the student's enrolment is complete.",
            "fresh_document_types": "A student who has a required document verified from an "
            "earlier cohort uses it again without uploading it. Tick the required documents "
            "each student must upload anew for this cohort, such as a recent proof of address.",
        }
        error_messages = {
            "name": {"required": "Enter the cohort's name."},
            "program_type": {"required": "Choose the kind of programme."},
            "start_date": {
                "required": "Enter the date the programme starts.",
                "invalid": "Enter the date as year-month-day, such as 2027-02-01.",
            },
            "end_date": {
                "required": "Enter the date the programme ends.",
                "invalid": "Enter the date as year-month-day, such as 2027-11-30.",
            },
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        templates = AgreementTemplate.objects.filter(is_archived=False)
        for name in ("main_template", "supporting_templates"):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = templates
        programme = cast(forms.ModelChoiceField, self.fields["programme"])
        # Active programmes, and the one the cohort has even if it was retired since.
        programme.queryset = Programme.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.programme_id)
        ).order_by("name")
        programme.empty_label = "None yet"
        for name in ("required_document_types", "fresh_document_types"):
            document_types = cast(forms.ModelChoiceField, self.fields[name])
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
        if not self.is_bound:
            # Offered as supporting agreements: those a student signs, the main one aside (clean
            # refuses either if sent all the same).
            main = self.initial.get("main_template", self.instance.main_template_id)
            main_pk = getattr(main, "pk", main)
            supporting = cast(forms.ModelChoiceField, self.fields["supporting_templates"])
            supporting.queryset = templates.exclude(pk=main_pk).filter(
                signer_roles__contains=["student"]
            )
        if self.instance.pk and not self.instance.is_editable:
            for name, field in self.fields.items():
                if name not in {"start_date", "end_date", "student_count"} and not (
                    name == "programme" and programme_settable(self.instance)
                ):
                    field.disabled = True
                    field.help_text = "Fixed once the cohort is active."

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The cohort cannot end before it starts.")
        fresh, required = (
            cleaned.get("fresh_document_types"),
            cleaned.get("required_document_types"),
        )
        if fresh and required is not None and set(fresh) - set(required):
            self.add_error("fresh_document_types", NOT_REQUIRED_FRESH)
        main, supporting = cleaned.get("main_template"), cleaned.get("supporting_templates") or []
        if main is not None and main in supporting:
            self.add_error(
                "supporting_templates",
                f"“{main.title}” is this cohort's main agreement, so it cannot also be a "
                "supporting agreement. Untick it here or choose another main agreement.",
            )
        for template in supporting:
            if "student" not in template.signer_roles:
                self.add_error(
                    "supporting_templates",
                    f"“{template.title}” has no student among its signers, so students cannot "
                    "sign it as a supporting agreement.",
                )
        return cleaned

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class CohortFilterForm(FilterForm):
    q = forms.CharField(
        required=False, label="Search", widget=forms.TextInput(attrs={"placeholder": "Cohort name"})
    )
    state = forms.ChoiceField(
        required=False,
        choices=[("", "Any state"), *CohortState.choices, (ARCHIVED, "Archived")],
        help_text="Archived cohorts show only under “Archived”.",
    )
    program_type = forms.ChoiceField(
        label="Programme", required=False, choices=[("", "Any programme"), *ProgramType.choices]
    )


class StudentFilterForm(FilterForm):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Search by name or e-mail"}),
    )
    state = forms.ChoiceField(
        required=False,
        label="Progress",
        choices=[("", "Any progress"), *EnrollmentState.choices],
        error_messages={"invalid_choice": "Choose a progress from the list."},
    )
    agreement = forms.ChoiceField(
        required=False,
        label="Agreement",
        choices=[("", "Any agreement"), *AgreementStatus.choices],
        error_messages={"invalid_choice": "Choose an agreement status from the list."},
    )
    documents = forms.ChoiceField(
        required=False,
        label="Documents",
        choices=[("", "Any documents"), *DocumentsStatus.choices],
        error_messages={"invalid_choice": "Choose a documents status from the list."},
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    FILTERS = ("q", "state", "agreement", "documents")

    @property
    def chosen(self) -> dict[str, str]:
        """The filters given in the address (not the sort order), as given: the sort links and
        the export keep them."""
        if not self.is_bound:
            return {}
        return {name: value for name in self.FILTERS if (value := self.data.get(name, "").strip())}

    @property
    def query(self) -> str:
        """`chosen` as a query string, ending with "&" when not empty, for links to add to."""
        return urlencode(self.chosen) + "&" if self.chosen else ""


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
            # stdnum's reason is a sentence of its own ("The number has an invalid length.").
            reason = str(error).rstrip(".")
            raise forms.ValidationError(
                f"This ID number is not valid: {reason[:1].lower()}{reason[1:]}."
            ) from error


class ReviewerForm(forms.Form):
    reviewer: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label="Verifier")

    def __init__(self, *args, verifiers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["reviewer"]).queryset = verifiers


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


class ResponsibleAdminsForm(forms.Form):
    """The cohort page's choice of responsible admins, among those who may manage it."""

    admins: forms.ModelMultipleChoiceField = PeopleChoiceField(
        queryset=None,
        label="Responsible admins",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="They are e-mailed when a student or the sponsor declines and when the sponsor "
        "signs, and see this cohort's work first on their start page.",
        error_messages={
            "required": NO_RESPONSIBLE_ADMIN,
            "invalid_choice": "Choose people from the list: only those who may manage this "
            "cohort can be responsible for it.",
        },
    )

    def __init__(self, *args, choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["admins"]).queryset = choices


class DocumentTypeForm(forms.ModelForm):
    accepted_kinds = forms.MultipleChoiceField(
        choices=FileKind.choices, widget=forms.CheckboxSelectMultiple, label="Accepted files"
    )

    class Meta:
        model = DocumentType
        fields = ["name", "description", "accepted_kinds", "max_size_mb", "expires", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"max_size_mb": "Largest file (MB)", "is_active": "Offered for new cohorts"}
