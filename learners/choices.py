"""The vocabulary of a learner's personal details, shared by the forms and the cohort import so
that both store the same values on `learners.models.Learner`.

Race and disability are special personal information (POPIA section 26): store them only on the
learner, never in logs, audit values or e-mails.
"""

from functools import lru_cache

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.za import idnr


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    NON_BINARY = "non_binary", _("Non-binary")
    PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")


class Race(models.TextChoices):
    """South African employment-equity population groups."""

    AFRICAN = "african", _("African")
    COLOURED = "coloured", _("Coloured")
    INDIAN = "indian", _("Indian")
    WHITE = "white", _("White")
    PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")


class Disability(models.TextChoices):
    NONE = "none", _("None")
    SIGHT = "sight", _("Sight")
    HEARING = "hearing", _("Hearing")
    COMMUNICATION = "communication", _("Communication")
    PHYSICAL = "physical", _("Physical")
    INTELLECTUAL = "intellectual", _("Intellectual")
    EMOTIONAL = "emotional", _("Emotional")
    MULTIPLE = "multiple", _("Multiple")
    PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")


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


# Learner fields that are special personal information.
SPECIAL_PERSONAL_FIELDS = frozenset({"race", "disability"})


def _normalise(text: str) -> str:
    return " ".join(str(text).replace("_", " ").replace("-", " ").casefold().split())


@lru_cache(maxsize=64)
def _lookup(choices: type[models.TextChoices], language: str | None) -> dict[str, str]:
    """Normalised values and labels (in `language`) to values; built once, not per row."""
    lookup = {_normalise(label): value for value, label in choices.choices}
    lookup.update({_normalise(value): value for value in choices.values})
    return lookup


def choice_value(choices: type[models.TextChoices], raw: str) -> str | None:
    """The stored value for `raw`, given either as a value or as a label, case-insensitively and
    ignoring surrounding spaces, hyphens and underscores ("Prefer not to say",
    "PREFER_NOT_TO_SAY" and "prefer-not-to-say" are all `prefer_not_to_say`). None when `raw`
    is not one of the choices."""
    return _lookup(choices, get_language()).get(_normalise(raw))


class IdNumberError(ValueError):
    """A South African ID number that is not valid; the message says why, for a person."""


def id_number_clean(raw: str) -> str:
    """The 13-digit South African ID number in `raw` (spaces and hyphens removed), or
    IdNumberError saying what is wrong: not 13 digits, not a real date of birth, or a wrong
    check digit."""
    try:
        return idnr.validate(raw)
    except InvalidLength:
        raise IdNumberError(_("An ID number has 13 digits.")) from None
    except InvalidFormat:
        raise IdNumberError(_("An ID number contains digits only.")) from None
    except InvalidComponent:
        raise IdNumberError(
            _("The first six digits of the ID number are not a valid date of birth.")
        ) from None
    except InvalidChecksum:
        raise IdNumberError(
            _("The ID number's check digit is wrong: check it for a typing mistake.")
        ) from None
    except StdnumValidationError:
        raise IdNumberError(_("This is not a valid South African ID number.")) from None
