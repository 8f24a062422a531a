"""Fees and subsidies: finance sets a programme's fee and each learner's in a run (validated:
not negative, an ISO 4217 currency), every change audited and the changed enrolment sent to the
gateway; the programme's fee applied to a whole run; the fees pages, who may open them, and the
programme form's fee fields."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import SystemRole
from accounts.services import role_create
from audit.models import AuditEvent
from delivery.models import CourseEnrollment, CourseEnrollmentStatus
from delivery.services.fees import (
    Fee,
    course_enrollment_fee_set,
    course_run_programme_fee_apply,
    programme_fee_set,
)
from enrolments.services import enrollment_invite
from integrations.models import SyncJob, SyncStatus
from integrations.testing import FakeGateway
from tests.factories import CourseEnrollmentFactory, CourseRunFactory, ProgrammeFactory, UserFactory
from tests.integrations.conftest import configure, invite_consenting

pytestmark = pytest.mark.django_db

COURSE_ENROLMENT = "delivery.courseenrollment"


@pytest.fixture
def connected(institution):
    """The institution reports to the fake gateway."""
    with FakeGateway() as gateway:
        configure(gateway)
        yield gateway


@pytest.fixture
def finance(institution):
    return UserFactory(roles=[SystemRole.FINANCE], full_name="Fiona Finance")


@pytest.fixture
def run(institution):
    return CourseRunFactory()


def _learner_in(run, admin, name: str, **fields) -> CourseEnrollment:
    enrollment = invite_consenting(
        cohort=run.cohort,
        actor=admin,
        email=f"{name.lower().replace(' ', '.')}@example.org",
        full_name=name,
    )
    return CourseEnrollmentFactory(course_run=run, enrollment=enrollment, **fields)


def _fee_jobs() -> list[SyncJob]:
    return list(SyncJob.objects.filter(entity_type=COURSE_ENROLMENT).order_by("id"))


def test_finance_sets_a_programmes_fee_audited(finance):
    programme = ProgrammeFactory()

    programme_fee_set(
        actor=finance,
        programme=programme,
        fee=Fee(Decimal("12500.00"), "zar", " MICT SETA grant, 90% "),
    )

    programme.refresh_from_db()
    assert (programme.fee_amount, programme.fee_currency, programme.subsidy_info) == (
        Decimal("12500.00"),
        "ZAR",
        "MICT SETA grant, 90%",
    )
    event = AuditEvent.objects.get(action="programme.fee_set", actor=finance)
    assert event.new_values["fee_amount"] == "12500.00"
    assert event.old_values == {"fee_amount": None, "subsidy_info": ""}


@pytest.mark.parametrize(
    ("fee", "field"),
    [
        (Fee(Decimal("-1"), "ZAR"), "fee_amount"),
        (Fee(Decimal("10.005"), "ZAR"), "fee_amount"),
        (Fee(Decimal("10"), "XYZ"), "fee_currency"),
        (Fee(Decimal("10"), ""), "fee_currency"),
    ],
)
def test_a_wrong_fee_is_refused_by_field(finance, fee, field):
    programme = ProgrammeFactory()

    with pytest.raises(ValidationError) as refused:
        programme_fee_set(actor=finance, programme=programme, fee=fee)

    assert list(refused.value.error_dict) == [field]
    programme.refresh_from_db()
    assert programme.fee_amount is None
    assert not AuditEvent.objects.filter(action="programme.fee_set").exists()


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.OPS_ADMIN, SystemRole.AUDITOR])
def test_only_who_manages_fees_sets_them(role, run, admin):
    enrolment = _learner_in(run, admin, "Sipho Dube")

    with pytest.raises(PermissionDenied):
        programme_fee_set(
            actor=UserFactory(roles=[role]),
            programme=run.course.programme,
            fee=Fee(Decimal("1"), "ZAR"),
        )
    with pytest.raises(PermissionDenied):
        course_enrollment_fee_set(
            actor=UserFactory(roles=[role]), enrolment=enrolment, fee=Fee(Decimal("1"), "ZAR")
        )


def test_a_learners_fee_is_audited_and_sent_to_the_gateway(connected, finance, admin, run):
    enrolment = _learner_in(run, admin, "Sipho Dube")
    before = len(_fee_jobs())

    course_enrollment_fee_set(
        actor=finance,
        enrolment=enrolment,
        fee=Fee(Decimal("1500"), "ZAR", "Employer pays half"),
    )

    enrolment.refresh_from_db()
    assert (enrolment.fee_amount, enrolment.subsidy_info) == (
        Decimal("1500.00"),
        "Employer pays half",
    )
    jobs = _fee_jobs()
    assert len(jobs) == before + 1
    sent = jobs[-1].payload["enrolment"]
    assert sent["fees"] == {"amount": "1500.00", "currency": "ZAR"}
    assert sent["subsidy"] == "Employer pays half"
    assert AuditEvent.objects.filter(
        action="course_enrollment.fee_set", actor=finance, entity_id=str(enrolment.pk)
    ).exists()

    # The same fee again changes nothing: no event, no job.
    course_enrollment_fee_set(
        actor=finance,
        enrolment=enrolment,
        fee=Fee(Decimal("1500.00"), "ZAR", "Employer pays half"),
    )
    assert len(_fee_jobs()) == before + 1
    assert AuditEvent.objects.filter(action="course_enrollment.fee_set").count() == 1


def test_a_learner_who_left_the_run_keeps_their_fee(finance, admin, run):
    enrolment = _learner_in(run, admin, "Sipho Dube", status=CourseEnrollmentStatus.DROPPED)

    with pytest.raises(ValidationError, match="has left the run"):
        course_enrollment_fee_set(actor=finance, enrolment=enrolment, fee=Fee(Decimal("10"), "ZAR"))


def test_the_programmes_fee_is_applied_to_the_runs_learners(connected, finance, admin, run):
    staying = _learner_in(run, admin, "Sipho Dube")
    already = _learner_in(run, admin, "Naledi Mokoena")
    left = _learner_in(run, admin, "Thabo Nkosi", status=CourseEnrollmentStatus.DROPPED)
    programme = run.course.programme
    programme_fee_set(
        actor=finance, programme=programme, fee=Fee(Decimal("900"), "ZAR", "SETA grant")
    )
    course_enrollment_fee_set(
        actor=finance, enrolment=already, fee=Fee(Decimal("900"), "ZAR", "SETA grant")
    )
    before = len(_fee_jobs())

    changed = course_run_programme_fee_apply(actor=finance, run=run)

    assert changed == 1
    for enrolment in (staying, already, left):
        enrolment.refresh_from_db()
    assert (staying.fee_amount, staying.subsidy_info) == (Decimal("900.00"), "SETA grant")
    assert left.fee_amount is None
    jobs = _fee_jobs()
    assert [job.entity_id for job in jobs[before:]] == [str(staying.pk)]
    event = AuditEvent.objects.filter(action="course_enrollment.fee_set").latest("id")
    assert event.entity_id == str(staying.pk)
    assert event.new_values["from_programme"] == programme.code
    assert course_run_programme_fee_apply(actor=finance, run=run) == 0


def test_a_programme_without_a_fee_cannot_be_applied(finance, admin, run):
    _learner_in(run, admin, "Sipho Dube")

    with pytest.raises(ValidationError, match="has no fee yet"):
        course_run_programme_fee_apply(actor=finance, run=run)


# --- Pages -------------------------------------------------------------------------------------


def test_finance_finds_a_run_and_edits_a_learners_fee(client_of, finance, admin, run):
    enrolment = _learner_in(run, admin, "Sipho Dube")
    client = client_of(finance)

    home = client.get(reverse("delivery:fees"))
    assert home.status_code == 200
    assert reverse("delivery:fee_run", args=[run.pk]) in home.content.decode()
    assert 'href="/delivery/fees/"' in home.content.decode()  # the Fees menu entry
    page = client.get(reverse("delivery:fee_run", args=[run.pk]))
    assert "Sipho Dube" in page.content.decode()
    url = reverse("delivery:fee_enrolment", args=[run.pk, enrolment.pk])

    wrong = client.post(url, {"fee_amount": "100", "fee_currency": "ABC", "subsidy_info": ""})
    assert wrong.status_code == 400
    assert "ABC is not a currency" in wrong.content.decode()
    saved = client.post(url, {"fee_amount": "100", "fee_currency": "usd", "subsidy_info": ""})

    assert saved.url == reverse("delivery:fee_run", args=[run.pk])
    enrolment.refresh_from_db()
    assert (enrolment.fee_amount, enrolment.fee_currency) == (Decimal("100.00"), "USD")


def test_applying_the_programmes_fee_asks_first(client_of, finance, admin, run):
    enrolment = _learner_in(run, admin, "Sipho Dube")
    programme_fee_set(actor=finance, programme=run.course.programme, fee=Fee(Decimal("50"), "ZAR"))
    client = client_of(finance)
    url = reverse("delivery:fee_apply", args=[run.pk])

    asked = client.get(url)
    assert "Give all 1 learner in" in asked.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.fee_amount is None
    client.post(url)

    enrolment.refresh_from_db()
    assert enrolment.fee_amount == Decimal("50.00")


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.OPS_ADMIN, SystemRole.STUDENT])
def test_the_fees_pages_are_for_finance_only(client_of, role, admin, run):
    enrolment = _learner_in(run, admin, "Sipho Dube")
    client = client_of(UserFactory(roles=[role]))

    for url in (
        reverse("delivery:fees"),
        reverse("delivery:fee_programme", args=[run.course.programme_id]),
        reverse("delivery:fee_run", args=[run.pk]),
        reverse("delivery:fee_enrolment", args=[run.pk, enrolment.pk]),
        reverse("delivery:fee_apply", args=[run.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_the_runs_fees_page_shows_each_learners_standing_as_the_run_page_does(
    connected, client_of, finance, admin, run
):
    accepted = _learner_in(run, admin, "Sipho Dube")
    CourseEnrollment.objects.filter(pk=accepted.pk).update(
        sync_status=SyncStatus.ACCEPTED, sync_reference="ENR-000042", sync_attempts=2
    )
    unconsenting = enrollment_invite(
        cohort=run.cohort, actor=admin, email="lerato@example.org", full_name="Lerato Mokoena"
    )
    CourseEnrollmentFactory(course_run=run, enrollment=unconsenting)

    page = client_of(finance).get(reverse("delivery:fee_run", args=[run.pk])).content.decode()

    assert '<span class="badge text-bg-success">Accepted</span>' in page
    assert "<code>ENR-000042</code>" in page
    assert "2 attempts" in page
    assert '<span class="badge text-bg-warning">Not sent</span>' in page
    assert "Lerato Mokoena has not consented to sharing with the funding body." in page


def test_the_runs_fees_page_makes_as_many_queries_for_many_learners(
    connected, client_of, finance, admin, run, django_assert_num_queries
):
    _learner_in(run, admin, "Learner One")
    client = client_of(finance)
    url = reverse("delivery:fee_run", args=[run.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(6):
        _learner_in(run, admin, f"Learner Many{number}")
    with django_assert_num_queries(len(few)):
        assert client.get(url).status_code == 200


def test_the_programme_form_shows_the_fee_and_only_who_manages_fees_changes_it(
    client_of, super_admin
):
    programme = ProgrammeFactory(fee_amount=Decimal("10"))
    catalogue = UserFactory(roles=[SystemRole.ADMIN])
    url = reverse("academics:programme_edit", args=[programme.pk])
    fields = {
        "name": programme.name,
        "code": programme.code,
        "degree_type": programme.degree_type,
        "duration_years": "1",
        "total_credits": "120",
        "is_active": "on",
        "fee_amount": "20",
        "fee_currency": "EUR",
        "subsidy_info": "",
    }

    form = client_of(catalogue).get(url).context["form"]
    assert not form.fields["fee_amount"].disabled
    assert client_of(catalogue).post(url, {**fields, "fee_currency": "QQQ"}).status_code == 400
    client_of(catalogue).post(url, fields)
    programme.refresh_from_db()
    assert (programme.fee_amount, programme.fee_currency) == (Decimal("20.00"), "EUR")

    # Someone who manages the catalogue but not fees sees the fee and cannot change it.
    catalogue_only = role_create(
        actor=super_admin,
        name="Catalogue editor",
        description="Keeps the programmes and courses.",
        permission_codes=["academics.manage_catalogue"],
    )
    editor = UserFactory(roles=[catalogue_only])
    form = client_of(editor).get(url).context["form"]
    assert form.fields["fee_amount"].disabled
    client_of(editor).post(url, {**fields, "fee_amount": "99", "name": "Renamed"})
    programme.refresh_from_db()
    assert (programme.name, programme.fee_amount) == ("Renamed", Decimal("20.00"))
