"""The staff's learner pages: the list (search, filters, pages, queries), a learner's page, the
audited "show" of a number, and the admins' form."""

import pytest

import accounts.lists
from audit.models import AuditEvent
from learners.models import ConsentKind, ConsentMethod, Learner, LearnerConsent
from learners.services import learner_merge
from tests.enrolments.conftest import id_type, upload_document
from tests.factories import CohortFactory
from tests.learners.support import FORM_DETAILS, sa_id_number

pytestmark = pytest.mark.django_db


def _names(text: str, *learners: Learner) -> list[str]:
    return [learner.full_name for learner in learners if learner.full_name in text]


def test_search_by_the_last_four_digits_finds_the_learner(admin_client, register):
    thandi = register(id_number=sa_id_number(1234))
    other = register(first_name="Lerato", last_name="Dube", id_number=sa_id_number(5678))
    assert thandi.national_id_last4 != other.national_id_last4
    text = admin_client.get("/learners/", {"q": thandi.national_id_last4}).content.decode()
    assert _names(text, thandi, other) == ["Thandi Mokoena"]
    assert f"•••• {thandi.national_id_last4}" in text


def test_a_whole_number_is_not_searched(admin_client, register):
    number = sa_id_number(1234)
    register(id_number=number)
    text = admin_client.get("/learners/", {"q": number}).content.decode()
    assert "Search by the last 4 digits only." in text


def test_search_by_name_and_by_e_mail(admin_client, register, enrol):
    thandi = register(email="thandi@example.org")
    sipho = enrol(full_name="Sipho Ndlovu", email="sipho.n@example.org").learner
    by_name = admin_client.get("/learners/", {"q": "thandi mokoena"}).content.decode()
    assert _names(by_name, thandi, sipho) == ["Thandi Mokoena"]
    by_e_mail = admin_client.get("/learners/", {"q": "sipho.n@"}).content.decode()
    assert _names(by_e_mail, thandi, sipho) == ["Sipho Ndlovu"]


def test_filters_by_cohort_programme_and_status(admin_client, register, enrol):
    learnership = CohortFactory(active=True, name="Learnership 2026")
    internship = CohortFactory(active=True, name="Internship 2026", program_type="internship")
    in_learnership = enrol(cohort=learnership, full_name="Lwazi Learner").learner
    in_internship = enrol(cohort=internship, full_name="Ivy Intern").learner
    candidate = register()
    everyone = (in_learnership, in_internship, candidate)

    text = admin_client.get("/learners/", {"cohort": learnership.pk}).content.decode()
    assert _names(text, *everyone) == ["Lwazi Learner"]
    text = admin_client.get("/learners/", {"program_type": "internship"}).content.decode()
    assert _names(text, *everyone) == ["Ivy Intern"]
    text = admin_client.get("/learners/", {"status": "candidate"}).content.decode()
    assert "Thandi Mokoena" in text
    text = admin_client.get("/learners/", {"cohort": "not a cohort"}).content.decode()
    assert "Choose a cohort from the list." in text
    assert len(_names(text, *everyone)) == 3


def test_archived_learners_only_when_asked_for(admin, admin_client, register):
    kept, other = register(), register(first_name="Thandiwe")
    learner_merge(keep=kept, other=other, actor=admin)
    assert "Thandiwe" not in admin_client.get("/learners/").content.decode()
    assert "Thandiwe" in admin_client.get("/learners/", {"status": "archived"}).content.decode()


def test_the_list_pages_keep_the_filters(admin_client, register, monkeypatch):
    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 2)
    for number in range(5):
        register(first_name=f"Zola{number}", last_name="Learner")
    register(first_name="Other", last_name="Person")
    text = admin_client.get("/learners/", {"q": "learner", "page": 3}).content.decode()
    assert "5–5 of 5" in text
    assert "Zola4 Learner" in text
    assert 'href="?q=learner&amp;page=2"' in text


def test_an_empty_list_says_so(admin_client):
    text = admin_client.get("/learners/").content.decode()
    assert "No learners yet." in text


@pytest.mark.parametrize("count", [3, 12])
def test_the_list_makes_as_many_queries_whatever_its_rows(
    admin, client_of, django_assert_num_queries, enrol, count
):
    cohort = CohortFactory(active=True)
    for number in range(count):
        enrol(cohort=cohort, full_name=f"Student {number:02}", id_number=sa_id_number(number))
    client = client_of(admin)
    url = f"/learners/?program_type=learnership&cohort={cohort.pk}"
    assert client.get(url).status_code == 200
    with django_assert_num_queries(LIST_QUERIES):
        text = client.get(url).content.decode()
    assert text.count("Student ") == count


# Each with its search path: the session, the person and their permissions, the filter's cohort
# choices, the rows' count and the rows.
LIST_QUERIES = 18


def test_students_and_people_without_the_permission_are_refused(client_of, student, register):
    learner = register()
    client = client_of(student)
    for url in (
        "/learners/",
        f"/learners/{learner.pk}/",
        "/learners/new/",
        f"/learners/{learner.pk}/edit/",
        f"/learners/{learner.pk}/merge/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/learners/{learner.pk}/national-id/").status_code == 404


def test_the_learner_page_shows_enrolments_documents_consents_and_trail(admin_client, enrol):
    enrollment = enrol(full_name="Sipho Ndlovu", id_number=sa_id_number(42))
    learner = enrollment.learner
    upload_document(enrollment, id_type())
    LearnerConsent.objects.create(
        learner=learner,
        kind=ConsentKind.SPONSOR_SHARING,
        wording_version="v2",
        given=False,
        method=ConsentMethod.PORTAL,
    )
    text = admin_client.get(f"/learners/{learner.pk}/").content.decode()
    assert enrollment.cohort.name in text
    assert "South African ID or passport" in text
    assert "Sharing my details with my sponsor" in text
    assert "Withdrawn" in text
    assert "learner.created" in text
    assert f"•••• {learner.national_id_last4}" in text
    assert sa_id_number(42) not in text
    assert "Population group" in text  # admins manage learners


def test_race_and_disability_only_for_people_who_manage_learners(
    client_of, records_clerk, register
):
    learner = register()
    text = client_of(records_clerk).get(f"/learners/{learner.pk}/").content.decode()
    assert "Thandi Mokoena" in text
    assert "Population group" not in text
    assert "Disability" not in text


def test_show_answers_the_number_uncached_and_audited(client_of, records_clerk, register):
    learner = register(id_number=sa_id_number(77))
    client = client_of(records_clerk)
    assert "Show" in client.get(f"/learners/{learner.pk}/").content.decode()
    response = client.post(f"/learners/{learner.pk}/national-id/")
    assert response.status_code == 200
    assert sa_id_number(77) in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(action="learner.national_id_produced").latest("id")
    assert (event.actor, event.entity_id, event.new_values) == (
        records_clerk,
        str(learner.pk),
        {"purpose": "shown"},
    )
    assert sa_id_number(77) not in str(event.new_values) + str(event.old_values)


def test_show_is_refused_without_the_right_to_see_numbers(client_of, learner_reader, register):
    learner = register(id_number=sa_id_number(77))
    client = client_of(learner_reader)
    page = client.get(f"/learners/{learner.pk}/").content.decode()
    assert f"•••• {learner.national_id_last4}" in page
    assert "national-id/" not in page
    response = client.post(f"/learners/{learner.pk}/national-id/")
    assert response.status_code == 404
    assert sa_id_number(77) not in response.content.decode()
    assert not AuditEvent.objects.filter(action="learner.national_id_produced").exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="learners.national_id_reveal", actor=learner_reader
    ).exists()


def _form(**changes: str) -> dict[str, str]:
    return {
        "first_name": "Naledi",
        "last_name": "Khumalo",
        "email": "naledi@example.org",
        **FORM_DETAILS,
        "id_number": sa_id_number(300),
        **changes,
    }


def test_an_admin_registers_a_learner(admin_client):
    response = admin_client.post("/learners/new/", _form())
    learner = Learner.objects.get(first_name="Naledi")
    assert response.status_code == 302
    assert response["Location"] == f"/learners/{learner.pk}/"
    assert (learner.email, learner.city, learner.user) == ("naledi@example.org", "Cape Town", None)
    assert learner.national_id_last4 == sa_id_number(300)[-4:]
    event = AuditEvent.objects.get(action="learner.created", entity_id=str(learner.pk))
    assert "Naledi" not in str(event.new_values)
    assert sorted(event.new_values["fields"]) == ["email", "first_name", "last_name"]


def test_a_number_another_learner_has_is_refused_naming_them(admin_client, register):
    holder = register(id_number=sa_id_number(300))
    response = admin_client.post("/learners/new/", _form())
    text = response.content.decode()
    assert response.status_code == 200
    assert f"This ID number belongs to Thandi Mokoena (learner {holder.pk}) already" in text
    assert not Learner.objects.filter(first_name="Naledi").exists()


def test_an_admin_edits_a_learner_and_keeps_their_number(admin_client, register):
    learner = register(id_number=sa_id_number(300))
    response = admin_client.post(
        f"/learners/{learner.pk}/edit/",
        _form(first_name="Thandi", last_name="Mokoena-Dube", id_number="", city="Durban"),
    )
    assert response.status_code == 302
    learner.refresh_from_db()
    assert (learner.last_name, learner.city) == ("Mokoena-Dube", "Durban")
    assert learner.national_id_last4 == sa_id_number(300)[-4:]
    event = AuditEvent.objects.get(action="learner.changed", entity_id=str(learner.pk))
    assert event.new_values["fields"] == ["last_name", "email"]
    assert "Mokoena-Dube" not in str(event.new_values)


def test_the_form_page_never_puts_the_number_back(admin_client, register):
    learner = register(id_number=sa_id_number(300))
    text = admin_client.get(f"/learners/{learner.pk}/edit/").content.decode()
    assert sa_id_number(300) not in text
    assert f"the number ending {learner.national_id_last4}" in text


def test_verifiers_may_not_register_or_edit(client_of, verifier, register):
    learner = register()
    client = client_of(verifier)
    assert client.post("/learners/new/", _form()).status_code == 404
    assert client.post(f"/learners/{learner.pk}/edit/", _form()).status_code == 404
    assert not Learner.objects.filter(first_name="Naledi").exists()


def test_a_whole_number_finds_its_learner_by_post_never_in_the_address(admin_client, register):
    learner = register(id_number=sa_id_number(321))

    found = admin_client.post("/learners/find/", {"number": sa_id_number(321)})
    missing = admin_client.post("/learners/find/", {"number": sa_id_number(322)})
    searched = admin_client.get("/learners/", {"q": sa_id_number(321)})

    assert found.status_code == 302
    assert found["Location"] == f"/learners/{learner.pk}/"
    assert missing.status_code == 400
    assert "No learner here has that number." in missing.content.decode()
    assert sa_id_number(322) not in missing.content.decode()
    assert "Search by the last 4 digits only." in searched.content.decode()


def test_a_verifier_reaches_learners_only_through_the_cohorts_they_review(
    client_of, verifier, register
):
    """Reviewers see the students of their cohorts on the review pages, numbers masked; the
    institution's learner records and their numbers are not theirs."""
    learner = register()
    client = client_of(verifier)

    assert client.get("/learners/").status_code == 404
    assert client.get(f"/learners/{learner.pk}/").status_code == 404
    assert client.post(f"/learners/{learner.pk}/national-id/").status_code == 404
