"""A course's outcomes: codes unique per course, at least one credit, an NQF level from 1 to 10,
each change audited; an outcome that learners' work uses is made inactive, never deleted; the
course page lists them in order with their credits added up; only who manages the catalogue
reaches any of it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from academics.models import Outcome, OutcomeKind
from academics.services import outcome_create, outcome_delete, outcome_update
from accounts.models import SystemRole
from audit.models import AuditEvent
from tests.factories import CourseFactory, UserFactory
from tests.workplace.support import week_logged, workplace_world
from workplace.models import Portfolio

pytestmark = pytest.mark.django_db


def fields(**overrides):
    return {
        "kind": OutcomeKind.UNIT_STANDARD,
        "code": "119472",
        "title": "Accommodate audience and context needs in oral communication",
        "credits": 5,
        "nqf_level": 4,
        "position": None,
        "is_active": True,
        **overrides,
    }


@pytest.fixture
def course(institution):
    return CourseFactory(code="WP101", name="Workplace practice", credits=20)


# Services


def test_an_outcome_is_added_last_with_its_audit_event(admin, course):
    first = outcome_create(course=course, actor=admin, fields=fields())
    second = outcome_create(course=course, actor=admin, fields=fields(code=" 119457 "))

    assert (first.position, second.position) == (0, 1)
    assert second.code == "119457"
    event = AuditEvent.objects.get(action="outcome.created", entity_id=str(second.pk))
    assert event.actor == admin
    assert event.new_values["code"] == "119457"
    assert event.new_values["course"] == course.pk


def test_a_code_is_unique_per_course_and_free_in_another(admin, course):
    outcome_create(course=course, actor=admin, fields=fields())
    with pytest.raises(ValidationError) as refused:
        outcome_create(course=course, actor=admin, fields=fields(title="Another"))
    assert "119472 is taken" in refused.value.message_dict["code"][0]

    other = CourseFactory(programme=course.programme)
    assert outcome_create(course=other, actor=admin, fields=fields()).course == other


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"credits": 0}, "credits", "at least 1 credit"),
        ({"nqf_level": 0}, "nqf_level", "from 1 to 10"),
        ({"nqf_level": 11}, "nqf_level", "from 1 to 10"),
    ],
)
def test_credits_and_nqf_level_are_checked(admin, course, overrides, field, message):
    with pytest.raises(ValidationError) as refused:
        outcome_create(course=course, actor=admin, fields=fields(**overrides))
    assert message in refused.value.message_dict[field][0]
    assert not Outcome.objects.exists()


def test_an_nqf_level_is_optional(admin, course):
    assert outcome_create(course=course, actor=admin, fields=fields(nqf_level=None)).pk


def test_a_change_is_audited_with_old_and_new_and_a_code_stays_unique(admin, course):
    outcome = outcome_create(course=course, actor=admin, fields=fields())
    outcome_create(course=course, actor=admin, fields=fields(code="7480"))

    outcome_update(outcome=outcome, actor=admin, changes={"title": "Oral communication"})
    event = AuditEvent.objects.get(action="outcome.changed", entity_id=str(outcome.pk))
    assert event.old_values == {"title": fields()["title"]}
    assert event.new_values == {"title": "Oral communication"}

    with pytest.raises(ValidationError) as refused:
        outcome_update(outcome=outcome, actor=admin, changes={"code": "7480"})
    assert "code" in refused.value.message_dict
    # Saving its own code again is no change at all.
    outcome_update(outcome=outcome, actor=admin, changes={"code": "119472"})
    assert AuditEvent.objects.filter(action="outcome.changed").count() == 1


def test_deactivating_keeps_the_outcome(admin, course):
    outcome = outcome_create(course=course, actor=admin, fields=fields())
    outcome_update(outcome=outcome, actor=admin, changes={"is_active": False})
    outcome.refresh_from_db()
    assert outcome.is_active is False


def test_an_unused_outcome_is_deleted_with_its_audit_event(admin, course):
    outcome = outcome_create(course=course, actor=admin, fields=fields())
    pk = outcome.pk
    outcome_delete(outcome=outcome, actor=admin)
    assert not Outcome.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action="outcome.deleted", entity_id=str(pk))
    assert event.old_values == {"name": f"119472 {fields()['title']}"}


def test_an_outcome_with_a_portfolio_is_not_deleted(admin):
    world = workplace_world(admin)
    outcome = world.outcomes[0]
    Portfolio.objects.create(course_enrollment=world.learner.course_enrollment, outcome=outcome)
    with pytest.raises(ValidationError) as refused:
        outcome_delete(outcome=outcome, actor=admin)
    assert "make it inactive instead" in refused.value.messages[0]
    assert Outcome.objects.filter(pk=outcome.pk).exists()
    assert not AuditEvent.objects.filter(action="outcome.deleted").exists()


def test_an_outcome_with_logbook_entries_is_not_deleted(admin):
    world = workplace_world(admin)
    outcome = world.outcomes[1]
    week_logged(world.learner, datetime.date(2027, 3, 8), outcomes=[outcome])
    with pytest.raises(ValidationError):
        outcome_delete(outcome=outcome, actor=admin)
    assert Outcome.objects.filter(pk=outcome.pk).exists()


def test_only_who_manages_the_catalogue_changes_outcomes(admin, course):
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(PermissionDenied):
        outcome_create(course=course, actor=trainer, fields=fields())
    outcome = outcome_create(course=course, actor=admin, fields=fields())
    with pytest.raises(PermissionDenied):
        outcome_update(outcome=outcome, actor=trainer, changes={"title": "x"})
    with pytest.raises(PermissionDenied):
        outcome_delete(outcome=outcome, actor=trainer)
    assert AuditEvent.objects.filter(action="permission.denied").count() == 3


# Pages


def test_the_course_page_lists_outcomes_in_order_with_their_credits_added_up(
    admin, admin_client, course
):
    outcome_create(course=course, actor=admin, fields=fields(code="B2", position=2, credits=3))
    outcome_create(course=course, actor=admin, fields=fields(code="A1", position=1, credits=5))
    outcome_create(
        course=course, actor=admin, fields=fields(code="C3", position=3, is_active=False)
    )

    page = admin_client.get(f"/academics/courses/{course.pk}/").content.decode()

    assert page.index('data-outcome="A1"') < page.index('data-outcome="B2"')
    assert page.index('data-outcome="B2"') < page.index('data-outcome="C3"')
    assert "Active outcomes: <strong>8</strong> credits" in page
    assert "the course: <strong>20</strong> credits" in page
    assert "inactive" in page


def test_a_course_without_outcomes_says_so(admin_client, course):
    page = admin_client.get(f"/academics/courses/{course.pk}/").content.decode()
    assert "No outcomes yet." in page


def test_an_outcome_is_added_on_its_page_and_a_taken_code_refused_beside_it(
    admin, admin_client, course
):
    url = f"/academics/courses/{course.pk}/outcomes/new/"
    assert admin_client.get(url).status_code == 200
    post = {
        "kind": "unit_standard",
        "code": "119472",
        "title": "Oral communication",
        "credits": "5",
        "nqf_level": "4",
        "position": "",
        "is_active": "on",
    }
    response = admin_client.post(url, post)
    assert response.status_code == 302
    assert response["Location"] == f"/academics/courses/{course.pk}/"

    again = admin_client.post(url, post)
    assert again.status_code == 400
    assert "The code 119472 is taken" in again.content.decode()
    assert Outcome.objects.filter(course=course).count() == 1

    zero = admin_client.post(url, {**post, "code": "7480", "credits": "0", "nqf_level": "12"})
    assert zero.status_code == 400
    assert Outcome.objects.filter(course=course).count() == 1


def test_an_outcome_is_edited_and_deactivated_on_its_page(admin, admin_client, course):
    outcome = outcome_create(course=course, actor=admin, fields=fields())
    url = f"/academics/outcomes/{outcome.pk}/edit/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "kind": "module",
            "code": "119472",
            "title": "Oral communication",
            "credits": "6",
            "nqf_level": "",
            "position": "0",
        },
    )
    assert response.status_code == 302
    outcome.refresh_from_db()
    assert (outcome.kind, outcome.credits, outcome.nqf_level, outcome.is_active) == (
        "module",
        6,
        None,
        False,
    )


def test_deleting_asks_first_and_a_used_outcome_is_refused(admin, admin_client):
    world = workplace_world(admin)
    used, unused = world.outcomes[0], world.outcomes[2]
    Portfolio.objects.create(course_enrollment=world.learner.course_enrollment, outcome=used)
    course_url = f"/academics/courses/{used.course_id}/"

    confirm = admin_client.get(f"/academics/outcomes/{unused.pk}/delete/")
    assert "Delete outcome" in confirm.content.decode()

    refused = admin_client.post(f"/academics/outcomes/{used.pk}/delete/", follow=True)
    assert refused.redirect_chain[-1][0] == course_url
    assert "make it inactive instead" in refused.content.decode()
    assert Outcome.objects.filter(pk=used.pk).exists()

    response = admin_client.post(f"/academics/outcomes/{unused.pk}/delete/")
    assert response["Location"] == course_url
    assert not Outcome.objects.filter(pk=unused.pk).exists()


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.ASSESSOR, SystemRole.STUDENT])
def test_anyone_else_gets_404(role, admin, client_of, course):
    outcome = outcome_create(course=course, actor=admin, fields=fields())
    client = client_of(UserFactory(roles=[role]))
    for url in [
        f"/academics/courses/{course.pk}/outcomes/new/",
        f"/academics/outcomes/{outcome.pk}/edit/",
        f"/academics/outcomes/{outcome.pk}/delete/",
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"title": "x"}).status_code == 404, url
    outcome.refresh_from_db()
    assert outcome.title == fields()["title"]


def test_an_unknown_outcome_or_course_is_404(admin_client):
    assert admin_client.get("/academics/outcomes/999999/edit/").status_code == 404
    assert admin_client.get("/academics/outcomes/999999/delete/").status_code == 404
    assert admin_client.get("/academics/courses/999999/outcomes/new/").status_code == 404
