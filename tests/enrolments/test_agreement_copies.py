"""One template is the cohort's main agreement, each student's and the sponsor's: every copy
can be made, with its own party's values and the others' fields named for what they stand for."""

import pytest

from cohorts.services import cohort_activate, cohort_main_agreement_start
from enrolments.agreements import enrollment_agreement_send
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from signing.services.templates import template_create
from sponsors.services import cohort_sponsor_set, sponsor_create, sponsor_invite
from tests.factories import CohortFactory

pytestmark = pytest.mark.django_db

BODY = (
    "<p>{{ institution.name }} trains {{ student.full_name }} in {{ cohort.name }}, paid for by "
    "{{ sponsor.company_name }}. Signed for the institution by {{ admin.full_name }}.</p>"
)


@pytest.fixture
def cohort(admin):
    template = template_create(
        title="Tripartite learnership agreement",
        body=BODY,
        signer_roles=["institution_admin", "student", "sponsor"],
        actor=admin,
    )
    return CohortFactory(main_template=template, name="Welding 2027", created_by=admin)


def _values(submission, *names: str) -> list[str]:
    return [submission.context[name] for name in names]


FIELDS = ("student.full_name", "sponsor.company_name", "admin.full_name", "cohort.name")


def test_every_party_gets_a_copy_with_its_own_values(cohort, admin, enrol):
    url = cohort_main_agreement_start(cohort=cohort, actor=admin)
    link = link_for_token(url.rstrip("/").rsplit("/", 1)[-1])
    assert _values(link.submitter.submission, *FIELDS) == [
        "[The student's full name]",
        "[The sponsor's company name]",
        admin.full_name,
        "Welding 2027",
    ]
    submitter_sign(link=link, signed_name="Ada Admin", consent=True, signature_text="Ada Admin")
    sponsor = sponsor_create(
        actor=admin,
        company_name="Karoo Steel",
        contact_name="Naledi Khumalo",
        contact_email="naledi@karoo.example",
    )
    cohort = cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)
    cohort = cohort_activate(cohort=cohort, actor=admin)

    student = enrol(cohort=cohort, full_name="Thandi Mokoena")
    assert _values(enrollment_agreement_send(enrollment=student), *FIELDS) == [
        "Thandi Mokoena",
        "Karoo Steel",
        admin.full_name,  # who signed for the institution
        "Welding 2027",
    ]
    assert _values(sponsor_invite(cohort=cohort, actor=admin), *FIELDS) == [
        "[The student's full name]",
        "Karoo Steel",
        admin.full_name,
        "Welding 2027",
    ]


def test_a_student_copy_before_a_sponsor_is_chosen_names_the_sponsor_field(cohort, admin, enrol):
    cohort = CohortFactory(active=True, main_template=cohort.main_template)
    student = enrol(cohort=cohort, full_name="Thandi Mokoena")
    submission = enrollment_agreement_send(enrollment=student)
    assert _values(submission, "sponsor.company_name", "admin.full_name") == [
        "[The sponsor's company name]",
        "Ada Admin",  # who signed for the institution
    ]


def test_before_it_is_sent_the_student_reads_their_agreement_filled_in_as_far_as_known(
    admin, enrol, client_of
):
    from django.urls import reverse

    template = template_create(
        title="Bursary agreement",
        body="<p>{{ institution.name }} and {{ student.full_name }}, "
        "ID {{ student.id_number }}.</p>",
        signer_roles=["student"],
        actor=admin,
    )
    student = enrol(cohort=CohortFactory(active=True, main_template=template), full_name="Thandi")
    page = client_of(student.user).get(reverse("enrolments:agreement", args=[student.pk]))
    assert (
        "<p>Alpha College and Thandi, ID [The student&#x27;s ID or passport number].</p>"
        in page.content.decode()
    )
