"""Who works on which course run. Staff who manage delivery reach the runs of the cohorts they
reach (a person limited to some cohorts is limited here too); an active trainer reaches the runs
they teach: the run's trainer writes its registers and results, the trainer of one of its
sessions (a stand-in) sees the run and takes only that session's register; a moderator reaches
the runs they are given to moderate. Every page and service of a run asks here; anything else is
the audited 404 of accounts.permissions."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from accounts.permissions import permission_check, reachable
from cohorts.models import Cohort
from delivery.models import CourseRun, Session

MANAGE = "delivery.manage_delivery"
TEACH = "delivery.teach"
MODERATE = "delivery.moderate_results"
# Institution-wide delivery settings (the attendance threshold, the certificates' wording) are
# for who works in every cohort, not for someone limited to some.
ALL_COHORTS = "cohorts.access_all_cohorts"


def _managed(user: User) -> Q:
    return Q(cohort__in=reachable(user, Cohort.objects.all()))


def _taught(user: User) -> Q:
    """The runs `user` is the (active) trainer of."""
    return Q(trainer__user=user, trainer__active_status=True)


def _stood_in(user: User) -> Q:
    """The runs with a session `user` (an active trainer) teaches."""
    return Q(
        Exists(
            Session.objects.filter(
                course_run=OuterRef("pk"), trainer__user=user, trainer__active_status=True
            )
        )
    )


def runs_for(user: User) -> QuerySet[CourseRun]:
    """Every course run `user` may open."""
    reach = Q(pk__in=[])
    if user.may(MANAGE):
        reach |= _managed(user)
    if user.may(TEACH):
        reach |= _taught(user) | _stood_in(user)
    if user.may(MODERATE):
        reach |= Q(moderator=user)
    return CourseRun.objects.filter(reach)


def runs_taught_by(user: User) -> QuerySet[CourseRun]:
    """The runs whose registers and results `user` may write: as the run's trainer or as
    someone who manages delivery in its cohort (not as the stand-in of one session)."""
    reach = Q(pk__in=[])
    if user.may(MANAGE):
        reach |= _managed(user)
    if user.may(TEACH):
        reach |= _taught(user)
    return CourseRun.objects.filter(reach)


def may_teach(user: User, run: CourseRun) -> bool:
    return runs_taught_by(user).filter(pk=run.pk).exists()


def sessions_registered_by(user: User) -> QuerySet[Session]:
    """The sessions whose registers `user` may take, sign off and correct: those of the runs
    they write, and those they teach themselves."""
    reach = Q(course_run__in=runs_taught_by(user))
    if user.may(TEACH):
        reach |= Q(trainer__user=user, trainer__active_status=True)
    return Session.objects.filter(reach)


def may_take_register(user: User, session: Session) -> bool:
    return sessions_registered_by(user).filter(pk=session.pk).exists()


def may_moderate(user: User, run: CourseRun) -> bool:
    return user.may(MODERATE) and run.moderator_id == user.pk


def may_open(user: User, run: CourseRun) -> bool:
    return runs_for(user).filter(pk=run.pk).exists()


def teach_check(*, actor: User | None, run: CourseRun, action: str) -> None:
    """Refuse (audited, a 404 on pages) unless `actor` may write `run`'s registers and
    results; `actor=None` is the system."""
    permission_check(
        actor=actor,
        action=action,
        allowed=actor is None or may_teach(actor, run),
    )


def register_check(*, actor: User | None, session: Session, action: str) -> None:
    """Refuse (audited, a 404 on pages) unless `actor` may take `session`'s register;
    `actor=None` is the system."""
    permission_check(
        actor=actor,
        action=action,
        allowed=actor is None or may_take_register(actor, session),
    )


def open_check(*, actor: User, run: CourseRun, action: str) -> None:
    """Refuse unless `actor` may see `run` (teach, moderate or manage it)."""
    permission_check(actor=actor, action=action, allowed=may_open(actor, run))


def moderate_check(*, actor: User | None, run: CourseRun, action: str) -> None:
    permission_check(
        actor=actor,
        action=action,
        allowed=actor is None or may_moderate(actor, run),
    )


def manage_check(*, actor: User | None, action: str, cohort: Cohort | None = None) -> None:
    """Refuse unless `actor` manages delivery (in `cohort`, when given)."""
    permission_check(actor=actor, action=action, permission=MANAGE, obj=cohort)
