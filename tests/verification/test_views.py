"""The review pages through the test client: the queue (contents, filters, counts, paging,
query counts), the review page and its decisions, the inline file, bulk approval and the
enrolment's document history."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from audit.models import AuditEvent
from enrolments.models import DocumentStatus, StudentDocument, VerificationState
from enrolments.services import enrollment_withdraw
from notifications.models import OutboundEmail
from tests.factories import CohortFactory
from tests.files import png_bytes
from verification.forms import opened_token
from verification.models import DocumentVerification, VerificationAction
from verification.services import document_review

from .conftest import ID_NUMBER, give_details, id_type, matric_type

pytestmark = pytest.mark.django_db

QUEUE = reverse("verification:queue")


def _review_url(document, query: str = "") -> str:
    return reverse("verification:document", args=[document.pk]) + (f"?{query}" if query else "")


def _uploaded_days_ago(document, days: float) -> None:
    StudentDocument.objects.filter(pk=document.pk).update(
        uploaded_at=timezone.now() - timedelta(days=days)
    )


def _listed(response) -> list[int]:
    """Document ids in the queue's table, in order."""
    return [int(pk) for pk in re.findall(r'name="documents" value="(\d+)"', response.text)]


# --- The queue -------------------------------------------------------------------------------


def test_the_queue_lists_documents_waiting_for_review_oldest_first(
    admin_client, enrol, upload, admin
):
    first, second = enrol(full_name="Ayanda First"), enrol(full_name="Bongani Second")
    newest = upload(first, id_type())
    oldest = upload(second, id_type())
    middle = upload(second, matric_type())
    _uploaded_days_ago(oldest, 9)
    _uploaded_days_ago(middle, 2)
    decided = upload(first, matric_type())
    document_review(document=decided, reviewer=admin, approve=True)
    replaced = upload(enrol(), id_type())
    replacement = upload(replaced.enrollment, id_type(), name="again.pdf")
    withdrawn = enrol()
    upload(withdrawn, id_type())
    enrollment_withdraw(enrollment=withdrawn, actor=admin, reason="Left")

    response = admin_client.get(QUEUE)

    assert response.status_code == 200
    assert _listed(response) == [oldest.pk, middle.pk, newest.pk, replacement.pk]
    assert "Version 2" in response.text  # the replacement
    assert "Ayanda First" in response.text
    counts = {
        name: int(value) for name, value in re.findall(r'data-count="(\w+)">(\d+)<', response.text)
    }
    assert counts == {"total": 4, "over_1_day": 2, "over_3_days": 1, "over_7_days": 1}
    assert "oldest 1\xa0week" in response.text


def test_the_queue_filters_by_cohort_document_type_and_waiting_time(admin_client, enrol, upload):
    one = enrol(cohort=CohortFactory(name="Plumbing 2027"))
    two = enrol(cohort=CohortFactory(name="Welding 2027"))
    one_id, one_matric = upload(one, id_type()), upload(one, matric_type())
    two_id = upload(two, id_type())
    _uploaded_days_ago(one_matric, 4)

    by_cohort = admin_client.get(QUEUE, {"cohort": one.cohort_id})
    assert _listed(by_cohort) == [one_matric.pk, one_id.pk]
    assert "Plumbing 2027 (2)" in by_cohort.text
    assert "Welding 2027 (1)" in by_cohort.text

    by_type = admin_client.get(QUEUE, {"document_type": id_type().pk})
    assert _listed(by_type) == [one_id.pk, two_id.pk]
    assert "South African ID or passport (2)" in by_type.text

    by_age = admin_client.get(QUEUE, {"waiting": "3"})
    assert _listed(by_age) == [one_matric.pk]

    combined = admin_client.get(QUEUE, {"cohort": two.cohort_id, "waiting": "3"})
    assert _listed(combined) == []
    assert "No document waiting matches these filters." in combined.text
    # Reviews opened from a filtered queue carry the filters along.
    assert f'href="{_review_url(one_id, f"cohort={one.cohort_id}")}"' in by_cohort.text


def test_the_queue_is_paginated(admin_client, enrol, upload):
    cohort = CohortFactory()
    documents = []
    for _ in range(14):
        enrollment = enrol(cohort=cohort)
        documents += [upload(enrollment, id_type()), upload(enrollment, matric_type())]
    for age, document in enumerate(reversed(documents)):
        _uploaded_days_ago(document, age / 24)

    first = admin_client.get(QUEUE, {"cohort": cohort.pk})
    second = admin_client.get(QUEUE, {"cohort": cohort.pk, "page": 2})

    assert _listed(first) == [d.pk for d in documents[:25]]
    assert _listed(second) == [d.pk for d in documents[25:]]
    assert "26–28 of 28" in second.text
    assert f"?cohort={cohort.pk}&amp;page=1" in second.text


def test_the_queue_makes_the_same_number_of_queries_for_more_documents(
    admin_client, enrol, upload, django_assert_num_queries, django_assert_max_num_queries
):
    small, large = CohortFactory(), CohortFactory()
    for cohort, students in ((small, 2), (large, 12)):
        for _ in range(students):
            enrollment = enrol(cohort=cohort)
            upload(enrollment, id_type())
            upload(enrollment, matric_type())

    admin_client.get(QUEUE, {"cohort": small.pk})
    with django_assert_max_num_queries(25) as measured:
        admin_client.get(QUEUE, {"cohort": small.pk})
    with django_assert_num_queries(len(measured.captured_queries)):
        response = admin_client.get(QUEUE, {"cohort": large.pk})
    assert len(_listed(response)) == 24


# --- The review page -------------------------------------------------------------------------


def test_the_review_page_shows_the_document_beside_the_students_details(
    admin_client, enrol, upload
):
    enrollment = enrol(full_name="Thandi Mokoena")
    give_details(enrollment, gender="male", date_of_birth="")
    document = upload(
        enrollment, id_type(), name="id-card.png", content=png_bytes(), content_type="image/png"
    )

    response = admin_client.get(_review_url(document))

    page = response.text
    assert response.status_code == 200
    assert "Thandi Mokoena" in page
    assert escape(id_type().description) in page
    file_url = reverse("verification:document_file", args=[document.pk])
    assert f'<img src="{file_url}"' in page
    assert 'data-zoom="in"' in page
    # The ID number's implications beside what the student entered, the mismatch flagged; the
    # number itself masked.
    assert ID_NUMBER not in page
    assert f"•••• {ID_NUMBER[-4:]}" in page
    assert "1 January 1990" in page
    assert "South African citizen" in page
    assert re.search(r'<tr class="table-danger">\s*<th[^>]*>Gender</th>\s*<td>Female</td>', page)
    assert "Check: does not match" in page
    # Race and disability are not shown to reviewers.
    assert "African" not in page.replace("South African", "")
    # The decision, its common reasons and the keyboard shortcuts.
    assert "Only one side of the ID card is included: upload both sides." in page
    assert "<kbd>a</kbd> approve" in page
    assert "<kbd>n</kbd> next document" in page
    assert 'src="/static/js/review.js"' in page


def test_a_pdf_is_shown_in_the_browsers_viewer(admin_client, enrol, upload):
    document = upload(enrol(), id_type())
    page = admin_client.get(_review_url(document)).text
    file_url = reverse("verification:document_file", args=[document.pk])
    assert f'<iframe src="{file_url}"' in page
    assert 'data-zoom="in"' not in page


def test_approving_goes_to_the_next_document(admin_client, enrol, upload, admin):
    enrollment = enrol()
    first, second = upload(enrollment, id_type()), upload(enrollment, matric_type())

    response = admin_client.post(
        _review_url(first), {"decision": "approve", "opened": opened_token()}
    )

    assert response.status_code == 302
    assert response["Location"] == _review_url(second)
    verification = DocumentVerification.objects.get(document=first)
    assert verification.admin == admin
    assert verification.action == VerificationAction.APPROVED
    assert verification.metadata["seconds_spent"] is not None
    assert 0 <= verification.metadata["seconds_spent"] < 60


def test_rejecting_needs_a_reason_on_the_page(admin_client, enrol, upload):
    document = upload(enrol(), id_type())

    response = admin_client.post(
        _review_url(document), {"decision": "reject", "common_reason": "", "details": " "}
    )

    assert response.status_code == 400
    assert "Say why the document is rejected: choose a reason or write one." in response.text
    document.refresh_from_db()
    assert document.status == DocumentStatus.PENDING
    assert not DocumentVerification.objects.exists()


def test_rejecting_with_a_common_reason_and_own_words(admin_client, enrol, upload):
    enrollment = enrol()
    document = upload(enrollment, id_type())

    response = admin_client.post(
        _review_url(document),
        {
            "decision": "reject",
            "common_reason": "The photo is blurry or too dark to read.",
            "details": "Take it in daylight.",
        },
        follow=True,
    )

    reason = "The photo is blurry or too dark to read. Take it in daylight."
    document.refresh_from_db()
    assert document.status == DocumentStatus.REJECTED
    assert document.rejection_reason == reason
    assert DocumentVerification.objects.get(document=document).reason == reason
    assert OutboundEmail.objects.get(template="document_rejected").context["reason"] == reason
    # The only document waiting was this one: back to the queue, which says so.
    assert response.redirect_chain[-1][0] == QUEUE
    assert "Nothing else is waiting for review." in response.text


def test_a_common_reason_of_another_document_type_is_refused(admin_client, enrol, upload):
    document = upload(enrol(), id_type())
    response = admin_client.post(
        _review_url(document),
        {"decision": "reject", "common_reason": "The CV has no contact details."},
    )
    assert response.status_code == 400
    assert not DocumentVerification.objects.exists()


def test_the_second_reviewer_is_told_the_document_was_already_decided(
    admin_client, enrol, upload, verifier_for
):
    enrollment = enrol()
    document = upload(enrollment, id_type())
    page = admin_client.get(_review_url(document))
    assert "Approve <kbd>a</kbd>" in page.text
    # Meanwhile a verifier approves it.
    document_review(
        document=document,
        reviewer=verifier_for(enrollment.cohort, full_name="Vusi V"),
        approve=True,
    )

    response = admin_client.post(
        _review_url(document), {"decision": "reject", "details": "Too dark."}, follow=True
    )

    assert response.redirect_chain[-1][0] == _review_url(document)
    assert "This document was already verified by Vusi V on " in response.text
    assert "Approve <kbd>a</kbd>" not in response.text
    assert "<strong>Approved</strong> by Vusi V" in response.text
    assert DocumentVerification.objects.filter(document=document).count() == 1


def test_skipping_and_the_next_document_follow_the_queues_filters(admin_client, enrol, upload):
    one, two = enrol(), enrol()
    one_id, two_id = upload(one, id_type()), upload(two, id_type())
    one_matric = upload(one, matric_type())
    query = f"cohort={one.cohort_id}"

    page = admin_client.get(_review_url(one_id, query)).text

    assert re.findall(r'data-next-url href="([^"]+)"', page) == [_review_url(one_matric, query)]
    assert _review_url(two_id) not in page
    # The last one of the filtered queue wraps round to the first.
    last = admin_client.get(_review_url(one_matric, query)).text
    assert f'data-next-url href="{_review_url(one_id, query)}"' in last


def test_a_decided_or_earlier_version_shows_its_decision_and_no_form(
    admin_client, enrol, upload, admin
):
    enrollment = enrol()
    first = upload(enrollment, id_type())
    document_review(document=first, reviewer=admin, approve=False, reason="Cut off.")
    upload(enrollment, id_type(), name="again.pdf")

    page = admin_client.get(_review_url(first)).text

    assert "<strong>Rejected</strong> by Ada Admin" in page
    assert "Cut off." in page
    assert "data-approve-form" not in page
    assert "Version 2" in page
    assert "Version 1" in page


# --- The file --------------------------------------------------------------------------------


def test_the_file_is_served_inline_for_the_viewer_only(admin_client, enrol, upload):
    document = upload(enrol(), id_type(), name='scan "front".pdf')
    url = reverse("verification:document_file", args=[document.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; filename=")
    assert "front" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Cache-Control"] == "private, no-store"
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "default-src 'none'" in policy

    download = admin_client.get(url, {"download": ""})
    assert download["Content-Disposition"].startswith("attachment; filename=")
    assert download["Content-Type"] == "application/octet-stream"

    # Every other page still refuses to be framed.
    page = admin_client.get(_review_url(document))
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_a_quarantined_file_is_not_found(admin_client, enrol, upload):
    from enrolments.models import StudentDocument

    document = upload(enrol(), id_type())
    StudentDocument.objects.filter(pk=document.pk).update(file="")
    url = reverse("verification:document_file", args=[document.pk])
    assert admin_client.get(url).status_code == 404


# --- Bulk approval ---------------------------------------------------------------------------


def test_bulk_approval_records_one_decision_per_document(admin_client, enrol, upload, admin):
    enrollment = enrol()
    first, second = upload(enrollment, id_type()), upload(enrollment, matric_type())
    untouched = upload(enrol(), id_type())

    response = admin_client.post(
        reverse("verification:bulk_approve") + "?waiting=",
        {"documents": [first.pk, second.pk]},
        follow=True,
    )

    assert "Approved 2 documents." in response.text
    assert _listed(response) == [untouched.pk]
    rows = DocumentVerification.objects.filter(admin=admin).order_by("pk")
    assert [row.document_id for row in rows] == [first.pk, second.pk]
    assert all(row.metadata["bulk"] for row in rows)
    assert AuditEvent.objects.filter(action="document.approved").count() == 2
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == VerificationState.VERIFIED


def test_bulk_approval_reports_what_was_no_longer_waiting(admin_client, enrol, upload, admin):
    enrollment = enrol()
    first, second = upload(enrollment, id_type()), upload(enrollment, matric_type())
    document_review(document=second, reviewer=admin, approve=False, reason="Dark.")

    response = admin_client.post(
        reverse("verification:bulk_approve"),
        {"documents": [first.pk, second.pk, 999_999]},
        follow=True,
    )

    assert "Approved 1 document." in response.text
    assert "2 of the ticked documents are no longer waiting for review." in response.text
    assert DocumentVerification.objects.filter(action=VerificationAction.APPROVED).count() == 1

    nothing = admin_client.post(reverse("verification:bulk_approve"), {}, follow=True)
    assert "Tick the documents to approve." in nothing.text


# --- The enrolment's history -----------------------------------------------------------------


def test_a_new_upload_goes_back_to_the_queue_and_the_history_shows_both_versions(
    admin_client, enrol, upload, admin, verifier_for, client_of
):
    enrollment = enrol(full_name="Thandi Mokoena")
    first = upload(
        enrollment, id_type(), name="blurry.png", content=png_bytes(), content_type="image/png"
    )
    admin_client.post(
        _review_url(first),
        {"decision": "reject", "details": "The photo is too blurry.", "opened": opened_token()},
    )
    assert first.pk not in _listed(admin_client.get(QUEUE))
    # The student sees the reason in the portal, and sends a new version.
    portal = client_of(enrollment.user).get(reverse("enrolments:detail", args=[enrollment.pk]))
    assert "The photo is too blurry." in portal.text
    second = upload(enrollment, id_type(), name="sharp.pdf")
    assert second.pk in _listed(admin_client.get(QUEUE))

    verifier = verifier_for(enrollment.cohort, full_name="Vusi Verifier")
    document_review(document=second, reviewer=verifier, approve=True, seconds_spent=75)

    page = admin_client.get(reverse("verification:enrollment", args=[enrollment.pk])).text
    history = page.split('id="history-heading"')[0] if "history-heading" in page else page
    identity = history.split(f'id="document-type-{id_type().pk}"')[1].split("</section>")[0]
    assert identity.index("sharp.pdf") < identity.index("blurry.png")
    assert "Version 2" in identity
    assert "Version 1" in identity
    assert "<strong>Approved</strong> by Vusi Verifier" in identity
    assert "(after 1 min 15 s)" in identity
    assert "<strong>Rejected</strong> by Ada Admin" in identity
    assert "The photo is too blurry." in identity
    assert second.sha256[:16] in identity
    matric = history.split(f'id="document-type-{matric_type().pk}"')[1].split("</section>")[0]
    assert "Not uploaded" in matric
