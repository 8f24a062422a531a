"""The retention settings form: the DataProtectionSettings fields with what each means; the
model's validators give the messages (“At least one year.”)."""

from typing import Any

from django import forms

from privacy.models import DataProtectionSettings, JobKind
from privacy.services.jobs import JOBS
from privacy.services.settings import SETTINGS_FIELDS


class DataProtectionSettingsForm(forms.ModelForm):
    class Meta:
        model = DataProtectionSettings
        fields = list(SETTINGS_FIELDS)
        help_texts = {
            "backup_retention_years": "How long the operators keep backups of the institution's "
            "data. Cohortly does not delete backups: anonymised data stays in backups made "
            "before, until they expire.",
            # Help texts are rendered as HTML: the model's "<N" would open a tag.
            "small_cell_threshold": "In equity breakdowns exported from Cohortly, a count under "
            "this number is shown as “&lt;N”, so that no person can be singled out.",
            "report_expiry_days": "A report's file is deleted this long after it was made; "
            "running it again makes a new one.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update({"min": 1, "inputmode": "numeric"})

    def service_arguments(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in SETTINGS_FIELDS}


class JobStartForm(forms.Form):
    """Which job to run, and whether only as a dry run."""

    kind = forms.ChoiceField(choices=[(kind, JobKind(kind).label) for kind in JOBS])
    dry_run = forms.BooleanField(required=False)
