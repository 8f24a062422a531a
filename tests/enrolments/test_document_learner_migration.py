"""The migration that gave documents to learners: each existing document gets the learner of
the enrolment it was uploaded for, and where two enrolments of one learner each had a current
document of a type, the newest stays current and the other becomes an earlier version. Run on
a scratch schema migrated to before the change, then forward."""

import datetime
import uuid

import pytest
from django.utils import timezone

from tests.migrating import migrate_to

pytestmark = pytest.mark.django_db

BEFORE = [("enrolments", "0009_learner_required")]
AFTER = [("enrolments", "0010_document_belongs_to_learner")]


def test_each_document_gets_its_enrolments_learner_and_one_stays_current(scratch_schema, capsys):
    old_apps = migrate_to(BEFORE)
    User = old_apps.get_model("accounts", "User")
    Learner = old_apps.get_model("learners", "Learner")
    Cohort = old_apps.get_model("cohorts", "Cohort")
    DocumentType = old_apps.get_model("cohorts", "DocumentType")
    Enrollment = old_apps.get_model("enrolments", "CohortEnrollment")
    Document = old_apps.get_model("enrolments", "StudentDocument")
    dates = {"start_date": datetime.date(2027, 2, 1), "end_date": datetime.date(2027, 11, 30)}
    id_type = DocumentType.objects.get(name="South African ID or passport")
    matric = DocumentType.objects.get(name="Matric certificate")

    def enrolled(learner, user, name):
        cohort = Cohort.objects.create(name=name, program_type="learnership", **dates)
        return Enrollment.objects.create(cohort=cohort, user=user, learner=learner)

    def document(enrollment, document_type, days_ago):
        made = Document.objects.create(
            enrollment=enrollment,
            document_type=document_type,
            file=f"documents/{uuid.uuid4().hex}",
            original_name="document.pdf",
            size=10,
            content_type="application/pdf",
            sha256="0" * 64,
        )
        # uploaded_at is set on insert: move it back.
        uploaded_at = timezone.now() - datetime.timedelta(days=days_ago)
        Document.objects.filter(pk=made.pk).update(uploaded_at=uploaded_at)
        return made

    sipho = User.objects.create(email="sipho@example.org", password="!")
    sipho_learner = Learner.objects.create(first_name="Sipho", user=sipho)
    last_year = enrolled(sipho_learner, sipho, "2026 intake")
    this_year = enrolled(sipho_learner, sipho, "2027 intake")
    old_id = document(last_year, id_type, days_ago=300)
    new_id = document(this_year, id_type, days_ago=3)
    old_matric = document(last_year, matric, days_ago=300)
    lindiwe = User.objects.create(email="lindiwe@example.org", password="!")
    lindiwe_learner = Learner.objects.create(first_name="Lindiwe", user=lindiwe)
    her_id = document(enrolled(lindiwe_learner, lindiwe, "2027 intake"), id_type, days_ago=1)

    new_apps = migrate_to(AFTER)

    NewDocument = new_apps.get_model("enrolments", "StudentDocument")
    rows = {
        row.pk: (row.learner_id, row.enrollment_id, row.is_current)
        for row in NewDocument.objects.all()
    }
    assert rows == {
        old_id.pk: (sipho_learner.pk, last_year.pk, False),  # replaced by this year's upload
        new_id.pk: (sipho_learner.pk, this_year.pk, True),
        old_matric.pk: (sipho_learner.pk, last_year.pk, True),
        her_id.pk: (lindiwe_learner.pk, her_id.enrollment_id, True),
    }
    assert "1 documents are now earlier versions" in capsys.readouterr().out
