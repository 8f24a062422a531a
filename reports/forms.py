"""The forms of the reports pages. A report's parameters come from the report itself
(Report.parameters_form); these add what every run or definition chooses: the columns and the
format, and for a definition its name, schedule and recipients. The services check all of it
again: a form is how a person is told, not the only guard."""

from typing import Any

from django import forms
from django.utils.html import escape

from accounts.models import User
from reports.models import ReportDefinition, ReportFormat, ReportSchedule
from reports.registry import Report
from reports.selectors import report_recipients_possible


class ReportRunForm(forms.Form):
    """The columns and format of one run."""

    columns = forms.MultipleChoiceField(
        label="Columns",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for every column.",
    )
    format = forms.ChoiceField(
        label="Format",
        choices=ReportFormat.choices,
        initial=ReportFormat.XLSX,
        widget=forms.RadioSelect,
        # Escaped: help text is shown as HTML, and "<N" would open a tag.
        help_text=escape(
            "CSV and Excel hold any number of rows; a PDF is for reading and holds a few "
            "thousand. Small equity counts are shown as “<N” in every file, which leaves the "
            "institution."
        ),
    )

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report = report
        columns: Any = self.fields["columns"]
        columns.choices = [(column.key, column.label) for column in report.columns]
        if not self.is_bound and "columns" not in self.initial:
            self.initial["columns"] = list(report.column_keys)


class ReportDefinitionForm(ReportRunForm):
    """A saved definition: a name people recognise, and optionally a schedule with the people
    who are e-mailed a link when it has run."""

    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    schedule = forms.ChoiceField(
        label="Run it",
        choices=[("", "Only when someone runs it")] + ReportSchedule.choices[1:],
        required=False,
        help_text="Scheduled runs start at 06:00 in the institution's time zone.",
    )
    recipients = forms.ModelMultipleChoiceField(
        label="E-mail a link to",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="People who may run this report. They get a link to sign in and download "
        "it, never the data itself.",
    )

    field_order = ["name", "description", "columns", "format", "schedule", "recipients"]

    def __init__(
        self, *args: Any, report: Report, definition: ReportDefinition | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, report=report, **kwargs)
        self.definition = definition
        recipients: Any = self.fields["recipients"]
        recipients.queryset = report_recipients_possible()
        recipients.label_from_instance = lambda user: f"{user.full_name} ({user.email})"

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = ReportDefinition.objects.filter(name__iexact=name)
        if self.definition is not None:
            others = others.exclude(pk=self.definition.pk)
        if others.exists():
            raise forms.ValidationError("A saved report already has this name: choose another.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("schedule") and not cleaned.get("recipients"):
            self.add_error(
                "recipients", "A scheduled report is e-mailed: choose who receives the link."
            )
        return cleaned
