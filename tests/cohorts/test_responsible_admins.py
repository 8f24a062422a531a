"""A cohort's responsible admins: the creator by default, changed on the cohort page (never to
nobody, never to someone who may not manage the cohort), and the people told of its declines
and decisions."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import SystemRole
from accounts.services import user_deactivate
from audit.models import AuditEvent
from cohorts.selectors import cohort_people_to_tell
from cohorts.services import cohort_create, cohort_responsible_admins_set
from enrolments.agreements import enrollment_agreement_start
from notifications.models import OutboundEmail
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline
from sponsors.services import cohort_sponsor_set, sponsor_create, sponsor_invite
from tests.enrolments.conftest import enrol  # noqa: F401  (fixture)
from tests.factories import CohortFactory, UserFactory
from tests.signing.conftest import last_link_to, token_from

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def other_admin(institution):
    return UserFactory(roles=[SystemRole.ADMIN], full_name="Lerato Other", email="lerato@x.example")


def _recipients(template: str) -> set[str]:
    return set(OutboundEmail.objects.filter(template=template).values_list("recipient", flat=True))


def test_the_creator_is_responsible_for_a_new_cohort(admin):
    cohort = cohort_create(
        actor=admin,
        name="Q1 2027 Learnership",
        program_type="learnership",
        student_count=10,
        start_date=CohortFactory.start_date.function(),
        end_date=CohortFactory.end_date.function(),
    )
    assert list(cohort.responsible_admins.all()) == [admin]
    assert cohort_people_to_tell(cohort) == [admin.email]


def test_setting_responsible_admins_is_audited(admin, other_admin):
    cohort = CohortFactory(created_by=admin)
    cohort.responsible_admins.set([admin])

    cohort_responsible_admins_set(cohort=cohort, actor=admin, admins=[admin, other_admin])

    assert set(cohort.responsible_admins.all()) == {admin, other_admin}
    event = AuditEvent.objects.get(action="cohort.responsible_admins_set")
    assert event.entity_id == str(cohort.pk)
    assert event.old_values == {"responsible_admins": [admin.pk]}
    assert event.new_values == {"responsible_admins": sorted([admin.pk, other_admin.pk])}


def test_nobody_responsible_is_refused(admin):
    cohort = CohortFactory()
    cohort.responsible_admins.set([admin])
    with pytest.raises(ValidationError) as refusal:
        cohort_responsible_admins_set(cohort=cohort, actor=admin, admins=[])
    assert refusal.value.messages == [
        "Choose at least one responsible admin: someone must be told of declines and "
        "decisions in this cohort."
    ]
    assert list(cohort.responsible_admins.all()) == [admin]


def test_someone_who_may_not_manage_cohorts_cannot_be_responsible(admin):
    cohort = CohortFactory()
    verifier = UserFactory(roles=[SystemRole.VERIFIER], full_name="Vusi Verifier")
    with pytest.raises(ValidationError) as refusal:
        cohort_responsible_admins_set(cohort=cohort, actor=admin, admins=[admin, verifier])
    assert refusal.value.messages[0].startswith("Vusi Verifier may not manage this cohort")
    assert not cohort.responsible_admins.exists()


def test_only_those_who_manage_cohorts_choose_the_responsible_admins(admin, institution):
    cohort = CohortFactory()
    for role in (SystemRole.VERIFIER, SystemRole.AUDITOR, SystemRole.TRAINER):
        with pytest.raises(PermissionDenied):
            cohort_responsible_admins_set(
                cohort=cohort, actor=UserFactory(roles=[role]), admins=[admin]
            )
    assert AuditEvent.objects.filter(action="permission.denied").count() == 3


def test_a_student_decline_tells_the_responsible_admins_not_the_creator(
    enrol,  # noqa: F811
    active_cohort,
    admin,
    other_admin,
    eager,
    django_capture_on_commit_callbacks,
):
    cohort = active_cohort()  # created by `admin`
    cohort_responsible_admins_set(cohort=cohort, actor=admin, admins=[other_admin])
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)

    submitter_decline(link=link_for_token(token_from(url)), reason="Not now.")

    assert _recipients("student_agreement_declined") == {other_admin.email}


def test_a_sponsor_decline_tells_the_responsible_admins_not_the_sender(admin, other_admin):
    sponsor = sponsor_create(
        actor=admin,
        company_name="Ubuntu Mining",
        contact_name="Sipho Dlamini",
        contact_email="sipho@ubuntu.example",
        contact_phone="+27 11 555 0100",
        tax_number="9012345678",
    )
    cohort = cohort_sponsor_set(cohort=CohortFactory(signed=True), sponsor=sponsor, actor=admin)
    cohort_responsible_admins_set(cohort=cohort, actor=admin, admins=[other_admin])
    sponsor_invite(cohort=cohort, actor=admin)  # sent by `admin`

    submitter_decline(link=link_for_token(last_link_to("sipho@ubuntu.example")), reason="No.")

    assert _recipients("sponsor_outcome") == {other_admin.email}


def test_news_falls_back_to_the_creator_when_no_responsible_admin_can_act(
    admin, other_admin, super_admin
):
    cohort = CohortFactory(created_by=admin)
    cohort_responsible_admins_set(cohort=cohort, actor=admin, admins=[other_admin])
    user_deactivate(user=other_admin, actor=super_admin)
    assert cohort_people_to_tell(cohort) == [admin.email]


def test_the_cohort_page_shows_and_saves_the_responsible_admins(admin, other_admin, admin_client):
    cohort = CohortFactory(created_by=admin)
    cohort.responsible_admins.set([admin])
    page = admin_client.get(f"/cohorts/{cohort.pk}/").content.decode()
    assert "Responsible admins" in page
    assert "Lerato Other (lerato@x.example)" in page

    response = admin_client.post(
        f"/cohorts/{cohort.pk}/responsible-admins/", {"admins": [admin.pk, other_admin.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/cohorts/{cohort.pk}/"
    assert set(cohort.responsible_admins.all()) == {admin, other_admin}


def test_removing_every_responsible_admin_on_the_page_says_why_it_cannot(admin, admin_client):
    cohort = CohortFactory(created_by=admin)
    cohort.responsible_admins.set([admin])

    response = admin_client.post(f"/cohorts/{cohort.pk}/responsible-admins/", {})

    assert response.status_code == 200
    assert (
        "Choose at least one responsible admin: someone must be told of declines and decisions "
        "in this cohort." in response.content.decode()
    )
    assert list(cohort.responsible_admins.all()) == [admin]


def test_the_form_offers_only_people_who_may_manage_the_cohort(admin, admin_client):
    cohort = CohortFactory(created_by=admin)
    verifier = UserFactory(roles=[SystemRole.VERIFIER], full_name="Vusi Verifier")
    response = admin_client.post(
        f"/cohorts/{cohort.pk}/responsible-admins/", {"admins": [verifier.pk]}
    )
    assert response.status_code == 200
    assert "only those who may manage this cohort" in response.content.decode()
    assert "Vusi Verifier" not in response.content.decode()
