"""The cohort page's students table: each student's agreement (not sent, waiting for whom,
declined with the reason, signed) and documents (not uploaded, waiting for review, rejected,
approved), and the filters on both, which keep the page's other filters and refuse unknown
values with a sentence."""

import re

import pytest

from accounts.models import SystemRole
from cohorts.services import cohort_reviewer_set
from enrolments.models import AgreementStatus, DocumentsStatus
from enrolments.selectors import enrollment_list_for_cohort
from signing.selectors import submissions_for_subject
from tests.enrolments.table_support import DECLINE_REASON, sign_next, students_at_every_step
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_a_folder_of_the_test(media) -> None:
    """The students' uploads land under the test's own directory."""


@pytest.fixture
def students(admin):
    return students_at_every_step(admin)


def _row(html: str, name: str) -> str:
    """The table row of the student called `name`."""
    [row] = [row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if name in row]
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def test_the_selector_tells_every_agreement_and_documents_status_apart(students):
    rows = {e.pk: e for e in enrollment_list_for_cohort(cohort=students.cohort)}

    assert [
        (rows[e.pk].agreement_status, rows[e.pk].latest_agreement_waiting_role)
        for e in (students.not_sent, students.waiting_student, students.waiting_sponsor)
    ] == [
        (AgreementStatus.NOT_SENT, None),
        (AgreementStatus.WAITING, "student"),
        (AgreementStatus.WAITING, "sponsor"),
    ]
    declined = rows[students.declined.pk]
    assert declined.agreement_status == AgreementStatus.DECLINED
    assert (declined.latest_agreement_declined_role, declined.latest_agreement_decline_reason) == (
        "student",
        DECLINE_REASON,
    )
    assert rows[students.signed.pk].agreement_status == AgreementStatus.SIGNED
    assert [
        rows[e.pk].documents_status
        for e in (
            students.not_sent,
            students.waiting_sponsor,
            students.waiting_student,
            students.declined,
            students.signed,
        )
    ] == [
        DocumentsStatus.NOT_UPLOADED,
        DocumentsStatus.NOT_UPLOADED,
        DocumentsStatus.WAITING_REVIEW,
        DocumentsStatus.REJECTED,
        DocumentsStatus.APPROVED,
    ]


def test_the_table_says_who_each_agreement_waits_for_and_where_the_documents_stand(
    students, admin_client
):
    html = admin_client.get(f"/cohorts/{students.cohort.pk}/").content.decode()

    assert "Agreement" in html
    assert "Not sent" in _row(html, "Ann Notsent")
    assert "Not uploaded 0 of 2 uploaded" in _row(html, "Ann Notsent")
    assert "Waiting for the student" in _row(html, "Ben Waitingstudent")
    assert "Waiting for review 2 of 2 to review" in _row(html, "Ben Waitingstudent")
    assert "Waiting for the sponsor" in _row(html, "Cara Waitingsponsor")
    assert "Not uploaded 1 of 2 uploaded" in _row(html, "Cara Waitingsponsor")
    declined = _row(html, "Dan Declined")
    assert f"Declined By the student: “{DECLINE_REASON}”" in declined
    assert "Rejected 1 of 2 rejected" in declined
    assert "Signed" in _row(html, "Eve Signed")
    assert "Approved" in _row(html, "Eve Signed")


def test_the_agreement_waits_for_the_institution_once_student_and_sponsor_have_signed(
    students, admin
):
    sign_next(submissions_for_subject(students.waiting_sponsor).get(), "Sam Sponsor")

    row = enrollment_list_for_cohort(cohort=students.cohort).get(pk=students.waiting_sponsor.pk)
    assert row.agreement_status == AgreementStatus.WAITING
    assert row.latest_agreement_waiting_role == "institution_admin"


def test_a_verifier_sees_who_declined_but_not_the_reason(students, admin, client_of):
    verifier = UserFactory(roles=[SystemRole.VERIFIER])
    cohort_reviewer_set(cohort=students.cohort, actor=admin, reviewer=verifier, allowed=True)

    html = client_of(verifier).get(f"/cohorts/{students.cohort.pk}/").content.decode()

    assert "Declined By the student" in _row(html, "Dan Declined")
    assert DECLINE_REASON not in html
    assert "students.csv" not in html  # the export is for those who manage enrolments


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("agreement=waiting", ["Ben Waitingstudent", "Cara Waitingsponsor"]),
        ("agreement=declined", ["Dan Declined"]),
        ("agreement=not_sent", ["Ann Notsent"]),
        ("documents=not_uploaded", ["Ann Notsent", "Cara Waitingsponsor"]),
        ("documents=waiting_review", ["Ben Waitingstudent"]),
        ("documents=approved", ["Eve Signed"]),
        ("agreement=waiting&documents=not_uploaded", ["Cara Waitingsponsor"]),
        ("agreement=waiting&q=ben", ["Ben Waitingstudent"]),
    ],
)
def test_the_filters_keep_only_the_students_in_that_status(students, admin_client, query, names):
    html = admin_client.get(f"/cohorts/{students.cohort.pk}/?{query}").content.decode()
    table = html[html.index('id="students"') :]

    shown = [
        name
        for name in ("Ann Notsent", "Ben Waitingstudent", "Cara Waitingsponsor")
        + ("Dan Declined", "Eve Signed")
        if name in table
    ]
    assert shown == names


def test_the_sort_links_keep_the_filters(students, admin_client):
    html = admin_client.get(
        f"/cohorts/{students.cohort.pk}/?agreement=waiting&documents=not_uploaded&state=in_progress"
    ).content.decode()

    assert "Cara Waitingsponsor" in html
    query = "state=in_progress&amp;agreement=waiting&amp;documents=not_uploaded&amp;"
    assert f'href="?{query}sort=-name"' in html
    assert f'href="?{query}sort=agreement"' in html


def test_paging_keeps_the_filters(students, admin_client, monkeypatch):
    import accounts.lists

    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 1)
    html = admin_client.get(f"/cohorts/{students.cohort.pk}/?agreement=waiting").content.decode()

    assert "Ben Waitingstudent" in html
    assert "Cara Waitingsponsor" not in html
    assert "agreement=waiting&amp;page=2" in html or "page=2&amp;agreement=waiting" in html
    second = admin_client.get(
        f"/cohorts/{students.cohort.pk}/?agreement=waiting&page=2"
    ).content.decode()
    assert "Cara Waitingsponsor" in second
    assert "Ben Waitingstudent" not in second


def test_an_unknown_status_is_refused_with_a_sentence_and_the_list_is_not_filtered(
    students, admin_client
):
    html = admin_client.get(
        f"/cohorts/{students.cohort.pk}/?agreement=lost&documents=burnt"
    ).content.decode()

    assert "Choose an agreement status from the list." in html
    assert "Choose a documents status from the list." in html
    assert "The list below is not filtered." in html
    assert "Ann Notsent" in html
    assert "Eve Signed" in html
