"""The registrations' forms: the list's filters, and registering (or changing) an assessor's or
a moderator's registration. The forms parse each field; workplace.services.practitioners checks
the whole registration (the number taken, the person's role, one active per role)."""

from typing import Any, ClassVar, cast

from django import forms
from django.core.exceptions import ValidationError

from academics.models import Programme
from accounts.lists import FilterForm
from accounts.models import User
from workplace.models import PractitionerRegistration, PractitionerRole
from workplace.selectors.practitioners import (
    STANDING_CHOICES,
    practitioner_candidates,
    scope_choices,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RegistrationFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, max_length=100)
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "Any role"), *PractitionerRole.choices]
    )
    standing = forms.ChoiceField(
        label="Standing", required=False, choices=[("", "Any standing"), *STANDING_CHOICES]
    )

    selector_names: ClassVar[dict[str, str]] = {"q": "search"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name, e-mail or registered with"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


class RegistrationForm(forms.Form):
    """Registering a person (`registration` None) or changing their registration, whose person
    and role then stay as they are."""

    user = PersonChoiceField(
        label="Person",
        queryset=User.objects.none(),
        empty_label="Choose a person",
        help_text="People who hold the assessor or the moderator role (give it on the People "
        "page first).",
    )
    role = forms.ChoiceField(choices=PractitionerRole.choices, initial=PractitionerRole.ASSESSOR)
    registration_number = forms.CharField(
        max_length=50, help_text="As on the registration letter; unique per role."
    )
    registered_with = forms.CharField(
        max_length=200,
        required=False,
        help_text="The quality council or SETA (its ETQA), e.g. ETDP SETA.",
    )
    registered_on = forms.DateField(required=False, widget=DATE_INPUT, label="Registered on")
    expires_on = forms.DateField(
        widget=DATE_INPUT,
        label="Expires on",
        help_text="A date in the future. A month before it, the person and the people who manage "
        "practitioners are e-mailed.",
    )
    scope = forms.ModelMultipleChoiceField(
        label="Programmes covered",
        queryset=Programme.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The qualifications the registration lets them assess or moderate.",
    )
    is_active = forms.BooleanField(
        label="Active",
        required=False,
        initial=True,
        help_text="Untick when the registration is withdrawn: they can no longer assess or "
        "moderate with it.",
    )

    def __init__(
        self,
        *args: Any,
        registration: PractitionerRegistration | None = None,
        role: str = "",
        **kwargs: Any,
    ) -> None:
        if registration is not None:
            kwargs.setdefault(
                "initial",
                {
                    "registration_number": registration.registration_number,
                    "registered_with": registration.registered_with,
                    "registered_on": registration.registered_on,
                    "expires_on": registration.expires_on,
                    "scope": list(registration.scope.all()),
                    "is_active": registration.is_active,
                },
            )
        elif role:
            kwargs.setdefault("initial", {"role": role})
        super().__init__(*args, **kwargs)
        self.registration = registration
        scope = cast(forms.ModelMultipleChoiceField, self.fields["scope"])
        scope.queryset = scope_choices(registration)
        if registration is not None:
            # The person and role are the registration's own: another is a new registration.
            del self.fields["user"]
            del self.fields["role"]
        else:
            del self.fields["is_active"]
            user = cast(forms.ModelChoiceField, self.fields["user"])
            user.queryset = practitioner_candidates(role)

    def service_arguments(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

    def refusal_show(self, error: ValidationError) -> None:
        """The service's refusal, each message beside the field it names (above the form
        otherwise)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)
