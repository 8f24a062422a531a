"""The moderation pages' forms: the policy, drawing a sample (the pair and the moderator),
and a verdict on one sampled decision. The services check everything again; the forms shape
input and say what is missing."""

from typing import Any

from django import forms

from accounts.models import User
from delivery.models import CourseRun
from workplace.models import Decision, ModerationItem, Verdict
from workplace.services.moderation import MINIMUM_RANGE, SHARE_RANGE


class ModerationPolicyForm(forms.Form):
    share_percent = forms.IntegerField(
        label="Share of decisions (%)",
        min_value=SHARE_RANGE[0],
        max_value=SHARE_RANGE[1],
        help_text="The share of an assessor's decisions in a course run a moderator checks.",
    )
    minimum = forms.IntegerField(
        label="Minimum decisions per sample",
        min_value=MINIMUM_RANGE[0],
        max_value=MINIMUM_RANGE[1],
        help_text="A sample has at least this many decisions (all of them when there are "
        "fewer). Every “not yet competent” is always in the sample.",
    )


class SampleDrawForm(forms.Form):
    course_run = forms.ModelChoiceField(queryset=CourseRun.objects.all(), widget=forms.HiddenInput)
    assessor = forms.ModelChoiceField(queryset=User.objects.all(), widget=forms.HiddenInput)
    # Deleted people cannot be chosen (the assessor, hidden, is whoever decided, even since).
    moderator = forms.ModelChoiceField(
        queryset=User.objects.filter(deleted_at__isnull=True),
        error_messages={"required": "Choose a moderator."},
    )


def other_decision(decision: str) -> str:
    return Decision.NOT_YET_COMPETENT if decision == Decision.COMPETENT else Decision.COMPETENT


class VerdictForm(forms.Form):
    """Agree with the assessor's decision on `item`, or change it to the other one (with
    reasons). Prefixed with the item, so that a page holds one per sampled decision."""

    verdict = forms.ChoiceField(
        label="Your verdict",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": "Agree with the decision, or change it."},
    )
    reasons = forms.CharField(
        label="Reasons for the change",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text="Needed when you change the decision; the learner is told when you complete the "
        "sample.",
    )

    def __init__(self, *args: Any, item: ModerationItem, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"item-{item.pk}")
        if item.verdict != Verdict.PENDING:
            kwargs.setdefault("initial", {"verdict": item.verdict, "reasons": item.reasons})
        super().__init__(*args, **kwargs)
        self.item = item
        decision = item.submission.decision
        self.changed_to = other_decision(decision)
        verdict = self.fields["verdict"]
        assert isinstance(verdict, forms.ChoiceField)
        verdict.choices = [
            (Verdict.AGREED, f"Agree: {Decision(decision).label.lower()}"),
            (Verdict.CHANGED, f"Change to {Decision(self.changed_to).label.lower()}"),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("verdict") == Verdict.CHANGED and not (cleaned.get("reasons") or "").strip():
            self.add_error("reasons", "Give your reasons for changing the assessor's decision.")
        return cleaned
