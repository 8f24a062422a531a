"""A stand-in: the trainer of one session of another trainer's run. They take that session's
register and see the run, and nothing more: not the other sessions' registers, not the
gradebook, not a void; and they cannot moderate the run."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from delivery.models import Assessment, AttendanceRecord
from delivery.selectors.attendance import registers_to_take
from delivery.services.assessments import assessment_void, gradebook_save
from delivery.services.attendance import (
    Mark,
    register_correct,
    register_save,
    register_sign_off,
)
from delivery.services.moderation import (
    moderator_candidates,
    run_moderator_assign,
    run_results_sign_off,
)
from tests.delivery.attendance.support import all_marked
from tests.factories import TrainerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stand_in(institution):
    return TrainerFactory(user__full_name="Sipho Standin")


def denied() -> list[str]:
    return list(
        AuditEvent.objects.filter(action="permission.denied")
        .order_by("pk")
        .values_list("entity_id", flat=True)
    )


def test_a_stand_in_takes_their_own_sessions_register_and_no_other(
    run, learners, session_on, stand_in
):
    covered = session_on(0, trainer=stand_in)
    other = session_on(0)

    register_save(session=covered, actor=stand_in.user, marks=all_marked(learners))
    register_sign_off(session=covered, actor=stand_in.user)
    assert register_correct(
        session=covered,
        actor=stand_in.user,
        marks={learners[0].pk: Mark("late")},
        change_reason="Came in at ten",
    )
    with pytest.raises(PermissionDenied):
        register_save(session=other, actor=stand_in.user, marks=all_marked(learners))
    with pytest.raises(PermissionDenied):
        register_sign_off(session=other, actor=stand_in.user)

    assert not AttendanceRecord.objects.filter(session=other).exists()
    assert denied() == ["attendance.register_save", "attendance.register_sign_off"]


def test_a_stand_in_lists_only_their_own_registers_to_take(
    trainer, run, learners, session_on, stand_in
):
    covered = session_on(0, trainer=stand_in)
    other = session_on(-1)

    assert list(registers_to_take(stand_in.user)) == [covered]
    assert set(registers_to_take(trainer.user)) == {covered, other}


def test_a_stand_in_sees_the_run_but_writes_neither_its_registers_nor_its_results(
    client_of, trainer, run, learners, session_on, stand_in
):
    covered = session_on(0, trainer=stand_in)
    other = session_on(0)
    gradebook_save(run=run, actor=trainer.user, cells={(learners[0].pk, "Test"): "70"})
    client = client_of(stand_in.user)

    assert client.get(reverse("delivery:run", args=[run.pk])).status_code == 200
    own = client.get(reverse("delivery:register", args=[covered.pk])).content.decode()
    assert 'name="action"' in own
    seen = client.get(reverse("delivery:register", args=[other.pk])).content.decode()
    assert 'name="action"' not in seen
    book = client.get(reverse("delivery:gradebook", args=[run.pk])).content.decode()
    assert 'name="type-new"' not in book

    with pytest.raises(PermissionDenied):
        gradebook_save(run=run, actor=stand_in.user, cells={(learners[1].pk, "Test"): "90"})
    with pytest.raises(PermissionDenied):
        assessment_void(assessment=Assessment.objects.get(), actor=stand_in.user, reason="x")
    assert Assessment.objects.get().result == "pass"
    assert denied() == ["gradebook.save", "assessment.void"]


def test_a_trainer_no_longer_active_reaches_neither_the_run_nor_its_registers(
    client_of, trainer, run, learners, session
):
    trainer.active_status = False
    trainer.save(update_fields=["active_status"])

    with pytest.raises(PermissionDenied):
        register_save(session=session, actor=trainer.user, marks=all_marked(learners))
    with pytest.raises(PermissionDenied):
        gradebook_save(run=run, actor=trainer.user, cells={(learners[0].pk, "Test"): "70"})
    assert client_of(trainer.user).get(reverse("delivery:run", args=[run.pk])).status_code == 404
    assert not registers_to_take(trainer.user).exists()


@pytest.fixture
def moderating_stand_in(stand_in):
    moderator_role = UserFactory(roles=[SystemRole.MODERATOR]).roles.all()
    stand_in.user.roles.add(*moderator_role)
    stand_in.user.__dict__.pop("permission_codes", None)
    return stand_in.user


def test_who_teaches_a_session_of_the_run_cannot_moderate_it(
    admin, run, learners, session_on, stand_in, moderating_stand_in
):
    session_on(0, trainer=stand_in)

    assert moderating_stand_in not in moderator_candidates(run)
    with pytest.raises(ValidationError, match="teaches a session of this run"):
        run_moderator_assign(run=run, actor=admin, moderator=moderating_stand_in)


def test_a_moderator_given_the_run_before_teaching_a_session_of_it_cannot_sign_off(
    admin, trainer, run, learners, session_on, stand_in, moderating_stand_in
):
    run = run_moderator_assign(run=run, actor=admin, moderator=moderating_stand_in)
    gradebook_save(run=run, actor=trainer.user, cells={(e.pk, "Test"): "70" for e in learners})
    session_on(0, trainer=stand_in)

    with pytest.raises(ValidationError, match="a second person moderates them"):
        run_results_sign_off(run=run, actor=moderating_stand_in)
    run.refresh_from_db()
    assert run.moderated_at is None


def test_who_corrected_a_result_of_the_run_cannot_moderate_it(admin, trainer, run, learners):
    corrector = UserFactory(roles=[SystemRole.ADMIN, SystemRole.MODERATOR])
    gradebook_save(run=run, actor=trainer.user, cells={(e.pk, "Test"): "70" for e in learners})
    run = run_moderator_assign(run=run, actor=admin, moderator=corrector)
    assert corrector in moderator_candidates(run)
    gradebook_save(
        run=run,
        actor=corrector,
        cells={(learners[0].pk, "Test"): "75"},
        reason="Marked again",
    )
    # Marked again by the trainer: the corrector is no longer an assessor, only in the history.
    gradebook_save(
        run=run, actor=trainer.user, cells={(learners[0].pk, "Test"): "72"}, reason="Moderated"
    )
    assert not Assessment.objects.filter(assessor=corrector).exists()

    assert corrector not in moderator_candidates(run)
    with pytest.raises(ValidationError, match="a second person moderates them"):
        run_results_sign_off(run=run, actor=corrector)
