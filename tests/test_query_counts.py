"""The number of queries each main page makes, signed in as the person who uses it, with several
rows on every page (so that a query per row would show). Each count includes the `SET
search_path` that django-tenants sends before every query.

The numbers are the counts measured before roles became data (when roles were a list on each
person): reading roles and permissions from tables must not make a page ask the database more.
They must not grow; a change that lowers one lowers the number here."""

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import SystemRole, User
from cohorts.models import Cohort
from cohorts.services import cohort_reviewer_set
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from integrations.models import SyncJob, SyncJobStatus, SyncJobType
from signing.models import AgreementTemplate
from signing.services.templates import template_create
from sponsors.services import cohort_sponsor_set, sponsor_create
from tests.enrolments.conftest import id_type, upload_document
from tests.enrolments.table_support import students_at_every_step
from tests.factories import CohortFactory, UserFactory
from tests.verification.conftest import matric_type

pytestmark = pytest.mark.django_db

# The one page above its count before roles became data (16): its role filter now lists the
# institution's roles, custom ones included, from their table (one query, whatever the rows).
PEOPLE_LIST_QUERIES = 18
# The cohort page of an admin: its students table reads each row's agreement and documents in
# its own query; the responsible admins card adds its choices and who is chosen (3 with the
# search path), whatever the number of admins; the learners' agreements summary one for its
# counts and one for the sponsor. The charts add 4: the progress funnel's counts and the weekly
# attendance rates, one query each (with its search path), whatever the learners and sessions.
# The innovation projects panel (for those who manage projects) adds 4: its counts per status
# and its delayed milestones, one query each (with its search path), whatever the projects.
COHORT_DASHBOARD_QUERIES = 39

MIXED_ROLES = [
    [SystemRole.ADMIN],
    [SystemRole.VERIFIER],
    [SystemRole.AUDITOR],
    [SystemRole.TRAINER],
    [SystemRole.STUDENT],
    [SystemRole.SPONSOR_CONTACT],
    [SystemRole.VERIFIER, SystemRole.AUDITOR],
    [SystemRole.ADMIN, SystemRole.TRAINER],
    [SystemRole.SUPER_ADMIN],
    [],
]


@pytest.fixture(autouse=True)
def _uploads_in_a_folder_of_the_test(media) -> None:
    """Uploads of the review queue's documents land under the test's own directory."""


@pytest.fixture
def page_queries(django_assert_num_queries) -> Callable[[Client, str, int], str]:
    """Fetch `url` once (the session, the institution and Django's caches warm up), then again
    asserting the number of queries; the page's text."""

    def fetch(client: Client, url: str, expected: int) -> str:
        assert client.get(url).status_code == 200
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    return fetch


def _enrol(cohort: Cohort, actor: User, count: int, start: int = 0) -> list[CohortEnrollment]:
    return [
        enrollment_invite(
            cohort=cohort,
            actor=actor,
            email=f"student{cohort.pk}-{number}@example.org",
            full_name=f"Student {cohort.pk}-{number}",
        )
        for number in range(start, start + count)
    ]


def _cohorts_with_students(admin: User, cohorts: int = 4, students: int = 5) -> list[Cohort]:
    made = [CohortFactory(active=True, name=f"Cohort {number}") for number in range(cohorts)]
    for cohort in made:
        _enrol(cohort, admin, students)
    return made


def _with_uploads(cohort: Cohort, admin: User, students: int = 4) -> None:
    for enrollment in _enrol(cohort, admin, students, start=100):
        upload_document(enrollment, id_type())
        upload_document(enrollment, matric_type())


def _verifier_of(cohort: Cohort, admin: User) -> User:
    verifier = UserFactory(roles=[SystemRole.VERIFIER], full_name="Vusi Verifier")
    cohort_reviewer_set(cohort=cohort, actor=admin, reviewer=verifier, allowed=True)
    return verifier


def test_home_dashboard(admin, client_of, page_queries):
    _cohorts_with_students(admin, cohorts=3, students=2)
    text = page_queries(client_of(admin), "/", HOME_QUERIES)
    assert "Manage people" in text


# 12 before the start page showed each role its work: 6 queries more (each with its search
# path), whatever the cohorts and their work: the cohorts panel (the open cohorts, then one
# query for each kind of work: documents to review, agreements to countersign, invitations,
# the sponsor) and the latest audit events. 2 more (one query and its search path) for the
# workplace panel: an admin may assess and moderate, so whether they hold a registration. 2 more
# for the enrolments chart (its twelve months counted in one query). 2 more for the innovation
# projects panel: what waits for a manager, a reviewer or a project's people, in one query.
HOME_QUERIES = 30


@pytest.mark.parametrize("cohorts", [2, 6])
def test_home_dashboard_with_work_in_every_cohort(admin, client_of, page_queries, cohorts):
    """The same number of queries whatever the number of cohorts and the work in each."""
    sponsor = sponsor_create(
        actor=admin,
        company_name="Ubuntu Mining",
        contact_name="Sipho Dlamini",
        contact_email="sipho@ubuntu.example",
        contact_phone="+27 11 555 0100",
        tax_number="9012345678",
    )
    for cohort in _cohorts_with_students(admin, cohorts=cohorts, students=2):
        cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)
        _with_uploads(cohort, admin, students=2)
    text = page_queries(client_of(admin), "/", HOME_QUERIES)
    assert text.count("documents to review") == min(cohorts, 8)
    assert text.count("Sponsor not signed yet") == min(cohorts, 8)


def test_people_list(admin, client_of, page_queries):
    for number in range(30):
        UserFactory(roles=MIXED_ROLES[number % len(MIXED_ROLES)], full_name=f"Person {number:02}")
    text = page_queries(client_of(admin), "/accounts/people/", PEOPLE_LIST_QUERIES)
    assert text.count("Person ") >= 20


def test_cohort_list(admin, client_of, page_queries):
    _cohorts_with_students(admin, cohorts=6, students=3)
    text = page_queries(client_of(admin), "/cohorts/", 18)
    assert all(f"Cohort {number}" in text for number in range(6))


def test_cohort_dashboard(admin, client_of, page_queries):
    cohort, *_ = _cohorts_with_students(admin, cohorts=2, students=8)
    for number in range(3):
        reviewer = _verifier_of(cohort, admin)
        reviewer.full_name = f"Reviewer {number}"
        reviewer.save(update_fields=["full_name"])
    for number in range(3):
        UserFactory(roles=[SystemRole.VERIFIER], full_name=f"Other verifier {number}")
    text = page_queries(client_of(admin), f"/cohorts/{cohort.pk}/", COHORT_DASHBOARD_QUERIES)
    assert text.count(f"Student {cohort.pk}-") == 8
    assert "Reviewer 2" in text
    assert "Other verifier 2" in text


def test_cohort_list_of_a_verifier(admin, client_of, page_queries):
    granted, *_ = _cohorts_with_students(admin, cohorts=3, students=3)
    text = page_queries(client_of(_verifier_of(granted, admin)), "/cohorts/", 20)
    assert granted.name in text
    assert "Cohort 1" not in text


def test_cohort_dashboard_of_a_verifier(admin, client_of, page_queries):
    granted, *_ = _cohorts_with_students(admin, cohorts=2, students=6)
    verifier = _verifier_of(granted, admin)
    # 4 of them for the charts (COHORT_DASHBOARD_QUERIES).
    text = page_queries(client_of(verifier), f"/cohorts/{granted.pk}/", 30)
    assert text.count(f"Student {granted.pk}-") == 6


def test_review_queue_of_a_verifier(admin, client_of, page_queries):
    granted, other = _cohorts_with_students(admin, cohorts=2, students=1)
    _with_uploads(granted, admin)
    _with_uploads(other, admin)
    text = page_queries(client_of(_verifier_of(granted, admin)), "/review/", 22)
    assert text.count(f"Student {granted.pk}-") >= 8
    assert f"Student {other.pk}-" not in text


def test_review_queue_of_an_admin(admin, client_of, page_queries):
    for cohort in _cohorts_with_students(admin, cohorts=2, students=1):
        _with_uploads(cohort, admin)
    text = page_queries(client_of(admin), "/review/", 20)
    assert text.count("Student ") >= 16


def test_audit_list(admin, client_of, page_queries):
    _cohorts_with_students(admin, cohorts=3, students=4)
    auditor = UserFactory(roles=[SystemRole.AUDITOR])
    text = page_queries(client_of(auditor), "/audit/", 21)
    assert text.count(admin.email) >= 10


def test_sponsor_list(admin, client_of, page_queries):
    cohorts = _cohorts_with_students(admin, cohorts=4, students=1)
    for number in range(8):
        contact = UserFactory(roles=[SystemRole.SPONSOR_CONTACT]) if number % 2 else None
        sponsor = sponsor_create(
            actor=admin,
            company_name=f"Sponsor {number}",
            contact_name=f"Contact {number}",
            contact_email=f"contact{number}@sponsor.example",
            user=contact,
        )
        if number < len(cohorts):
            cohort_sponsor_set(cohort=cohorts[number], sponsor=sponsor, actor=admin)
    text = page_queries(client_of(admin), "/sponsors/", 18)
    assert all(f"Sponsor {number}" in text for number in range(8))


def test_agreement_template_list(admin, client_of, page_queries):
    for number in range(6):
        template_create(
            title=f"Agreement {number}",
            body="<p>We agree.</p>",
            signer_roles=["student", "institution_admin"],
            actor=admin,
        )
    text = page_queries(client_of(admin), "/agreements/", 14)
    assert all(f"Agreement {number}" in text for number in range(6))


def test_sync_job_list(admin, client_of, page_queries):
    statuses = list(SyncJobStatus)
    for number in range(12):
        SyncJob.objects.create(
            job_type=SyncJobType.ENROLMENT_CREATE,
            entity_type="enrolments.cohortenrollment",
            entity_id=str(number),
            idempotency_key=f"job-{number}",
            payload_hash=f"hash-{number}",
            status=statuses[number % len(statuses)],
        )
    # 20, plus the dead letters among the listed jobs and the last 24 hours' chart (one query
    # each, and the search path before each).
    text = page_queries(client_of(admin), "/integrations/", 24)
    assert text.count("enrolments.cohortenrollment") >= 12


def test_my_enrolments_of_a_student(admin, client_of, page_queries):
    cohorts = [CohortFactory(active=True, name=f"Cohort {number}") for number in range(4)]
    consent = AgreementTemplate.objects.create(
        title="POPIA consent", body="<p>I consent.</p>", signer_roles=["student"]
    )
    for cohort in cohorts:
        cohort.supporting_templates.set([consent])
    enrollments = [
        enrollment_invite(
            cohort=cohort, actor=admin, email="sipho@example.org", full_name="Sipho Student"
        )
        for cohort in cohorts
    ]
    for enrollment in enrollments[:2]:
        upload_document(enrollment, id_type())
    # Two of them (each with its search path) load the supporting agreements, two the documents
    # a cohort asks a fresh copy of, whatever the count.
    text = page_queries(client_of(enrollments[0].user), "/my/", 24)
    assert all(cohort.name in text for cohort in cohorts)


def test_cohort_dashboard_with_agreements_and_documents_at_every_step(
    admin, client_of, page_queries
):
    """The agreement and documents columns are read in the table's own query: a cohort of
    students at every step costs what a cohort of new ones does, at two sizes."""
    fresh, busy = _cohorts_with_students(admin, cohorts=2, students=0)
    _enrol(fresh, admin, 5)
    students_at_every_step(admin, busy)
    client = client_of(admin)
    page_queries(client, f"/cohorts/{fresh.pk}/", COHORT_DASHBOARD_QUERIES)
    text = page_queries(client, f"/cohorts/{busy.pk}/", COHORT_DASHBOARD_QUERIES)
    assert "Waiting for the sponsor" in text
    _enrol(busy, admin, 6, start=50)
    text = page_queries(client, f"/cohorts/{busy.pk}/?agreement=waiting", COHORT_DASHBOARD_QUERIES)
    assert "Waiting for the student" in text
