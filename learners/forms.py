"""The learner's details form: what an institution needs to know about a person, for the
student's own page in the portal and the admins' learner pages alike. It validates everything on
the server and says, next to the field, what is wrong and how to put it right."""

import datetime
import re
from typing import Any

import phonenumbers
import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from stdnum.za import idnr

from accounts.lists import FilterForm
from learners.choices import (
    Disability,
    Gender,
    HomeLanguage,
    IdNumberError,
    Qualification,
    Race,
    id_number_clean,
)
from learners.models import IdentityType, Learner, LearnerStatus
from learners.selectors import learner_cohort_choices, program_type_choices
from learners.services import learner_national_id, national_id_holder, national_id_taken_error

# ICAO 9303 passport numbers: up to nine characters in the machine-readable zone, some
# countries print longer ones; letters and digits only.
PASSPORT_FORMAT = re.compile(r"[A-Z0-9]{6,12}")
PASSPORT_COUNTRIES = sorted(
    ((country.alpha_2, country.name) for country in pycountry.countries),
    key=lambda choice: choice[1],
)
PROVINCES = (
    "Eastern Cape",
    "Free State",
    "Gauteng",
    "KwaZulu-Natal",
    "Limpopo",
    "Mpumalanga",
    "Northern Cape",
    "North West",
    "Western Cape",
)
MIN_AGE = 15  # South Africa's minimum age for employment, and so for a learnership.
MAX_AGE = 100
# Gender from the ID number's sequence digits, for a student who leaves the field empty.
ID_GENDERS = {"F": Gender.FEMALE, "M": Gender.MALE}


def _blank_first(choices: type[models.TextChoices]) -> list[tuple[str, str]]:
    return [("", "Choose…"), *choices.choices]


def _age_on(birth_date: datetime.date, today: datetime.date) -> int:
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


class LearnerDetailsForm(forms.Form):
    """What an institution needs to know about a learner (learners.models.Learner). Date of
    birth and (if left empty) gender follow from a South African ID number when one is given.

    A number already on file is never put back into the page: the field stays empty, its help
    says which number is kept (its last four digits), and leaving it empty keeps it."""

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

    passport_number = forms.CharField(
        label="Passport number",
        required=False,
        max_length=20,
        help_text="Only if you have no South African ID number.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    passport_country = forms.ChoiceField(
        label="Country that issued the passport",
        required=False,
        choices=[("", "Choose…"), *PASSPORT_COUNTRIES],
    )
    phone_number = forms.CharField(
        label="Mobile number",
        required=False,
        max_length=20,
        help_text="E.g. 082 123 4567 or +27 82 123 4567.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    address_line1 = forms.CharField(
        label="Street address",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label="Suburb or second line",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    province = forms.ChoiceField(
        required=False, choices=[("", "Choose…"), *((name, name) for name in PROVINCES)]
    )
    postal_code = forms.CharField(
        label="Postal code",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )

    def __init__(
        self,
        *args: Any,
        learner: Learner | None = None,
        today: datetime.date | None = None,
        name_holder: bool = False,
        **kwargs: Any,
    ) -> None:
        """`learner`: whose details these are (their values are the initial ones, and a number
        they already have is kept when the field is left empty). `name_holder`: whether a
        number that belongs to another learner is refused naming them (staff) or not (the
        student)."""
        if learner is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(learner)
        super().__init__(*args, **kwargs)
        self.learner = learner
        self.today = today or timezone.localdate()
        self.name_holder = name_holder
        if learner is not None and learner.national_id_last4:
            kept = (
                f"On file: the number ending {learner.national_id_last4}. Leave empty to keep "
                "it, or type the whole number to change it."
            )
            field = (
                "id_number"
                if learner.national_id_type == IdentityType.SA_ID
                else ("passport_number")
            )
            self.fields[field].help_text = kept

    @classmethod
    def initial_from(cls, learner: Learner) -> dict[str, Any]:
        """The learner's stored values, without their number (never put back into a page)."""
        initial = {
            name: getattr(learner, name)
            for name in cls.base_fields
            if hasattr(Learner, name) and getattr(learner, name) not in ("", None)
        }
        if learner.national_id_type == IdentityType.PASSPORT:
            initial["passport_country"] = learner.national_id_country
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

    def clean_passport_number(self) -> str:
        raw = "".join(self.cleaned_data["passport_number"].replace("-", " ").split()).upper()
        if raw and not PASSPORT_FORMAT.fullmatch(raw):
            raise ValidationError(
                "A passport number has 6 to 12 letters and digits, without other signs.",
                code="passport_format",
            )
        return raw

    def clean_phone_number(self) -> str:
        raw = self.cleaned_data["phone_number"].strip()
        if not raw:
            return ""
        try:
            number = phonenumbers.parse(raw, "ZA")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(
                "This is not a phone number we can call: check the digits.", code="phone"
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def _kept_sa_id(self) -> str:
        """The SA ID number on file when the field is left empty (for the checks it drives)."""
        learner = self.learner
        if learner is None or learner.national_id_type != IdentityType.SA_ID:
            return ""
        return learner_national_id(learner)

    def _holder_check(self, field: str, *, kind: str, country: str, number: str) -> None:
        holder = national_id_holder(
            kind=kind, country=country, number=number, excluding=self.learner
        )
        if holder is None:
            return
        if self.name_holder:
            self.add_error(field, national_id_taken_error(holder))
        else:
            self.add_error(
                field,
                ValidationError(
                    "This number is registered to another learner here. If it is yours, "
                    "contact the institution so they can put it right.",
                    code="national_id_taken",
                ),
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        new_id = cleaned.get("id_number")
        passport = cleaned.get("passport_number")
        if new_id and passport:
            self.add_error(
                "passport_number",
                ValidationError(
                    "Give either a South African ID number or a passport, not both.",
                    code="both_numbers",
                ),
            )
        if passport and not cleaned.get("passport_country"):
            self.add_error(
                "passport_country",
                ValidationError("Choose the country that issued the passport.", code="required"),
            )
        if new_id:
            self._holder_check("id_number", kind=IdentityType.SA_ID, country="ZA", number=new_id)
        elif passport and cleaned.get("passport_country"):
            self._holder_check(
                "passport_number",
                kind=IdentityType.PASSPORT,
                country=cleaned["passport_country"],
                number=passport,
            )
        id_number = new_id or ("" if passport else self._kept_sa_id())
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

    def details(self) -> dict[str, Any]:
        """The validated details, as learners.services.learner_details_save takes them: a
        number only when one was typed."""
        cleaned = self.cleaned_data
        details = {
            name: cleaned.get(name) or ""
            for name in (
                "gender",
                "race",
                "disability",
                "city",
                "home_language",
                "highest_qualification",
                "phone_number",
                "address_line1",
                "address_line2",
                "province",
                "postal_code",
                "citizenship",
            )
        }
        details["date_of_birth"] = cleaned["date_of_birth"]
        if cleaned.get("id_number"):
            details.update(
                national_id_type=IdentityType.SA_ID,
                national_id_country="ZA",
                national_id_number=cleaned["id_number"],
            )
        elif cleaned.get("passport_number"):
            details.update(
                national_id_type=IdentityType.PASSPORT,
                national_id_country=cleaned["passport_country"],
                national_id_number=cleaned["passport_number"],
                citizenship="",
            )
        elif self.learner is not None and self.learner.national_id_type == IdentityType.PASSPORT:
            details["citizenship"] = ""
        return details


class LearnerNamesForm(forms.Form):
    """Who the learner is and how to reach them, beside LearnerDetailsForm on the staff's
    learner form (learners.services.NAME_FIELDS)."""

    first_name = forms.CharField(
        label="First names", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    last_name = forms.CharField(
        label="Surname",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label="E-mail address",
        required=False,
        help_text="Where the learner is reached; their account's address may differ.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, learner: Learner | None = None, **kwargs: Any) -> None:
        if learner is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(learner, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)

    def names(self) -> dict[str, str]:
        return {name: " ".join(self.cleaned_data[name].split()) for name in self.base_fields}


class LearnerSearchForm(FilterForm):
    """The search box of the learners list, and of the merge's choice of the other record."""

    q = forms.CharField(
        required=False,
        label="Search",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Name, e-mail or last 4 ID digits"}),
    )

    def clean_q(self) -> str:
        query = " ".join(self.cleaned_data["q"].split())
        if re.search(r"\d{5,}", query):
            raise ValidationError(
                "Search by the last 4 digits only. To find a whole ID or passport number, use "
                "“Find by number”: it is not kept in the address bar or the server's logs.",
                code="whole_number",
            )
        return query


class NationalIdLookupForm(forms.Form):
    """An exact lookup by a whole ID or passport number, through its keyed hash (posted, so
    that the number never goes into an address or a log)."""

    number = forms.CharField(
        label="ID or passport number",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Type the whole ID or passport number."},
    )
    passport_country = forms.ChoiceField(
        label="Passport from",
        required=False,
        choices=[("", "A South African ID number"), *PASSPORT_COUNTRIES],
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        number = "".join(str(cleaned.get("number") or "").replace("-", " ").split()).upper()
        country = cleaned.get("passport_country") or ""
        if number:
            holder = national_id_holder(
                kind=IdentityType.PASSPORT if country else IdentityType.SA_ID,
                country=country or "ZA",
                number=number,
            )
            if holder is None:
                raise ValidationError("No learner here has that number.", code="not_found")
            cleaned["holder"] = holder
        return cleaned


class LearnerFilterForm(LearnerSearchForm):
    """The learners list's search and filters (learners.selectors.learner_list_for_staff)."""

    status = forms.ChoiceField(
        required=False,
        choices=[("", "Not archived"), *LearnerStatus.choices],
        error_messages={"invalid_choice": "Choose a status from the list."},
    )
    cohort = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose a cohort from the list."},
    )
    program_type = forms.ChoiceField(
        label="Programme",
        required=False,
        error_messages={"invalid_choice": "Choose a programme from the list."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cohort = self.fields["cohort"]
        assert isinstance(cohort, forms.TypedChoiceField)
        cohort.choices = [("", "Any cohort"), *learner_cohort_choices()]
        program_type = self.fields["program_type"]
        assert isinstance(program_type, forms.ChoiceField)
        program_type.choices = [("", "Any programme"), *program_type_choices()]
