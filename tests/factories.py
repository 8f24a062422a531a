import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory, Password

from accounts.models import Role, SystemRole, User, UserRole
from cohorts.models import CohortState, DocumentType
from signing.models import AgreementTemplate

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    """A signed-up person in the current schema (switch to the institution first)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = Password(PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted, **kwargs) -> None:
        """`roles=[...]`: the roles the person holds (system role keys or Role rows); an
        admin when not given."""
        if not create:
            return
        wanted = [SystemRole.ADMIN] if extracted is None else extracted
        keys = [role for role in wanted if isinstance(role, str)]
        rows = [role for role in wanted if isinstance(role, Role)]
        rows += list(Role.objects.filter(key__in=keys))
        UserRole.objects.bulk_create(UserRole(user=self, role=role) for role in rows)


class CohortFactory(DjangoModelFactory):
    """A draft cohort in the current schema with the default agreement and two required
    documents (ID and matric), ready to be signed and activated; `active=True` for one that
    runs."""

    class Meta:
        model = "cohorts.Cohort"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Learnership {n}")
    program_type = "learnership"
    student_count = 20
    start_date = factory.LazyFunction(lambda: datetime.date(2027, 2, 1))
    end_date = factory.LazyFunction(lambda: datetime.date(2027, 11, 30))
    main_template = factory.LazyFunction(lambda: AgreementTemplate.objects.order_by("pk").first())

    class Params:
        # A draft whose main agreement an admin has signed (its current version).
        signed = factory.Trait(
            admin_signed_at=factory.LazyFunction(timezone.now),
            admin_signed_by=factory.SubFactory(UserFactory, full_name="Ada Admin"),
            main_template_version=factory.LazyAttribute(
                lambda cohort: cohort.main_template.versions.get(
                    number=cohort.main_template.version
                )
            ),
        )
        # A running cohort, as if its main agreement were signed and it were activated.
        active = factory.Trait(signed=True, state=CohortState.ACTIVE)

    @factory.post_generation
    def required_document_types(self, create: bool, extracted, **kwargs) -> None:
        if create:
            self.required_document_types.set(
                extracted
                if extracted is not None
                else DocumentType.objects.filter(
                    name__in=["South African ID or passport", "Matric certificate"]
                )
            )


def roles_replace(user: User, *keys: str) -> None:
    """Make `user` hold exactly the system roles `keys` (as a super admin changing them would,
    without the checks: a test's setting)."""
    UserRole.objects.filter(user=user).delete()
    UserRole.objects.bulk_create(
        UserRole(user=user, role=role) for role in Role.objects.filter(key__in=keys)
    )
    user.__dict__.pop("permission_codes", None)


def role_keys(user: User) -> set[str]:
    """The system roles `user` holds, read from the database."""
    return set(
        Role.objects.filter(holdings__user=user, key__isnull=False).values_list("key", flat=True)
    )


class ProgrammeFactory(DjangoModelFactory):
    """An active programme of the current institution, without a department."""

    class Meta:
        model = "academics.Programme"

    name = factory.Sequence(lambda n: f"Business Administration {n}")
    code = factory.Sequence(lambda n: f"BA{n:03}")
    duration_years = 1
    total_credits = 120
    degree_type = "learnership"


class CourseFactory(DjangoModelFactory):
    class Meta:
        model = "academics.Course"

    programme = factory.SubFactory(ProgrammeFactory)
    code = factory.Sequence(lambda n: f"C{n:03}")
    name = factory.Sequence(lambda n: f"Course {n}")
    credits = 12
    hours_per_week = 6


class TrainerFactory(DjangoModelFactory):
    """A trainer with an account holding the trainer role."""

    class Meta:
        model = "delivery.Trainer"

    user = factory.SubFactory(UserFactory, roles=[SystemRole.TRAINER])
    name = factory.LazyAttribute(lambda trainer: trainer.user.full_name)
    email = factory.LazyAttribute(lambda trainer: trainer.user.email)


class CourseRunFactory(DjangoModelFactory):
    """A run of a course of the cohort's programme (the cohort gets `course`'s programme when
    it has none)."""

    class Meta:
        model = "delivery.CourseRun"
        skip_postgeneration_save = True

    cohort = factory.SubFactory(CohortFactory, active=True)
    course = factory.SubFactory(CourseFactory)
    course_ref = factory.LazyAttribute(lambda run: run.course.code)
    title = factory.LazyAttribute(lambda run: run.course.name)
    start_date = factory.LazyAttribute(lambda run: run.cohort.start_date)
    end_date = factory.LazyAttribute(lambda run: run.cohort.end_date)
    trainer = factory.SubFactory(TrainerFactory)

    @factory.post_generation
    def programme(self, create: bool, extracted, **kwargs) -> None:
        if create and self.cohort.programme_id is None:
            self.cohort.programme = self.course.programme
            self.cohort.save(update_fields=["programme"])


class SessionFactory(DjangoModelFactory):
    class Meta:
        model = "delivery.Session"

    course_run = factory.SubFactory(CourseRunFactory)
    session_date = factory.LazyAttribute(lambda session: session.course_run.start_date)
    start_time = datetime.time(9, 0)
    end_time = datetime.time(12, 0)
    trainer = factory.LazyAttribute(lambda session: session.course_run.trainer)


class CourseEnrollmentFactory(DjangoModelFactory):
    """`enrollment` (a CohortEnrollment of the run's cohort) in `course_run`."""

    class Meta:
        model = "delivery.CourseEnrollment"

    course_run = factory.SubFactory(CourseRunFactory)
    course = factory.LazyAttribute(lambda enrolment: enrolment.course_run.course)
    academic_session = factory.LazyAttribute(
        lambda enrolment: enrolment.course_run.academic_session
    )
    enrollment_date = factory.LazyAttribute(lambda enrolment: enrolment.course_run.start_date)
