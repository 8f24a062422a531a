import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory, Password

from accounts.models import Role, User
from cohorts.models import CohortState, DocumentType
from signing.models import AgreementTemplate

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    """A signed-up person in the current schema (switch to the institution first)."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    roles = factory.LazyFunction(lambda: [Role.ADMIN])
    password = Password(PASSWORD)


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
