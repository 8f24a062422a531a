"""The team pages' forms: adding a person to the team, handing the lead over, a milestone,
and completing a milestone with its evidence."""

from typing import Any

from django import forms

from enrolments.evidence import EVIDENCE_MAX_SIZE_MB
from projects.models import MemberRole
from projects.selectors.team import people_who_may_join


class PersonChoiceField(forms.ModelChoiceField):
    """A person chosen from the search results (the page renders them as radio buttons, filled
    in as one types); anyone who may join is accepted, and the service checks again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=people_who_may_join(),
            widget=forms.HiddenInput,
            error_messages={
                "required": "Search for the person by name or e-mail, then choose them.",
                "invalid_choice": "Choose a person from the search results.",
            },
            **kwargs,
        )


class MemberAddForm(forms.Form):
    user = PersonChoiceField(label="Person")
    role = forms.ChoiceField(
        label="Role",
        choices=[
            (MemberRole.MEMBER, "Member: works on the project"),
            (MemberRole.MENTOR, "Mentor: guides the team"),
            (MemberRole.ADVISOR, "Advisor: gives expert advice"),
        ],
        widget=forms.RadioSelect,
        initial=MemberRole.MEMBER,
    )


class LeaderChangeForm(forms.Form):
    user = PersonChoiceField(label="New leader")
    stays_as_member = forms.BooleanField(
        label="The current leader stays on the team as a member",
        required=False,
        initial=True,
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(label="Title", max_length=255)
    due_date = forms.DateField(
        label="Due date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What is done when this milestone is reached (optional).",
    )


class MilestoneCompleteForm(forms.Form):
    file = forms.FileField(
        label="File",
        required=False,
        help_text=f"A PDF, JPEG or PNG of at most {EVIDENCE_MAX_SIZE_MB} MB: a report, a "
        "photo of the prototype, minutes of a meeting.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,image/*"}),
    )
    evidence_link = forms.CharField(
        label="Link",
        required=False,
        max_length=500,
        help_text="A web address (http:// or https://) where the work can be seen.",
        widget=forms.TextInput(attrs={"inputmode": "url", "placeholder": "https://"}),
    )
    evidence_note = forms.CharField(
        label="Note",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything the reader of the evidence should know (optional).",
    )
