"""The student portal's forms. Each validates everything on the server and says, next to the
field, what is wrong and how to put it right."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from stdnum.za import idnr

from enrolments.choices import Disability, Gender, IdNumberError, Race, id_number_clean

MIN_AGE = 15  # South Africa's minimum age for employment, and so for a learnership.
MAX_AGE = 100
# Gender from the ID number's sequence digits, for a student who leaves the field empty.
ID_GENDERS = {"F": Gender.FEMALE, "M": Gender.MALE}


class HomeLanguage(models.TextChoices):
    """The twelve official languages of South Africa (sign language since 2023), and other."""

    AFRIKAANS = "afrikaans", "Afrikaans"
    ENGLISH = "english", "English"
    ISINDEBELE = "isindebele", "isiNdebele"
    ISIXHOSA = "isixhosa", "isiXhosa"
    ISIZULU = "isizulu", "isiZulu"
    SEPEDI = "sepedi", "Sepedi (Sesotho sa Leboa)"
    SESOTHO = "sesotho", "Sesotho"
    SETSWANA = "setswana", "Setswana"
    SISWATI = "siswati", "siSwati"
    TSHIVENDA = "tshivenda", "Tshivenda"
    XITSONGA = "xitsonga", "Xitsonga"
    SASL = "sasl", "South African Sign Language"
    OTHER = "other", "Other"


class Qualification(models.TextChoices):
    NONE = "none", "No formal schooling completed"
    GRADE_9_11 = "grade_9_11", "Grade 9 to 11"
    MATRIC = "matric", "Matric (National Senior Certificate) or equivalent"
    HIGHER_CERTIFICATE = "higher_certificate", "Higher certificate"
    DIPLOMA = "diploma", "Diploma or advanced certificate"
    DEGREE = "degree", "Bachelor's degree"
    POSTGRADUATE = "postgraduate", "Postgraduate qualification"


def _blank_first(choices: type[models.TextChoices]) -> list[tuple[str, str]]:
    return [("", "Choose…"), *choices.choices]


def _age_on(birth_date: datetime.date, today: datetime.date) -> int:
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


class StudentDetailsForm(forms.Form):
    """What an institution needs to know about a student, stored in
    CohortEnrollment.student_data. Date of birth and (if left empty) gender follow from a South
    African ID number when one is given."""

    id_number = forms.CharField(
        label="South African ID number",
        required=False,
        max_length=20,
        help_text="13 digits. Leave empty if you do not have one (e.g. you have a passport).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        help_text="Filled in from your ID number if you leave it empty.",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date as year-month-day, e.g. 2001-09-24."},
    )
    gender = forms.ChoiceField(
        choices=_blank_first(Gender),
        required=False,
        help_text="Filled in from your ID number if you leave it empty.",
    )
    race = forms.ChoiceField(
        label="Population group",
        choices=_blank_first(Race),
        error_messages={"required": "Choose your population group, or “Prefer not to say”."},
    )
    disability = forms.ChoiceField(
        choices=_blank_first(Disability),
        error_messages={"required": "Choose “None”, a kind of disability, or “Prefer not to say”."},
    )
    city = forms.CharField(
        label="City or town where you live",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
        error_messages={"required": "Enter the city or town where you live."},
    )
    home_language = forms.ChoiceField(
        choices=_blank_first(HomeLanguage),
        error_messages={"required": "Choose your home language, or “Other”."},
    )
    highest_qualification = forms.ChoiceField(
        choices=_blank_first(Qualification),
        error_messages={"required": "Choose the highest qualification you have completed."},
    )

    def __init__(self, *args, today: datetime.date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    @classmethod
    def initial_from(cls, student_data: dict) -> dict:
        """The form's initial values from what is stored (dates are stored as ISO strings)."""
        initial = {name: student_data[name] for name in cls.base_fields if name in student_data}
        if birth := student_data.get("date_of_birth"):
            try:
                initial["date_of_birth"] = datetime.date.fromisoformat(birth)
            except ValueError:
                initial.pop("date_of_birth")
        return initial

    def clean_id_number(self) -> str:
        raw = "".join(self.cleaned_data["id_number"].replace("-", " ").split())
        if not raw:
            return ""
        if not raw.isdigit():
            raise ValidationError("An ID number contains digits only.", code="id_format")
        if len(raw) != 13:
            raise ValidationError(
                "An ID number has 13 digits; this one has %(count)d.",
                code="id_length",
                params={"count": len(raw)},
            )
        try:
            return id_number_clean(raw)
        except IdNumberError as error:
            raise ValidationError(str(error), code="id_invalid") from None

    def _birth_date_check(self, birth: datetime.date) -> None:
        if birth > self.today:
            raise ValidationError("The date of birth is in the future.", code="future")
        age = _age_on(birth, self.today)
        if age < MIN_AGE:
            raise ValidationError(
                "You must be at least %(min)d years old to join a programme.",
                code="too_young",
                params={"min": MIN_AGE},
            )
        if age > MAX_AGE:
            raise ValidationError(
                "Check the year: that date of birth makes you %(age)d.",
                code="too_old",
                params={"age": age},
            )

    def clean_date_of_birth(self) -> datetime.date | None:
        birth = self.cleaned_data["date_of_birth"]
        if birth is not None:
            self._birth_date_check(birth)
        return birth

    def clean_city(self) -> str:
        city = " ".join(self.cleaned_data["city"].split())
        if not any(character.isalpha() for character in city):
            raise ValidationError("Enter the name of a city or town.", code="city")
        return city

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        id_number = cleaned.get("id_number")
        if id_number:
            from_id = idnr.get_birth_date(id_number)
            given = cleaned.get("date_of_birth")
            if given is None and "date_of_birth" not in self.errors:
                try:
                    self._birth_date_check(from_id)
                except ValidationError as error:
                    self.add_error("id_number", error)
                else:
                    cleaned["date_of_birth"] = from_id
            elif given is not None and given != from_id:
                self.add_error(
                    "date_of_birth",
                    ValidationError(
                        "The date of birth does not match your ID number (it says %(date)s).",
                        code="id_mismatch",
                        params={"date": from_id.isoformat()},
                    ),
                )
            if not cleaned.get("gender"):
                cleaned["gender"] = ID_GENDERS[idnr.get_gender(id_number)]
            cleaned["citizenship"] = idnr.get_citizenship(id_number)
        elif "id_number" not in self.errors:
            if cleaned.get("date_of_birth") is None and "date_of_birth" not in self.errors:
                self.add_error(
                    "date_of_birth",
                    ValidationError(
                        "Enter your date of birth, or your ID number to fill it in.",
                        code="required",
                    ),
                )
            if not cleaned.get("gender"):
                self.add_error(
                    "gender",
                    ValidationError("Choose your gender, or “Prefer not to say”.", code="required"),
                )
        return cleaned

    def student_data(self) -> dict:
        """The validated details as stored in CohortEnrollment.student_data (JSON)."""
        data = {
            name: self.cleaned_data[name]
            for name in (
                "id_number",
                "gender",
                "race",
                "disability",
                "city",
                "home_language",
                "highest_qualification",
            )
        }
        data["date_of_birth"] = self.cleaned_data["date_of_birth"].isoformat()
        if self.cleaned_data.get("citizenship"):
            data["citizenship"] = self.cleaned_data["citizenship"]
        return data


class DocumentUploadForm(forms.Form):
    """One file for one required document. The checks on the file itself (size, type by
    content, name) are in enrolments.uploads, which the view runs on the cleaned file."""

    file = forms.FileField(
        label="Choose a file",
        allow_empty_file=True,  # enrolments.uploads says "empty" in its own words
        error_messages={"required": "Choose a file to upload."},
    )
