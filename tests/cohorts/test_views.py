import pytest
from django.urls import reverse

import accounts.lists
from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.models import Cohort, CohortState, DocumentType
from cohorts.services import cohort_reviewer_set
from enrolments.models import CohortEnrollment, EnrollmentState
from enrolments.services import enrollment_invite
from signing.models import AgreementTemplate
from tests.factories import CohortFactory, UserFactory

pytestmark = pytest.mark.django_db


def _enrol(cohort, admin, n: int) -> None:
    for i in range(n):
        enrollment_invite(
            cohort=cohort, actor=admin, email=f"s{cohort.pk}-{i}@example.org", full_name=f"S {i}"
        )


def test_create_page_makes_a_draft(admin_client):
    template = AgreementTemplate.objects.first()
    documents = DocumentType.objects.filter(name__in=["CV", "Matric certificate"])
    response = admin_client.post(
        "/cohorts/new/",
        {
            "name": "2027 Internship",
            "program_type": "internship",
            "start_date": "2027-03-01",
            "end_date": "2027-08-31",
            "student_count": "12",
            "main_template": template.pk,
            "required_document_types": [d.pk for d in documents],
        },
    )
    cohort = Cohort.objects.get(name="2027 Internship")
    assert response["Location"] == reverse("cohorts:dashboard", args=[cohort.pk])
    assert cohort.state == CohortState.DRAFT
    assert set(cohort.required_document_types.all()) == set(documents)


def test_create_page_explains_bad_dates_beside_the_field(admin_client):
    response = admin_client.post(
        "/cohorts/new/",
        {
            "name": "X",
            "program_type": "internship",
            "start_date": "2027-03-01",
            "end_date": "2027-01-01",
            "student_count": "1",
        },
    )
    assert "The cohort cannot end before it starts." in response.content.decode()
    assert not Cohort.objects.filter(name="X").exists()


def test_running_cohort_edit_changes_only_dates_and_count(admin_client, admin, active_cohort):
    cohort = active_cohort()
    response = admin_client.post(
        f"/cohorts/{cohort.pk}/edit/",
        {
            "name": "Renamed",
            "program_type": "candidacy",
            "start_date": "2027-02-01",
            "end_date": "2027-12-15",
            "student_count": "30",
        },
    )
    assert response.status_code == 302
    cohort.refresh_from_db()
    assert cohort.name != "Renamed"
    assert cohort.program_type == "learnership"
    assert str(cohort.end_date) == "2027-12-15"
    assert cohort.student_count == 30


def test_list_filters_searches_and_counts(admin_client, admin, active_cohort):
    active_cohort(name="Active Alpha Learnership")
    CohortFactory(name="Draft Beta Internship", program_type="internship")
    page = admin_client.get("/cohorts/", {"state": "active"}).content.decode()
    assert "Active Alpha Learnership" in page
    assert "Draft Beta Internship" not in page
    found = admin_client.get("/cohorts/", {"q": "beta"}).content.decode()
    assert "Draft Beta Internship" in found
    assert "Active Alpha" not in found
    by_type = admin_client.get("/cohorts/", {"program_type": "internship"}).content.decode()
    assert "Draft Beta Internship" in by_type
    assert "Active Alpha" not in by_type


def test_activate_button_refuses_with_the_reason(admin_client):
    cohort = CohortFactory()
    response = admin_client.post(f"/cohorts/{cohort.pk}/activate/", follow=True)
    assert "Cannot activate: the main agreement has not been signed by an admin." in (
        response.content.decode()
    )


def _sign_through(url: str, name: str):
    from signing.selectors import link_for_token
    from signing.services.completion import submitter_sign

    token = url.partition("?")[0].rstrip("/").rsplit("/", 1)[-1]
    return submitter_sign(
        link=link_for_token(token), signed_name=name, consent=True, signature_text=name
    )


def test_the_sign_page_shows_the_agreement_filled_in_as_the_admin_signs_it(admin_client, admin):
    from signing.services.templates import template_create

    template = template_create(
        title="Welding agreement",
        body="<p><strong>{{ institution.name }}</strong> trains {{ student.full_name }} in "
        "{{ cohort.name }}; signed by {{ admin.full_name }}.</p>",
        signer_roles=["institution_admin", "student"],
        actor=admin,
    )
    cohort = CohortFactory(main_template=template, name="Welding 2027")
    page = admin_client.get(f"/cohorts/{cohort.pk}/sign/").content.decode()
    assert (
        "<p><strong>Alpha College</strong> trains [The student&#x27;s full name] in Welding 2027; "
        f"signed by {admin.full_name}.</p>"
    ) in page
    assert "{{" not in page


def test_the_sign_page_names_a_value_still_missing_and_signing_says_so(admin_client, admin):
    from signing.services.templates import template_create

    # A registration number the institution has not recorded reads as such, so that the
    # shipped agreement (which names it) can be signed; a merge value that is simply missing
    # is still refused.
    template = template_create(
        title="Welding agreement",
        body="<p>Registered as {{ institution.registration_number }}.</p>",
        signer_roles=["institution_admin"],
        actor=admin,
    )
    cohort = CohortFactory(main_template=template)
    page = admin_client.get(f"/cohorts/{cohort.pk}/sign/")
    assert page.status_code == 200
    assert "Registered as (none on record)." in page.content.decode()
    signing = admin_client.post(f"/cohorts/{cohort.pk}/sign/")
    assert "/sign/" in signing["Location"]


def test_sign_then_activate_from_the_pages(admin_client, admin):
    from signing.models import SubmissionStatus
    from signing.selectors import submissions_for_subject

    cohort = CohortFactory()
    assert "Sign agreement" in admin_client.get(f"/cohorts/{cohort.pk}/sign/").content.decode()
    response = admin_client.post(f"/cohorts/{cohort.pk}/sign/")
    assert response.status_code == 302
    assert "/sign/" in response["Location"]
    submission = submissions_for_subject(cohort).get()
    assert [s.role for s in submission.submitters.all()] == ["institution_admin"]
    assert submission.submitters.get().user == admin
    cohort.refresh_from_db()
    assert cohort.admin_signed_at is None

    _sign_through(response["Location"], "Ada Admin")
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.COMPLETED
    cohort.refresh_from_db()
    assert cohort.admin_signed_at is not None
    assert cohort.admin_signed_by == admin
    assert AuditEvent.objects.filter(
        action="cohort.main_agreement_signed", entity_id=str(cohort.pk)
    ).exists()
    dashboard = admin_client.get(f"/cohorts/{cohort.pk}/").content.decode()
    assert reverse("signing:submission_final", args=[submission.pk]) in dashboard

    admin_client.post(f"/cohorts/{cohort.pk}/activate/")
    cohort.refresh_from_db()
    assert cohort.state == CohortState.ACTIVE


def test_the_admins_copy_names_the_students_fields_for_what_they_stand_for(admin_client, admin):
    from signing.selectors import submissions_for_subject
    from signing.services.templates import template_create

    template = template_create(
        title="Needs a student",
        body="<p>Between us and {{ student.full_name }}.</p>",
        signer_roles=["student", "institution_admin"],
        actor=admin,
    )
    cohort = CohortFactory(main_template=template)
    response = admin_client.post(f"/cohorts/{cohort.pk}/sign/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign/")
    [submission] = submissions_for_subject(cohort)
    assert submission.context["student.full_name"] == "[The student's full name]"
    cohort.refresh_from_db()
    assert cohort.admin_signed_at is None


def test_invite_withdraw_and_cancel_from_the_pages(admin_client, admin, active_cohort):
    cohort = active_cohort()
    bad = admin_client.post(
        f"/cohorts/{cohort.pk}/students/invite/",
        {"full_name": "Bad Id", "email": "bad@example.org", "id_number": "1234567890123"},
    )
    assert "This ID number is not valid" in bad.content.decode()

    admin_client.post(
        f"/cohorts/{cohort.pk}/students/invite/",
        {"full_name": "Sipho Dlamini", "email": "sipho@example.org", "id_number": ""},
    )
    enrollment = CohortEnrollment.objects.get(cohort=cohort, user__email="sipho@example.org")
    again = admin_client.post(
        f"/cohorts/{cohort.pk}/students/invite/",
        {"full_name": "Sipho Dlamini", "email": "SIPHO@example.org"},
    )
    assert "already enrolled in this cohort" in again.content.decode()

    url = f"/cohorts/{cohort.pk}/students/{enrollment.pk}/withdraw/"
    assert "This field is required." in admin_client.post(url, {"reason": ""}).content.decode()
    admin_client.post(url, {"reason": "Found a job"})
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.WITHDRAWN
    event = AuditEvent.objects.get(action="enrollment.withdrawn")
    # Why a student left is about the person: recorded as given, without the words.
    assert event.new_values["withdrawal_reason"] == "(changed)"
    assert "Found a job" not in str(event.new_values)
    enrollment.refresh_from_db()
    assert enrollment.withdrawal_reason == "Found a job"

    admin_client.post(f"/cohorts/{cohort.pk}/cancel/", {"reason": "Funding ended"})
    cohort.refresh_from_db()
    assert cohort.state == CohortState.CANCELLED


def test_complete_page_forces_only_with_a_reason(admin_client, admin, active_cohort):
    cohort = active_cohort()
    _enrol(cohort, admin, 1)
    refused = admin_client.post(f"/cohorts/{cohort.pk}/complete/", {"reason": ""})
    assert "Give a reason to complete it anyway" in refused.content.decode()
    admin_client.post(f"/cohorts/{cohort.pk}/complete/", {"reason": "Programme closed"})
    cohort.refresh_from_db()
    assert cohort.state == CohortState.COMPLETED


def test_dashboard_shows_counts_and_filters_students(admin_client, admin, active_cohort):
    cohort = active_cohort()
    _enrol(cohort, admin, 3)
    enrollment_invite(cohort=cohort, actor=admin, email="zanele@example.org", full_name="Zanele M")
    page = admin_client.get(f"/cohorts/{cohort.pk}/").content.decode()
    assert "Zanele M" in page
    assert "4 not signed up" in page
    partial = admin_client.get(
        f"/cohorts/{cohort.pk}/", {"q": "zanele"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Zanele M" in partial
    assert "S 1" not in partial
    assert "<html" not in partial
    ordered = admin_client.get(f"/cohorts/{cohort.pk}/", {"sort": "-name"}).content.decode()
    assert ordered.index("Zanele M") < ordered.index("S 0")


@pytest.mark.parametrize("view", ["cohorts:list", "cohorts:dashboard"])
def test_query_counts_do_not_grow_with_enrolments(
    admin_client,
    admin,
    view,
    django_assert_num_queries,
    django_assert_max_num_queries,
    active_cohort,
):
    small, large = active_cohort(), active_cohort()
    _enrol(small, admin, 5)
    _enrol(large, admin, 50)

    def url(cohort):
        return reverse(view, args=[cohort.pk] if view == "cohorts:dashboard" else [])

    admin_client.get(url(small))
    with django_assert_max_num_queries(60) as measured_small:
        admin_client.get(url(small))
    with django_assert_num_queries(len(measured_small.captured_queries)):
        admin_client.get(url(large))


def test_verifier_sees_only_granted_cohorts_and_no_actions(institution, client_for, admin):
    verifier = UserFactory(roles=[SystemRole.VERIFIER])
    granted, hidden = CohortFactory(name="Granted cohort"), CohortFactory(name="Hidden cohort")
    cohort_reviewer_set(cohort=granted, actor=admin, reviewer=verifier, allowed=True)
    client = client_for(institution)
    client.force_login(verifier)

    listing = client.get("/cohorts/").content.decode()
    assert "Granted cohort" in listing
    assert "Hidden cohort" not in listing
    assert client.get(f"/cohorts/{granted.pk}/").status_code == 200
    assert client.get(f"/cohorts/{hidden.pk}/").status_code == 404
    assert client.post(f"/cohorts/{granted.pk}/activate/").status_code == 404
    assert client.get(f"/cohorts/{granted.pk}/edit/").status_code == 404


@pytest.mark.parametrize(
    "role", [SystemRole.STUDENT, SystemRole.AUDITOR, SystemRole.TRAINER, SystemRole.SPONSOR_CONTACT]
)
def test_other_roles_get_404(institution, client_for, role):
    cohort = CohortFactory()
    client = client_for(institution)
    client.force_login(UserFactory(roles=[role]))
    for url in ("/cohorts/", f"/cohorts/{cohort.pk}/", "/cohorts/new/", "/cohorts/documents/"):
        assert client.get(url).status_code == 404, url


def test_another_institutions_cohort_is_not_found(institution, other_institution, client_for):
    from django.db import connection

    connection.set_tenant(other_institution)
    foreign = CohortFactory(pk=987654, name="Foreign cohort")
    connection.set_tenant(institution)
    assert not Cohort.objects.filter(pk=foreign.pk).exists()
    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.SUPER_ADMIN]))
    assert client.get(f"/cohorts/{foreign.pk}/").status_code == 404


def test_document_catalogue_edit(admin_client):
    response = admin_client.post(
        "/cohorts/documents/new/",
        {
            "name": "Police clearance",
            "description": "Not older than 6 months",
            "accepted_kinds": ["pdf"],
            "max_size_mb": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert DocumentType.objects.get(name="Police clearance").accepted_kinds == ["pdf"]
    bad = admin_client.post(
        "/cohorts/documents/new/", {"name": "CV", "accepted_kinds": [], "max_size_mb": "99"}
    )
    body = bad.content.decode()
    assert "already exists" in body
    assert "This field is required." in body


def test_students_link_to_their_enrolment_page(admin_client, admin, active_cohort):
    cohort = active_cohort()
    enrollment_invite(cohort=cohort, actor=admin, email="linked@example.org", full_name="Lin Ked")
    enrollment = CohortEnrollment.objects.get(user__email="linked@example.org")
    page = admin_client.get(f"/cohorts/{cohort.pk}/").content.decode()
    link = reverse("verification:enrollment", args=[enrollment.pk])
    assert f'href="{link}"' in page
    assert admin_client.get(link).status_code == 200


def test_page_two_of_the_cohort_list_keeps_its_filters(admin_client, monkeypatch):
    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 2)
    kept = [CohortFactory(name=f"Keep {n}") for n in range(3)]
    CohortFactory.create_batch(3, name="Other")

    first = admin_client.get("/cohorts/", {"q": "keep", "state": "draft"})
    assert 'href="?q=keep&amp;state=draft&amp;page=2"' in first.content.decode()
    second = admin_client.get("/cohorts/?q=keep&state=draft&page=2")
    assert list(second.context["page"]) == kept[2:]


def test_page_two_of_a_cohorts_students_keeps_the_search_and_the_order(
    admin_client, admin, active_cohort, monkeypatch
):
    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 2)
    cohort = active_cohort()
    _enrol(cohort, admin, 3)
    enrollment_invite(cohort=cohort, actor=admin, email="zanele@example.org", full_name="Zanele")

    first = admin_client.get(f"/cohorts/{cohort.pk}/", {"q": "S", "sort": "-name"})
    assert 'href="?q=S&amp;sort=-name&amp;page=2"' in first.content.decode()
    second = admin_client.get(f"/cohorts/{cohort.pk}/?q=S&sort=-name&page=2", HTTP_HX_REQUEST="1")
    assert [e.user.full_name for e in second.context["page"]] == ["S 0"]
