"""Every form of the application answers a mistake with sentences: a capital letter first, one
full stop (or question mark) at the end, none doubled, and nothing said twice beside a field:
the error does not repeat the help text shown under it."""

import importlib
import inspect
import re

import pytest
from django import forms

from accounts.models import User

pytestmark = pytest.mark.django_db

FORM_MODULES = [
    "accounts.forms",
    "audit.forms",
    "cohorts.forms",
    "cohorts.import_views",
    "enrolments.forms",
    "integrations.forms",
    "signing.forms",
    "sponsors.forms",
    "tenants.forms",
    "verification.forms",
]
# Wrong values of each kind of field: missing, malformed, too long, too small or too large.
TYPED = {
    forms.IntegerField: ["abc", "-5", "0", "9999999999"],
    forms.FloatField: ["abc", "-5", "9999999999"],
    forms.DateField: ["2027-13-45"],
    forms.EmailField: ["thandi@", "x" * 300 + "@example.org"],
    forms.CharField: ["x" * 5000],
}
# Values that the forms' own checks refuse, with their own words.
DOMAIN = {
    "InviteStudentForm": [
        {"id_number": "123"},
        {"id_number": "9001015009088"},
        {"id_number": "abc"},
    ],
    "LearnerDetailsForm": [
        {"id_number": "123"},
        {"id_number": "9001015009088"},
        {"id_number": "9013015009087"},
        {"date_of_birth": "2099-01-01"},
        {"date_of_birth": "1901-01-01"},
        {"city": "1234"},
    ],
    "InstitutionCreateForm": [
        {"code": "www"},
        {"code": "alpha"},
        {"code": "Acme College"},
        {"code": "9lives"},
        {"code": "acme-"},
        {"code": "a" * 41},
    ],
    "InstitutionProfileForm": [{"brand_colour": "#ffffff"}, {"brand_colour": "red"}],
    "InvitationAcceptForm": [
        {"password1": "Long-enough-1", "password2": "Long-enough-2"},
        {"password1": "password", "password2": "password"},
    ],
    "TemplateForm": [
        {"title": "T", "body": "x", "first_signer": "student", "third_signer": "student"},
        {"title": "T", "body": "x", "first_signer": "student", "second_signer": "student"},
    ],
    "DecisionForm": [{"decision": "rejected"}],
    "ConnectorConfigForm": [{"base_url": "ftp://example.org"}, {"base_url": "not a url"}],
    "CohortForm": [{"start_date": "2027-08-31", "end_date": "2027-03-01"}],
    "SignForm": [{"signature_image": "data:image/png;base64,@@@"}],
}
SENTENCE_END = re.compile(r"[.?!][”)]?$")


def form_classes() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name:
                found.append(cls)
    return found


def extra_arguments(cls: type[forms.BaseForm], person: User) -> dict:
    """What a form needs besides its data, as its view gives it."""
    wanted = inspect.signature(cls.__init__).parameters
    given = {
        "user": person,
        "verifiers": User.objects.all(),
        "choices": User.objects.all(),
        "document_type_name": "ID document",
    }
    return {name: value for name, value in given.items() if name in wanted}


def shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"[\w’'-]+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def problems_of(message: str, help_text: str) -> list[str]:
    found = []
    if not (message[:1].isupper() or message[:1].isdigit() or message[:1] in "“\"'"):
        found.append("does not start with a capital letter")
    if not SENTENCE_END.search(message):
        found.append("does not end with a full stop")
    if re.search(r"\.\s*\.(?!\.)|\.\.$|[.?!]\s*[.]$", message.replace("…", "")):
        found.append("has a doubled full stop")
    if re.search(r"[:;]\s+\.|\s\.$", message):
        found.append("has a stray full stop")
    help_plain = re.sub(r"<[^>]+>", " ", help_text)
    if help_plain and shingles(message) & shingles(help_plain):
        found.append(f"repeats its help text ({help_plain[:60]}...)")
    return found


def test_every_forms_error_messages_are_sentences_that_do_not_repeat_the_help(institution, admin):
    classes = form_classes()
    assert len(classes) > 25  # every form of the application, not a few
    problems: list[str] = []
    seen = 0
    for cls in classes:
        extra = extra_arguments(cls, admin)
        fields = cls(**extra).fields
        attempts: list[dict] = [{}]
        for name, field in fields.items():
            for kind, values in TYPED.items():
                if isinstance(field, kind) and not isinstance(field, forms.ChoiceField):
                    attempts += [{name: value} for value in values]
                    break
        attempts += DOMAIN.get(cls.__name__, [])
        for data in attempts:
            form = cls(data=data, files={}, **extra)
            form.is_valid()
            for name, errors in form.errors.items():
                help_text = str(form.fields[name].help_text) if name in form.fields else ""
                for message in errors:
                    seen += 1
                    problems += [
                        f"{cls.__name__}.{name} {data!r:.50}: “{message}” {problem}"
                        for problem in problems_of(message, help_text)
                    ]
    assert seen > 150
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("This ID number is not valid: The number has an invalid length..", "doubled"),
        ("the code is taken.", "capital"),
        ("The code is taken", "full stop"),
        ("Use lower-case letters, digits and hyphens (it becomes the address).", "repeats"),
    ],
)
def test_the_check_finds_what_it_looks_for(message, problem):
    help_text = "Lower-case letters, digits and hyphens; it becomes the institution's address."

    assert any(problem in found for found in problems_of(message, help_text))
