"""Callbacks that apps register by name (signing.callbacks): what a submission may name, that
a name is registered once, that the domain apps register theirs at start-up, and the
migration that turned the dotted paths stored before into names."""

import importlib
import uuid

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection

from signing import callbacks
from signing.models import Submission
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline, submitter_sign
from signing.services.submissions import submission_create, submission_send
from tests.signing.callbacks import RECORD_COMPLETION, RECORD_DECLINE
from tests.signing.conftest import CONTEXT, SIGNERS, last_link_to

pytestmark = pytest.mark.django_db

migration = importlib.import_module("signing.migrations.0008_callback_names")


def _unique(prefix: str) -> str:
    """A name no other test registers (the registry lives as long as the process)."""
    return f"tests.{prefix}_{uuid.uuid4().hex}"


def _one_signer_submission(template, admin, **callback_names) -> Submission:
    return submission_create(
        template=template, context=CONTEXT, signers=SIGNERS[:1], actor=admin, **callback_names
    )


def test_a_registered_callback_is_called_by_its_name_on_completion(template, admin):
    name, calls = _unique("completed"), []
    callbacks.register(name, lambda *, submission: calls.append(submission.pk))
    submission = _one_signer_submission(template, admin, on_complete=name)
    submission_send(submission=submission, actor=admin)
    link = link_for_token(last_link_to(SIGNERS[0]["email"]))
    submitter_sign(link=link, signed_name="Thandi", consent=True, signature_text="Thandi")

    assert calls == [submission.pk]
    submission.refresh_from_db()
    assert submission.on_complete == name


def test_a_registered_decline_callback_gets_the_submission_and_the_signer(template, admin):
    name, calls = _unique("declined"), []
    callbacks.register(
        name, lambda *, submission, submitter: calls.append((submission.pk, submitter.role))
    )
    submission = _one_signer_submission(template, admin, on_decline=name)
    submission_send(submission=submission, actor=admin)
    link = link_for_token(last_link_to(SIGNERS[0]["email"]))
    submitter_decline(link=link, reason="Not this year.")

    assert calls == [(submission.pk, "student")]


@pytest.mark.parametrize("field", ["on_complete", "on_decline"], ids=["completion", "decline"])
@pytest.mark.parametrize(
    "name",
    ["nowhere.at_all", "tests.signing.callbacks.record_completion"],
    ids=["unknown", "a dotted path as stored before"],
)
def test_an_unknown_name_is_refused_when_a_submission_is_made(template, admin, field, name):
    with pytest.raises(ValidationError, match="Unknown callback"):
        _one_signer_submission(template, admin, **{field: name})
    assert not Submission.objects.exists()


def test_registering_a_name_twice_is_refused_and_the_first_stays(template, admin):
    name = _unique("twice")

    def first(*, submission) -> None: ...

    def second(*, submission) -> None: ...

    callbacks.register(name, first)
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        callbacks.register(name, second)
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        callbacks.register(name, first)
    assert callbacks.callback_for(name) is first


def test_a_callback_without_a_name_is_refused():
    with pytest.raises(ImproperlyConfigured, match="needs a name"):
        callbacks.register("", lambda *, submission: None)


def test_an_unknown_name_has_no_callback():
    with pytest.raises(callbacks.UnknownCallback, match="nowhere.at_all"):
        callbacks.callback_for("nowhere.at_all")


def test_a_subject_summary_registered_twice_is_refused():
    subject_type = _unique("subject")

    def summary(submission):
        return None

    callbacks.register_subject_summary(subject_type, summary)
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        callbacks.register_subject_summary(subject_type, lambda submission: None)
    assert callbacks.subject_summary_for(subject_type) is summary


def test_the_domain_apps_register_their_callbacks_at_start_up():
    from cohorts.services import cohort_main_agreement_signed
    from enrolments.agreements import enrollment_agreement_declined, enrollment_agreement_signed
    from sponsors.selectors import cohort_summary_for_signing
    from sponsors.services import sponsor_agreement_declined, sponsor_agreement_signed

    assert {name: callbacks.callback_for(name) for name in migration.NAMES_BY_PATH.values()} == {
        "cohorts.main_agreement_signed": cohort_main_agreement_signed,
        "enrolments.agreement_signed": enrollment_agreement_signed,
        "enrolments.agreement_declined": enrollment_agreement_declined,
        "sponsors.agreement_signed": sponsor_agreement_signed,
        "sponsors.agreement_declined": sponsor_agreement_declined,
    }
    assert callbacks.subject_summary_for("cohorts.cohort") is cohort_summary_for_signing


def test_the_migration_turns_stored_paths_into_names_and_back(template, admin):
    enrolment = _one_signer_submission(template, admin)
    sponsor = _one_signer_submission(template, admin)
    test_own = _one_signer_submission(
        template, admin, on_complete=RECORD_COMPLETION, on_decline=RECORD_DECLINE
    )
    Submission.objects.filter(pk=enrolment.pk).update(
        on_complete="enrolments.services.enrollment_agreement_signed",
        on_decline="enrolments.services.enrollment_agreement_declined",
    )
    Submission.objects.filter(pk=sponsor.pk).update(
        on_complete="sponsors.services.sponsor_agreement_signed",
        on_decline="sponsors.services.sponsor_agreement_declined",
    )

    migration.paths_to_names(apps, connection.schema_editor())

    def stored(submission: Submission) -> tuple[str, str]:
        submission.refresh_from_db()
        return submission.on_complete, submission.on_decline

    assert stored(enrolment) == ("enrolments.agreement_signed", "enrolments.agreement_declined")
    assert stored(sponsor) == ("sponsors.agreement_signed", "sponsors.agreement_declined")
    assert stored(test_own) == (RECORD_COMPLETION, RECORD_DECLINE)  # not a path: left alone

    migration.names_to_paths(apps, connection.schema_editor())

    assert stored(sponsor) == (
        "sponsors.services.sponsor_agreement_signed",
        "sponsors.services.sponsor_agreement_declined",
    )
    assert stored(test_own) == (RECORD_COMPLETION, RECORD_DECLINE)
