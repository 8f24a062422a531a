"""The team pages' forms: adding a person to the team, handing the lead over, a milestone,
and completing a milestone with its evidence."""

from typing import Any

from django import forms

from accounts.models import User
from enrolments.evidence import EVIDENCE_MAX_SIZE_MB
from projects.models import InnovationProject, MemberRole
from projects.selectors.team import people_one_may_add


class PersonChoiceField(forms.ModelChoiceField):
    """A person chosen from the search results (the page renders them as radio buttons, filled
    in as one types). The form narrows it to whom the actor may add (PersonForm); the service
    checks again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=User.objects.none(),
            widget=forms.HiddenInput,
            error_messages={
                "required": "Search for the person by name, then choose them.",
                "invalid_choice": "Choose a person from the search results.",
            },
            **kwargs,
        )


class PersonForm(forms.Form):
    """A form choosing a person for `project`'s team: only someone `actor` may add is accepted
    (anyone else is refused as unknown, like an id that does not exist)."""

    def __init__(
        self, data: Any = None, *, actor: User, project: InnovationProject, **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        person = self.fields["user"]
        assert isinstance(person, forms.ModelChoiceField)
        person.queryset = people_one_may_add(actor, project)


class MemberAddForm(PersonForm):
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


class LeaderChangeForm(PersonForm):
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
