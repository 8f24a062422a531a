"""The reconciliation page's re-send: one record (its entity type and id), or every difference."""

from django import forms

from integrations.reconciliation import Outcome


class ResendForm(forms.Form):
    """Names the record to send again; neither field for every record that differs."""

    entity_type = forms.CharField(max_length=100, required=False)
    entity_id = forms.CharField(max_length=64, required=False)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if bool(cleaned.get("entity_type")) != bool(cleaned.get("entity_id")):
            raise forms.ValidationError("Name the record to send again by its type and its id.")
        return cleaned


class OutcomeFilterForm(forms.Form):
    """Which records the report lists: the differences unless another outcome is chosen."""

    DIFFERENCES = "differences"
    ALL = "all"

    outcome = forms.ChoiceField(
        required=False,
        choices=[(DIFFERENCES, "Differences"), (ALL, "All records"), *Outcome.choices],
    )

    def chosen(self) -> str:
        if self.is_valid() and self.cleaned_data["outcome"]:
            return str(self.cleaned_data["outcome"])
        return self.DIFFERENCES
