from typing import cast

from django import forms
from django.conf import settings

from accounts.lists import FilterForm
from integrations.models import SyncJobStatus, SyncJobType


class SyncJobFilterForm(FilterForm):
    control_size = "sm"

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *SyncJobStatus.choices])
    job_type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *SyncJobType.choices]
    )
    entity_type = forms.ChoiceField(
        label="Record",
        required=False,
        choices=[
            ("", "Any record"),
            ("cohorts.cohort", "Cohort (course run)"),
            ("enrolments.cohortenrollment", "Enrolment"),
        ],
    )
    entity_id = forms.CharField(label="Record id", required=False, max_length=64)


class ConnectorConfigForm(forms.Form):
    """The super admin's connector settings. Secrets are never shown again: leave a secret
    field empty to keep the stored value."""

    connector = forms.ChoiceField(choices=())
    base_url = forms.URLField(label="Gateway base URL", max_length=300, assume_scheme="https")
    api_key = forms.CharField(
        label="API key", required=False, widget=forms.PasswordInput(render_value=False)
    )
    encryption_key = forms.CharField(
        label="Payload encryption key (base64, 256 bits)",
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    iv = forms.CharField(
        label="Fixed initialisation vector (only if the gateway prescribes one)",
        required=False,
        max_length=16,
        min_length=16,
    )
    max_attempts = forms.IntegerField(min_value=1, max_value=20, initial=6)
    timeout_seconds = forms.FloatField(
        label="Time-out (seconds)", min_value=1, max_value=120, initial=20
    )
    is_active = forms.BooleanField(label="Send jobs", required=False, initial=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["connector"]).choices = [
            (key, key.replace("_", " ")) for key in settings.SYNC_CONNECTORS
        ]
