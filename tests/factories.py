import factory
from factory.django import DjangoModelFactory, Password

from accounts.models import Role, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    """A signed-up person in the current schema (switch to the institution first)."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    roles = factory.LazyFunction(lambda: [Role.ADMIN])
    password = Password(PASSWORD)
