"""The forms of trainers, course runs and sessions. They parse; the services decide."""

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet

from academics.models import AcademicSession
from accounts.lists import FilterForm
from delivery.models import CourseRun, DeliveryMode, Session, Trainer
from delivery.services.runs import RunChanges
from delivery.services.sessions import WEEKDAYS, Slot
from delivery.services.trainers import TrainerDetails
from enrolments.models import CohortEnrollment


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _trainer_field(required: bool = False, **kwargs: Any) -> "forms.ModelChoiceField[Trainer]":
    return forms.ModelChoiceField(
        queryset=Trainer.objects.filter(active_status=True).order_by("name"),
        required=required,
        **kwargs,
    )


class TrainerFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, max_length=100)
    active = forms.TypedChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), ("1", "Active"), ("0", "Inactive")],
        coerce=lambda value: value == "1",
        empty_value=None,
    )


class TrainerForm(forms.ModelForm):
    """A trainer's details; on a new trainer also the e-mail of their account (an account
    here is given the trainer role, a new address is invited)."""

    email = forms.EmailField(
        label="E-mail address",
        help_text="Their account here: someone with an account gets the trainer role; a new "
        "address gets an invitation to set a password.",
    )

    class Meta:
        model = Trainer
        fields = [
            "name",
            "phone_number",
            "credentials",
            "accreditation_number",
            "accreditation_expires_on",
            "active_status",
        ]
        widgets = {
            "accreditation_expires_on": _date(),
            "credentials": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"active_status": "Inactive trainers cannot be given runs or sessions."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["email"]
        self.order_fields(["name", "email"])

    def details(self) -> TrainerDetails:
        data = self.cleaned_data
        return TrainerDetails(
            name=data["name"],
            phone_number=data["phone_number"],
            credentials=data["credentials"],
            accreditation_number=data["accreditation_number"],
            accreditation_expires_on=data["accreditation_expires_on"],
            active_status=data["active_status"],
        )


class CohortRunsForm(forms.Form):
    """Creating the cohort's runs from its programme: who teaches them, in which academic
    session, how and where (each run can be changed afterwards)."""

    trainer = _trainer_field(help_text="Who teaches the runs; change it per run later.")
    academic_session = forms.ModelChoiceField(
        queryset=AcademicSession.objects.order_by("-start_date"),
        required=False,
        empty_label="The current academic session",
        help_text="The session the learners' course enrolments count in.",
    )
    delivery_mode = forms.ChoiceField(choices=DeliveryMode.choices, initial=DeliveryMode.CLASSROOM)
    venue = forms.CharField(max_length=200, required=False)


class RunForm(forms.ModelForm):
    trainer = _trainer_field()

    class Meta:
        model = CourseRun
        fields = ["title", "start_date", "end_date", "delivery_mode", "venue", "capacity"]
        widgets = {"start_date": _date(), "end_date": _date()}
        help_texts = {"capacity": "The most learners the run takes; empty for no limit."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trainer"].initial = self.instance.trainer_id
        self.order_fields(["title", "trainer"])

    def _post_clean(self) -> None:
        """Validation is the service's (run_update): the instance is not touched here."""

    def changes(self) -> RunChanges:
        data = self.cleaned_data
        return RunChanges(
            title=data["title"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            delivery_mode=data["delivery_mode"],
            venue=data["venue"],
            capacity=data["capacity"],
            trainer=data["trainer"],
        )


class TrainerChoosing:
    """A form whose `trainer` field says what choosing none means."""

    fields: dict[str, forms.Field]

    def _trainer_choice(self) -> "forms.ModelChoiceField[Trainer]":
        field = self.fields["trainer"]
        assert isinstance(field, forms.ModelChoiceField)
        return field


class SessionForm(TrainerChoosing, forms.Form):
    """One session: a day, its times, and where and who (the run's own when left empty)."""

    session_date = forms.DateField(label="Date", widget=_date())
    start_time = forms.TimeField(widget=_time())
    end_time = forms.TimeField(widget=_time())
    venue = forms.CharField(max_length=200, required=False)
    trainer = _trainer_field()

    def __init__(self, *args: Any, run: CourseRun, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["venue"].help_text = f"Empty: the run's ({run.venue or 'none'})."
        self._trainer_choice().empty_label = f"The run's trainer ({run.trainer or 'none'})"

    def slot(self) -> Slot:
        data = self.cleaned_data
        return Slot(
            session_date=data["session_date"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            venue=data["venue"],
            trainer=data["trainer"],
        )


class SessionMoveForm(SessionForm):
    """Where a session goes: prefilled with where it is."""

    def __init__(self, *args: Any, session: Session, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "session_date": session.session_date,
                "start_time": session.start_time,
                "end_time": session.end_time,
                "venue": session.venue,
                "trainer": session.trainer_id,
            },
        )
        super().__init__(*args, run=session.course_run, **kwargs)
        self.fields["venue"].help_text = ""
        self._trainer_choice().empty_label = "No trainer"


class WeeklyScheduleForm(TrainerChoosing, forms.Form):
    weekdays = forms.TypedMultipleChoiceField(
        label="Days of the week",
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    first = forms.DateField(label="From", widget=_date())
    last = forms.DateField(label="To", widget=_date())
    start_time = forms.TimeField(widget=_time())
    end_time = forms.TimeField(widget=_time())
    venue = forms.CharField(max_length=200, required=False)
    trainer = _trainer_field()

    def __init__(self, *args: Any, run: CourseRun, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"first": run.start_date, "last": run.end_date})
        super().__init__(*args, **kwargs)
        self.fields["venue"].help_text = f"Empty: the run's ({run.venue or 'none'})."
        self._trainer_choice().empty_label = f"The run's trainer ({run.trainer or 'none'})"
        self.fields[
            "last"
        ].help_text = "Public holidays and the institution's closures in between are skipped."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if isinstance(start, datetime.time) and isinstance(end, datetime.time) and end <= start:
            self.add_error("end_time", "A session ends after it starts.")
        return data


class SessionCancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="The learners and the trainer are e-mailed this.",
    )


class RunCancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Kept in the audit log and sent to the training gateway with the "
        "cancellation, e.g. too few learners, the venue closed.",
    )


class LearnerDropForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Kept in the audit log, e.g. changed elective, withdrew from the course.",
    )


class LearnerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: CohortEnrollment) -> str:
        return obj.learner.full_name or str(obj.user)


class EnrolLearnersForm(forms.Form):
    learners = LearnerChoiceField(
        queryset=CohortEnrollment.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Learners not in this run yet",
    )

    def __init__(self, *args: Any, candidates: QuerySet[CohortEnrollment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["learners"]
        assert isinstance(field, LearnerChoiceField)
        field.queryset = candidates
