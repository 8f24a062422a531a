"""The catalogue's forms. They parse and check each field; the services check the whole object
(codes taken, overlapping years, sessions outside their year, cycles) and the views put those
refusals back on the form, next to the field they name."""

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from academics.currencies import currency_error
from academics.imports import MAX_FILE_BYTES, MAX_ROWS, TOO_LARGE
from academics.models import (
    AcademicSession,
    AcademicYear,
    Closure,
    Course,
    Department,
    Faculty,
    Outcome,
    Programme,
)
from academics.services import FEE_FIELDS
from accounts.models import User

# The programme's fee fields (academics.models.Programme): whoever manages fees sets them.

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CatalogueForm(forms.ModelForm):
    """A model form that leaves the instance alone: the service validates and saves it, and
    sees the old values to record what changed."""

    # The (first, last) date fields whose order the form checks, when it has them.
    date_order = ("", "")

    def _post_clean(self) -> None:
        """No construct_instance or model validation here (the service does both)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, last = (cleaned.get(name) for name in self.date_order)
        if first and last and last < first:
            self.add_error(self.date_order[1], "This date cannot be before the first one.")
        return cleaned

    def changes(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

    def refusal_show(self, error: ValidationError) -> None:
        """A service's refusal, beside the field it names (the whole form's otherwise)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class FacultyForm(CatalogueForm):
    class Meta:
        model = Faculty
        fields = ["name", "code", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class DepartmentForm(CatalogueForm):
    class Meta:
        model = Department
        fields = ["faculty", "name", "code", "head_of_department", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"head_of_department": "Optional: a person with an account here."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        head = cast(forms.ModelChoiceField, self.fields["head_of_department"])
        head.queryset = User.objects.filter(is_active=True, deleted_at__isnull=True).order_by(
            "full_name"
        )


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.faculty} · {obj}"


class ProgrammeForm(CatalogueForm):
    class Meta:
        model = Programme
        fields = [
            "name",
            "code",
            "department",
            "degree_type",
            "duration_years",
            "total_credits",
            "nqf_level",
            "saqa_qualification_id",
            "description",
            "is_active",
            *FEE_FIELDS,
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "subsidy_info": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {"department": DepartmentChoiceField}
        labels = {"is_active": "Active", "fee_amount": "Fee", "subsidy_info": "Subsidy"}
        help_texts = {
            "code": "Unique within the institution, e.g. EE-N4.",
            "department": "Optional: leave empty if you do not organise programmes by department.",
            "total_credits": "The credits a learner earns for the whole programme.",
            "is_active": "New cohorts can only pick an active programme; cohorts that study "
            "it keep it.",
        }

    def __init__(self, *args: Any, may_set_fee: bool, **kwargs: Any) -> None:
        """The fee fields are shown to everyone who edits the programme, and only people who
        manage fees (finance) may change them."""
        super().__init__(*args, **kwargs)
        department = cast(forms.ModelChoiceField, self.fields["department"])
        department.queryset = Department.objects.select_related("faculty")
        department.empty_label = "No department"
        self.fields["fee_currency"].required = False  # empty: the default, ZAR
        if not may_set_fee:
            for name in FEE_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Set by finance (who manages fees)."

    def clean_fee_currency(self) -> str:
        code = str(self.cleaned_data.get("fee_currency") or "").strip().upper() or "ZAR"
        if error := currency_error(code):
            raise ValidationError(error)
        return code

    def changes(self) -> dict[str, Any]:
        """Disabled fee fields are left out: they keep what finance set."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if not self.fields[name].disabled
        }


class CourseForm(CatalogueForm):
    class Meta:
        model = Course
        fields = [
            "code",
            "name",
            "credits",
            "hours_per_week",
            "is_core",
            "description",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"is_core": "Core course", "is_active": "Active"}
        help_texts = {
            "code": "Unique within the programme, e.g. EL101.",
            "hours_per_week": "Optional: contact hours per week.",
            "is_active": "An inactive course is not run for new cohorts.",
        }


class OutcomeForm(CatalogueForm):
    class Meta:
        model = Outcome
        fields = ["kind", "code", "title", "credits", "nqf_level", "position", "is_active"]
        labels = {"is_active": "Active"}
        help_texts = {
            "code": "Unique within the course: the unit standard's SAQA id (e.g. 119472) or "
            "the module code.",
            "credits": "At least 1. The outcomes' credits need not add up to the course's.",
            "nqf_level": "Optional: from 1 to 10.",
            "position": "Optional: the order on the course's page (lowest first). Empty puts a "
            "new outcome last.",
            "is_active": "An inactive outcome is not offered for new logbook entries and "
            "portfolios; those that use it keep it.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False
        self.fields["credits"].widget.attrs["min"] = 1
        self.fields["nqf_level"].widget.attrs.update({"min": 1, "max": 10})


class PrerequisiteForm(forms.Form):
    """Which course of the programme `course` requires."""

    prerequisite_course = forms.ModelChoiceField(
        queryset=Course.objects.none(),
        label="Add a prerequisite",
        empty_label="Choose a course",
        help_text="A learner takes this course once the chosen one is completed.",
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["prerequisite_course"])
        field.queryset = Course.objects.filter(programme=course.programme_id).exclude(pk=course.pk)


class AcademicYearForm(CatalogueForm):
    date_order = ("starts_on", "ends_on")

    class Meta:
        model = AcademicYear
        fields = ["name", "starts_on", "ends_on"]
        widgets = {"starts_on": DATE, "ends_on": DATE}
        labels = {"starts_on": "Starts on", "ends_on": "Ends on"}


class AcademicSessionForm(CatalogueForm):
    date_order = ("start_date", "end_date")

    class Meta:
        model = AcademicSession
        fields = ["academic_year", "name", "code", "start_date", "end_date"]
        widgets = {"start_date": DATE, "end_date": DATE}
        help_texts = {
            "name": "E.g. Term 1 or Semester 2.",
            "code": "Unique, e.g. 2027-T1.",
            "start_date": "Within the academic year.",
        }


class ClosureForm(CatalogueForm):
    date_order = ("starts_on", "ends_on")

    class Meta:
        model = Closure
        fields = ["name", "starts_on", "ends_on"]
        widgets = {"starts_on": DATE, "ends_on": DATE}
        labels = {"starts_on": "First day closed", "ends_on": "Last day closed"}
        help_texts = {"name": "E.g. Winter recess or Graduation day."}


class CatalogueImportForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        allow_empty_file=True,  # refused by the import itself, in the same words as the rest
        help_text=f"CSV or Excel (.xlsx), at most {MAX_FILE_BYTES // 1024 // 1024} MB and "
        f"{MAX_ROWS:,} rows: one per course.",
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
