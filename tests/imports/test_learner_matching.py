"""An import matches each row to the learner its ID number and e-mail address belong to, in the
check (the preview, the command) and again when writing; a row whose number and address are
different people's is refused, naming the learner but never the number."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from cohorts.imports.selectors import enrollments_import_plan
from cohorts.imports.validation import rows_check
from cohorts.imports.writing import enrollments_import
from cohorts.models import StudentImport, StudentImportStatus
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from learners.models import IdentityType, Learner
from learners.services import learner_national_id, national_id_fields
from tests.factories import CohortFactory
from tests.imports.support import csv_bytes, student_row, unique_email
from tests.imports.test_command import run
from tests.imports.test_views import upload
from tests.learners.support import sa_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client_for, institution, admin):
    client = client_for(institution)
    client.force_login(admin)
    return client


def check(cohort, *rows: dict):
    return rows_check(cohort=cohort, rows=list(enumerate(rows, start=2)))


@pytest.fixture
def known(admin):
    """A learner who studied here before: an account, an ID number on file."""
    enrollment = enrollment_invite(
        cohort=CohortFactory(),
        actor=admin,
        email=unique_email("known"),
        full_name="Naledi Mokoena",
        id_number=sa_id_number(101),
    )
    return enrollment.learner


def candidate(number: str = "", email: str = "") -> Learner:
    """A learner registered before having an account (as an agent registers a candidate)."""
    learner = Learner(
        first_name="Kagiso",
        last_name="Pillay",
        email=email or unique_email("candidate"),
        **national_id_fields(kind=IdentityType.SA_ID, country="ZA", number=number),
    )
    learner.save()
    return learner


def test_a_number_that_belongs_to_a_learner_with_another_address_is_refused_naming_them(
    cohort, known
):
    number = sa_id_number(101)

    report = check(cohort, student_row(id_number=number))

    assert report.valid == []
    (invalid,) = report.invalid
    (message,) = invalid["messages"]
    assert message.startswith(
        f"This ID number belongs to Naledi Mokoena (learner {known.pk}) already."
    )
    assert number not in str(invalid)
    assert number[-4:] not in str(invalid)


def test_an_address_whose_learner_has_another_number_on_file_is_refused(cohort, known):
    report = check(cohort, student_row(email=known.user.email, id_number=sa_id_number(102)))

    (invalid,) = report.invalid
    assert invalid["messages"] == [
        f"This e-mail address belongs to Naledi Mokoena (learner {known.pk}), who has a "
        "different ID number on file: check the number or the address."
    ]
    assert not invalid["already_in_cohort"]


def test_two_rows_with_one_number_are_refused(cohort):
    number = sa_id_number(103)

    report = check(
        cohort,
        student_row(id_number=number),
        student_row(),
        student_row(id_number=f"{number[:6]} {number[6:]}"),
    )

    assert [row["line"] for row in report.valid] == [2, 3]
    assert [(row["line"], row["messages"]) for row in report.invalid] == [
        (4, ["Duplicate: the same ID number is on row 2."])
    ]


def test_a_row_with_the_number_and_address_of_a_learner_joins_them(cohort, admin, known):
    same = student_row(email=known.user.email.upper(), id_number=sa_id_number(101))
    report = check(cohort, same, student_row())
    assert report.invalid == []
    plan = enrollments_import_plan(cohort=cohort, rows=report.valid)
    assert (plan.new_learners, plan.existing_learners) == (1, 1)
    learners = Learner.objects.count()

    result = enrollments_import(cohort=cohort, actor=admin, rows=report.valid)

    assert (result.new_learners, result.existing_learners) == (1, 1)
    assert Learner.objects.count() == learners + 1
    enrollment = CohortEnrollment.objects.get(cohort=cohort, user=known.user)
    assert enrollment.learner == known


def test_a_row_without_a_number_joins_the_learner_of_its_address(cohort, admin, known):
    result = enrollments_import(
        cohort=cohort, actor=admin, rows=[student_row(email=known.user.email, id_number="")]
    )

    assert (result.new_learners, result.existing_learners) == (0, 1)
    assert CohortEnrollment.objects.get(cohort=cohort).learner == known
    assert learner_national_id(known) == sa_id_number(101)


def test_a_candidate_without_an_account_is_given_the_new_account_and_the_number(cohort, admin):
    registered = candidate(email=unique_email("candidate"))
    number = sa_id_number(104)

    result = enrollments_import(
        cohort=cohort, actor=admin, rows=[student_row(email=registered.email, id_number=number)]
    )

    assert (result.new_accounts, result.existing_learners, result.new_learners) == (1, 1, 0)
    registered.refresh_from_db()
    enrollment = CohortEnrollment.objects.get(cohort=cohort)
    assert enrollment.learner == registered
    assert registered.user == enrollment.user
    assert learner_national_id(registered) == number
    assert registered.updated_by == admin
    event = AuditEvent.objects.get(action="learner.changed", entity_id=str(registered.pk))
    assert event.new_values["user"] == enrollment.user.pk
    assert set(event.new_values) >= {"national_id_hash", "national_id_encrypted"}
    assert number not in str(event.new_values)


def test_a_candidate_found_by_number_is_given_the_account_of_the_same_address(cohort, admin):
    number = sa_id_number(105)
    registered = candidate(number=number)

    enrollments_import(
        cohort=cohort, actor=admin, rows=[student_row(email=registered.email, id_number=number)]
    )

    assert CohortEnrollment.objects.get(cohort=cohort).learner == registered


def test_a_number_taken_after_the_check_refuses_the_import_when_writing(cohort, admin):
    number = sa_id_number(106)
    report = check(cohort, student_row(), student_row(id_number=number))
    assert report.invalid == []
    taken_by = candidate(number=number)
    before = (Learner.objects.count(), CohortEnrollment.objects.count())

    with pytest.raises(ValidationError) as refused:
        enrollments_import(cohort=cohort, actor=admin, rows=report.valid)

    (message,) = refused.value.messages
    assert message.startswith(
        f"1 row cannot be imported. Row 3: This ID number belongs to Kagiso Pillay (learner "
        f"{taken_by.pk}) already."
    )
    assert number not in message
    assert (Learner.objects.count(), CohortEnrollment.objects.count()) == before


def test_rows_in_storage_are_matched_again_when_the_import_runs(client, cohort):
    number = sa_id_number(107)
    upload(client, cohort, csv_bytes([student_row(id_number=number)]))
    student_import = StudentImport.objects.get(cohort=cohort)
    candidate(number=number)

    client.post(reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]))

    student_import.refresh_from_db()
    assert student_import.status == StudentImportStatus.FAILED
    assert "This ID number belongs to Kagiso Pillay" in student_import.error
    assert number not in student_import.error
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_the_preview_counts_new_and_existing_learners_and_masks_the_numbers(client, cohort, known):
    number = sa_id_number(108)
    rows = [
        student_row(full_name="New Learner", id_number=number),
        student_row(email=known.user.email, id_number=sa_id_number(101)),
    ]
    upload(client, cohort, csv_bytes(rows))
    student_import = StudentImport.objects.get(cohort=cohort)

    page = client.get(
        reverse("cohort_import:detail", args=[cohort.pk, student_import.pk])
    ).content.decode()

    assert "1 new learner, 1 existing learner" in page
    assert f"•••• {number[-4:]}" in page
    assert number not in page


def test_the_command_refuses_a_number_of_another_learner_naming_them(cohort, known, tmp_path):
    path = tmp_path / "students.csv"
    good, taken = student_row(), student_row(id_number=sa_id_number(101))
    path.write_bytes(csv_bytes([good, taken]))

    out, err = run(cohort, path)

    assert (
        f"row 3 ({taken['email']}): This ID number belongs to Naledi Mokoena (learner {known.pk})"
    ) in err
    assert sa_id_number(101) not in out + err
    assert "1 new learners, 0 existing learners" in out
    assert CohortEnrollment.objects.filter(cohort=cohort, user__email=good["email"]).exists()


def test_matching_takes_the_same_number_of_queries_for_few_and_many_rows(cohort, admin):
    def queries(count: int) -> tuple[int, int]:
        existing = [
            enrollment_invite(
                cohort=CohortFactory(),
                actor=admin,
                email=unique_email(),
                full_name="Been Here",
                id_number=sa_id_number(2000 + count * 10 + index),
            ).learner
            for index in range(count)
        ]
        rows = [
            student_row(email=learner.user.email, id_number=learner_national_id(learner))
            for learner in existing
        ] + [student_row(id_number=sa_id_number(3000 + count * 10 + i)) for i in range(count)]
        with CaptureQueriesContext(connection) as checking:
            report = check(cohort, *rows)
        with CaptureQueriesContext(connection) as writing:
            enrollments_import(cohort=cohort, actor=admin, rows=report.valid)
        return len(checking), len(writing)

    queries(1)
    assert queries(2) == queries(5)


def test_rows_waiting_for_confirmation_keep_numbers_sealed_and_refusals_masked(client, cohort):
    number, misplaced = sa_id_number(120), sa_id_number(121)
    upload(
        client,
        cohort,
        csv_bytes([student_row(id_number=number), student_row(email=misplaced)]),
    )
    student_import = StudentImport.objects.get(cohort=cohort)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT valid_rows::text || row_errors::text FROM cohorts_studentimport WHERE id = %s",
            [student_import.pk],
        )
        [(stored,)] = cursor.fetchall()

    assert number not in stored
    assert misplaced not in stored
    (row,) = student_import.valid_rows
    assert row["national_id_last4"] == number[-4:]
    (refused,) = student_import.row_errors
    assert refused["email"] == f"•••• {misplaced[-4:]}"
    assert refused["messages"] == [f"“•••• {misplaced[-4:]}” is not a valid e-mail address."]

    client.post(reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]))

    # Opened only to be written: the learner has the number, encrypted under its own key.
    learner = CohortEnrollment.objects.get(cohort=cohort).learner
    assert learner_national_id(learner) == number
    assert learner.national_id_last4 == number[-4:]
