"""The migration that gave cohorts responsible admins: each existing cohort starts with its
creator, who was the one told of its news until then; one whose creator is gone starts with
nobody (its news goes to every admin, as before). Run on a scratch schema migrated to before
the change, then forward."""

import datetime

import pytest

from tests.migrating import migrate_to

pytestmark = pytest.mark.django_db

BEFORE = [("cohorts", "0008_cohort_expects_at_least_one_student")]
AFTER = [("cohorts", "0009_cohort_responsible_admins")]


def test_each_existing_cohort_gets_its_creator_as_responsible_admin(scratch_schema):
    old_apps = migrate_to(BEFORE)
    User = old_apps.get_model("accounts", "User")
    Cohort = old_apps.get_model("cohorts", "Cohort")
    creator = User.objects.create(email="creator@example.org", password="!")
    dates = {"start_date": datetime.date(2027, 2, 1), "end_date": datetime.date(2027, 11, 30)}
    created = Cohort.objects.create(
        name="Made by someone", program_type="learnership", created_by=creator, **dates
    )
    orphan = Cohort.objects.create(name="Creator gone", program_type="learnership", **dates)

    new_apps = migrate_to(AFTER)

    NewCohort = new_apps.get_model("cohorts", "Cohort")
    assert list(
        NewCohort.objects.get(pk=created.pk).responsible_admins.values_list("pk", flat=True)
    ) == [creator.pk]
    assert not NewCohort.objects.get(pk=orphan.pk).responsible_admins.exists()
