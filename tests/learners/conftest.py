"""The enrolment fixtures, for the learner's consents and profile (a learner is made by
enrolling a student)."""

from tests.enrolments.conftest import _media, enrol  # noqa: F401 (fixtures)
