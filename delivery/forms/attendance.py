"""The register form (one status and one reason per learner, and on a signed-off register the
reason for the correction) and the attendance threshold's form."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms

from delivery.models import AttendanceStatus
from delivery.selectors.attendance import MARKS, RegisterRow
from delivery.services.attendance import REASON_MAX_LENGTH, Mark


@dataclass
class RegisterItem:
    """One learner of the form: their row, and their status and reason fields."""

    row: RegisterRow
    status: forms.BoundField
    reason: forms.BoundField
    was: forms.BoundField
    was_reason: forms.BoundField


class RegisterForm(forms.Form):
    """A register as the trainer marks it: `status-<course enrolment id>` (empty: not marked)
    and `reason-<id>` per learner, with the status and reason the page showed (`was-<id>`,
    `was-reason-<id>`); `change_reason` once the register is signed off."""

    def __init__(
        self, data: Any = None, *, rows: list[RegisterRow], correcting: bool = False
    ) -> None:
        super().__init__(data)
        self.rows = rows
        self.correcting = correcting
        choices = [(status.value, status.label) for status in MARKS]
        for row in rows:
            pk = row.enrolment.pk
            self.fields[f"status-{pk}"] = forms.ChoiceField(
                label=row.name,
                choices=choices,
                required=False,
                widget=forms.RadioSelect,
                initial=None if row.status == AttendanceStatus.UNKNOWN else row.status,
            )
            self.fields[f"reason-{pk}"] = forms.CharField(
                label=f"Reason ({row.name})",
                required=False,
                max_length=REASON_MAX_LENGTH,
                initial=row.reason,
            )
            self.fields[f"was-{pk}"] = forms.CharField(
                required=False, widget=forms.HiddenInput, initial=row.status
            )
            self.fields[f"was-reason-{pk}"] = forms.CharField(
                required=False, strip=False, widget=forms.HiddenInput, initial=row.reason
            )
        if correcting:
            self.fields["change_reason"] = forms.CharField(
                label="Why does the signed-off register change?",
                required=False,
                max_length=REASON_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Kept with each corrected record, beside its earlier value.",
            )

    def items(self) -> Iterator[RegisterItem]:
        for row in self.rows:
            pk = row.enrolment.pk
            yield RegisterItem(
                row=row,
                status=self[f"status-{pk}"],
                reason=self[f"reason-{pk}"],
                was=self[f"was-{pk}"],
                was_reason=self[f"was-reason-{pk}"],
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for row in self.rows:
            pk = row.enrolment.pk
            if (
                cleaned.get(f"status-{pk}") == AttendanceStatus.EXCUSED
                and not cleaned.get(f"reason-{pk}", "").strip()
            ):
                self.add_error(
                    f"reason-{pk}", "An excused absence needs the reason it was accepted."
                )
        return cleaned

    def marks(self) -> dict[int, Mark]:
        """The marks for the services, by course enrolment id."""
        return {
            row.enrolment.pk: Mark(
                status=self.cleaned_data[f"status-{row.enrolment.pk}"] or AttendanceStatus.UNKNOWN,
                reason=self.cleaned_data[f"reason-{row.enrolment.pk}"],
                seen=self._seen(row.enrolment.pk),
            )
            for row in self.rows
        }

    def _seen(self, pk: int) -> tuple[str, str] | None:
        if f"was-{pk}" not in self.data:
            return None
        return (self.cleaned_data[f"was-{pk}"], self.cleaned_data[f"was-reason-{pk}"])


class AttendanceThresholdForm(forms.Form):
    percent = forms.IntegerField(
        label="Attendance threshold (%)",
        min_value=1,
        max_value=100,
        help_text="Learners whose attendance rate is under this percentage are flagged on their "
        "cohort's attendance page. Excused absences count neither way.",
    )
