from typing import Any, cast

from django import forms
from django.apps import apps
from django.conf import settings
from django.utils.text import capfirst

from accounts.lists import FilterForm
from integrations import payloads
from integrations.models import SyncJobStatus, SyncJobType


def synced_record_types() -> list[tuple[str, str]]:
    """Every record type an app registered a payload builder for (integrations.payloads), as
    (model label, the model's name), by name: the record filter's choices."""
    types = []
    for model in apps.get_models():
        label = model._meta.label_lower
        try:
            payloads.builder_for(label)
        except payloads.PayloadBuilderMissing:
            continue
        types.append((label, str(capfirst(model._meta.verbose_name))))
    return sorted(types, key=lambda choice: choice[1])


class SyncJobFilterForm(FilterForm):
    control_size = "sm"

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *SyncJobStatus.choices])
    job_type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *SyncJobType.choices]
    )
    entity_type = forms.ChoiceField(label="Record", required=False, choices=())
    entity_id = forms.CharField(label="Record id", required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["entity_type"]).choices = [
            ("", "Any record"),
            *synced_record_types(),
        ]

    def chosen(self) -> list[tuple[str, str, str, str]]:
        """The filters given a value, as (name, label, value, the value as shown): what a bulk
        action on the filtered list says it covers and posts along."""
        chosen = []
        for name, value in self.selector_filters().items():
            field = self.fields[name]
            shown = dict(getattr(field, "choices", ())).get(value, value)
            chosen.append((name, str(field.label), value, str(shown)))
        return chosen


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
