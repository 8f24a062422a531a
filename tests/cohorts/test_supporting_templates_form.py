"""The cohort form's supporting agreements: the main agreement is not offered among them, and a
form that sends it anyway (or a template no student signs) is refused with a sentence that
says why."""

import re

import pytest

from cohorts.models import Cohort
from signing.models import AgreementTemplate
from signing.services.templates import template_create
from tests.factories import CohortFactory

pytestmark = pytest.mark.django_db

VALID = {
    "name": "2027 Internship",
    "program_type": "internship",
    "start_date": "2027-03-01",
    "end_date": "2027-08-31",
    "student_count": "12",
}


@pytest.fixture
def popia(admin) -> AgreementTemplate:
    return template_create(
        title="POPIA consent",
        body="<p>{{ student.full_name }} consents.</p>",
        signer_roles=["student"],
        actor=admin,
    )


def _supporting_options(page: str) -> set[str]:
    return set(re.findall(r'name="supporting_templates" value="(\d+)"', page))


def test_the_main_agreement_is_not_offered_as_a_supporting_one(admin_client, admin, popia):
    main = AgreementTemplate.objects.order_by("pk").first()

    page = admin_client.get("/cohorts/new/").content.decode()

    assert _supporting_options(page) == {str(popia.pk)}
    cohort = CohortFactory(created_by=admin, main_template=popia)
    edit = admin_client.get(f"/cohorts/{cohort.pk}/edit/").content.decode()
    assert str(popia.pk) not in _supporting_options(edit)
    assert str(main.pk) in _supporting_options(edit)


def test_the_form_refuses_the_main_agreement_as_a_supporting_one(admin_client, popia):
    main = AgreementTemplate.objects.order_by("pk").first()

    response = admin_client.post(
        "/cohorts/new/",
        {**VALID, "main_template": main.pk, "supporting_templates": [main.pk, popia.pk]},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert (
        f"“{main.title}” is this cohort&#x27;s main agreement, so it cannot also be a supporting "
        "agreement. Untick it here or choose another main agreement." in page
    )
    assert not Cohort.objects.filter(name="2027 Internship").exists()

    admin_client.post(
        "/cohorts/new/", {**VALID, "main_template": main.pk, "supporting_templates": [popia.pk]}
    )
    assert list(Cohort.objects.get(name="2027 Internship").supporting_templates.all()) == [popia]


def test_the_form_refuses_a_supporting_agreement_no_student_signs(admin_client, admin):
    sponsor_only = template_create(
        title="Sponsor's undertaking",
        body="<p>The sponsor pays.</p>",
        signer_roles=["sponsor"],
        actor=admin,
    )
    assert str(sponsor_only.pk) not in _supporting_options(
        admin_client.get("/cohorts/new/").content.decode()
    )

    page = admin_client.post(
        "/cohorts/new/", {**VALID, "supporting_templates": [sponsor_only.pk]}
    ).content.decode()

    assert (
        "“Sponsor&#x27;s undertaking” has no student among its signers, so students cannot sign "
        "it as a supporting agreement." in page
    )
