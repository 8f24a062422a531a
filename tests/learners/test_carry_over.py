"""The migration that made one learner per student from the enrolments' `student_data`, forward
and back, on a scratch schema migrated to before it (tests.enrolments.test_document_learner_
migration does the same for documents)."""

import datetime

import pytest

from learners.keys import national_id_decrypt
from tests.learners.support import sa_id_number
from tests.migrating import migrate_to

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scratch_schema")]

BEFORE = [("enrolments", "0007_cohortenrollment_learner")]
AFTER = [("enrolments", "0008_learners_from_student_data")]
DATES = {"start_date": datetime.date(2027, 2, 1), "end_date": datetime.date(2027, 11, 30)}


def _enrolled(apps, user, cohort_name: str, student_data: dict, details_days_ago: int | None):
    Cohort = apps.get_model("cohorts", "Cohort")
    Enrollment = apps.get_model("enrolments", "CohortEnrollment")
    cohort = Cohort.objects.create(name=cohort_name, program_type="learnership", **DATES)
    completed = (
        None
        if details_days_ago is None
        else datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=details_days_ago)
    )
    return Enrollment.objects.create(
        cohort=cohort, user=user, student_data=student_data, details_completed_at=completed
    )


def test_two_enrolments_of_one_student_make_one_learner_the_latest_details_winning(capsys):
    old_apps = migrate_to(BEFORE)
    User = old_apps.get_model("accounts", "User")
    sipho = User.objects.create(email="sipho@example.org", full_name="Sipho Jacob Dlamini")
    older = {"id_number": sa_id_number(1), "gender": "male", "race": "african", "city": "Durban"}
    newer = {"id_number": sa_id_number(1), "gender": "male", "race": "african", "city": "Soweto"}
    last_year = _enrolled(old_apps, sipho, "2026 intake", older, details_days_ago=300)
    this_year = _enrolled(old_apps, sipho, "2027 intake", newer, details_days_ago=3)
    # Invited with an ID number the admin typed, details never given: not the latest.
    invited = _enrolled(
        old_apps, sipho, "2028 intake", {"id_number": sa_id_number(1)}, details_days_ago=None
    )
    thandi = User.objects.create(email="thandi@example.org", full_name="Thandi")
    hers = _enrolled(old_apps, thandi, "2027 intake b", {}, details_days_ago=None)

    new_apps = migrate_to(AFTER)

    Learner = new_apps.get_model("learners", "Learner")
    DataKey = new_apps.get_model("learners", "DataKey")
    Enrollment = new_apps.get_model("enrolments", "CohortEnrollment")
    learner = Learner.objects.get(user_id=sipho.pk)
    assert (learner.first_name, learner.last_name) == ("Sipho Jacob", "Dlamini")
    assert (learner.city, learner.gender, learner.race) == ("Soweto", "male", "african")
    assert national_id_decrypt(learner.national_id_encrypted, model=DataKey) == sa_id_number(1)
    assert learner.national_id_last4 == sa_id_number(1)[-4:]
    assert len(learner.national_id_hash) == 64
    assert sa_id_number(1) not in str(learner.national_id_encrypted)
    assert set(
        Enrollment.objects.filter(pk__in=[last_year.pk, this_year.pk, invited.pk]).values_list(
            "learner_id", flat=True
        )
    ) == {learner.pk}
    assert Enrollment.objects.get(pk=hers.pk).learner.first_name == "Thandi"
    output = capsys.readouterr().out
    assert f"city differed between enrolments {last_year.pk} and {this_year.pk}" in output
    # The fields are named, never their values.
    assert "Durban" not in output
    assert "Soweto" not in output
    assert "2 learners made from 4 enrolments." in output

    back_apps = migrate_to(BEFORE)

    OldEnrollment = back_apps.get_model("enrolments", "CohortEnrollment")
    restored = OldEnrollment.objects.get(pk=last_year.pk)
    assert restored.student_data["city"] == "Soweto"
    assert restored.student_data["id_number"] == sa_id_number(1)
    assert restored.learner_id is None
    assert not back_apps.get_model("learners", "Learner").objects.filter(user_id=sipho.pk).exists()
