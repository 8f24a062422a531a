from typing import Any, cast

from django import forms

from accounts.lists import FilterForm
from accounts.models import User
from audit.selectors import audit_action_choices, audit_entity_type_choices


class AuditFilterForm(FilterForm):
    actor = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Anyone"
    )
    action = forms.ChoiceField(required=False)
    entity_type = forms.ChoiceField(required=False, label="Entity")
    entity_id = forms.CharField(required=False, max_length=100, label="Entity id")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor = cast(forms.ModelChoiceField, self.fields["actor"])
        actor.queryset = User.objects.order_by("full_name", "email")
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", "Any action")] + [
            (a, a) for a in audit_action_choices()
        ]
        cast(forms.ChoiceField, self.fields["entity_type"]).choices = [("", "Any entity")] + [
            (e, e) for e in audit_entity_type_choices()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if (
            cleaned.get("date_from")
            and cleaned.get("date_to")
            and cleaned["date_from"] > cleaned["date_to"]
        ):
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def selector_filters(self) -> dict[str, Any]:
        """The filters for audit_event_list, which takes the actor by id."""
        filters = super().selector_filters()
        if actor := filters.pop("actor", None):
            filters["actor_id"] = actor.pk
        return filters
