"""Forms of the review pages: a criterion, a panel, a reviewer's scores and a decision. The
services check the rules; these parse the input."""

from typing import Any

from django import forms

from academics.models import Programme
from accounts.models import Role, SystemRole, User
from projects.models import ReviewCriterion, ReviewPanel
from projects.selectors.review import possible_reviewers
from projects.services.review_setup import MAX_SCORE_LIMIT


class CriterionForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What a reviewer looks for: reviewers read it beside each score.",
    )
    max_score = forms.IntegerField(
        label="Highest score",
        min_value=1,
        max_value=MAX_SCORE_LIMIT,
        initial=5,
        help_text="Reviewers score from 0 to this.",
    )
    position = forms.IntegerField(
        min_value=0,
        max_value=32767,
        initial=0,
        help_text="Criteria are listed in this order, lowest first.",
    )

    @classmethod
    def for_criterion(cls, data: Any, criterion: ReviewCriterion) -> "CriterionForm":
        return cls(
            data,
            initial={
                "name": criterion.name,
                "description": criterion.description,
                "max_score": criterion.max_score,
                "position": criterion.position,
            },
        )


class ReviewerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


class PanelForm(forms.Form):
    programme = forms.ModelChoiceField(
        queryset=Programme.objects.order_by("name"),
        required=False,
        empty_label="Every programme (without a panel of its own)",
    )
    role = forms.ModelChoiceField(
        queryset=Role.objects.exclude(key=SystemRole.STUDENT).order_by("name"),
        required=False,
        empty_label="No role: only the people chosen below",
        help_text="Everyone holding this role reviews (students never do).",
    )
    reviewers = ReviewerChoiceField(
        queryset=possible_reviewers(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="People in service who are not students. A proposal's own members never "
        "review it.",
    )

    def __init__(self, *args: Any, panel: ReviewPanel | None = None, **kwargs: Any) -> None:
        if panel is not None:
            kwargs.setdefault(
                "initial", {"role": panel.role, "reviewers": list(panel.reviewers.all())}
            )
        super().__init__(*args, **kwargs)
        if panel is not None:
            # A panel stays with its programme: another programme gets a panel of its own.
            del self.fields["programme"]


class ScoreForm(forms.Form):
    """A score (0 to the maximum) and a comment per active criterion, overall comments, and the
    reviewer's confirmation that submitting is final."""

    comments = forms.CharField(
        label="Overall comments",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Your view of the proposal as a whole, for the panel and the decision.",
    )
    confirm = forms.BooleanField(
        label="I have scored every criterion: my scores are final once submitted.",
        error_messages={"required": "Tick the box to confirm: scores cannot change after."},
    )

    def __init__(self, *args: Any, criteria: list[ReviewCriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=f"Score for {criterion.name}",
                coerce=int,
                choices=[("", "Choose…")]
                + [(str(score), str(score)) for score in range(criterion.max_score + 1)],
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=f"Comment on {criterion.name}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        # The criteria's rows first, then the overall comments and the confirmation.
        self.order_fields([name for name in self.fields if name not in ("comments", "confirm")])

    def rows(self) -> list[tuple[ReviewCriterion, forms.BoundField, forms.BoundField]]:
        return [
            (criterion, self[f"score_{criterion.pk}"], self[f"comment_{criterion.pk}"])
            for criterion in self.criteria
        ]

    def scores(self) -> dict[int, tuple[int, str]]:
        return {
            criterion.pk: (
                self.cleaned_data[f"score_{criterion.pk}"],
                self.cleaned_data[f"comment_{criterion.pk}"],
            )
            for criterion in self.criteria
        }


DECISION_CHOICES = [
    ("approve", "Approve"),
    ("reject", "Reject"),
    ("send_back", "Send back for changes"),
]


class DecideForm(forms.Form):
    decision = forms.ChoiceField(widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required to reject or send back: the proposers are e-mailed it.",
    )
    without_missing = forms.BooleanField(
        required=False, label="Decide without the scores still missing"
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], missing: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        decision = self.fields["decision"]
        assert isinstance(decision, forms.ChoiceField)
        decision.choices = choices
        if not missing:
            del self.fields["without_missing"]
