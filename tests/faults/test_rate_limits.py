"""Pages while the cache (the test's own Redis) is down: rate limits fail open for reading
pages and forms, counted and logged, and closed, with a 503 page, only for signing tokens
nobody knows, where guessing is the threat."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cohorts.models import StudentImport, StudentImportStatus
from signing.services.submissions import submission_create, submission_send
from signing.services.templates import template_create
from tenants.ratelimits import rate_limit_failures
from tests.factories import CohortFactory
from tests.signing.callbacks import RECORD_COMPLETION
from tests.signing.conftest import BODY, CONTEXT, SIGNERS, last_link_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(own_redis):
    own_redis.stop()


@pytest.fixture
def signing_token(admin, media) -> str:
    template = template_create(title="Agreement", body=BODY, signer_roles=["student"], actor=admin)
    submission = submission_create(
        template=template, context=CONTEXT, signers=SIGNERS[:1], subject=admin, actor=admin,
        on_complete=RECORD_COMPLETION,
    )  # fmt: skip
    submission_send(submission=submission, actor=admin)
    return last_link_to(SIGNERS[0]["email"])


def test_a_known_signing_link_opens_while_the_cache_is_down(
    signing_token, redis_down, client_for, institution
):
    before = rate_limit_failures().get("signing.link", 0)

    response = client_for(institution).get(f"/sign/{signing_token}/")

    assert response.status_code == 200
    assert SIGNERS[0]["name"] in response.content.decode()
    assert rate_limit_failures()["signing.link"] == before + 1


def test_an_unknown_signing_token_gets_the_503_page_while_the_cache_is_down(
    redis_down, client_for, institution, caplog
):
    before = rate_limit_failures().get("signing.link", 0)

    response = client_for(institution).get("/sign/not-a-token-anyone-was-sent/")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "This signing link cannot be opened right now" in response.content.decode()
    assert rate_limit_failures()["signing.link"] == before + 1
    assert "Rate limit signing.link not checked (ConnectionError): failing closed" in caplog.text
    resend = client_for(institution).post("/sign/not-a-token-anyone-was-sent/new-link/")
    assert resend.status_code == 503


def test_the_verify_page_checks_files_while_the_cache_is_down(redis_down, client_for, institution):
    before = rate_limit_failures().get("signing.verify", 0)
    client = client_for(institution)

    assert client.get("/sign/verify/").status_code == 200
    checked = client.post("/sign/verify/", {"document": _upload(b"%PDF-1.7 not really")})

    assert checked.status_code == 422  # checked and found wanting, not refused
    assert rate_limit_failures()["signing.verify"] == before + 1


def test_find_my_institution_answers_while_the_cache_is_down(redis_down, client_for, db):
    before = rate_limit_failures().get("tenants.views.find_institution", 0)

    response = client_for(None).post("/find-institution/", {"email": "someone@example.org"})

    assert response.status_code == 200
    assert "Too many requests" not in response.content.decode()
    assert rate_limit_failures()["tenants.views.find_institution"] == before + 1


def test_an_import_page_shows_its_progress_while_the_cache_is_down(admin, redis_down, client_of):
    cohort = CohortFactory()
    student_import = StudentImport.objects.create(
        cohort=cohort, original_name="students.csv", kind="csv",
        status=StudentImportStatus.IMPORTING, confirmed_by=admin,
    )  # fmt: skip
    client = client_of(admin)

    detail = client.get(reverse("cohort_import:detail", args=[cohort.pk, student_import.pk]))
    progress = client.get(
        reverse("cohort_import:progress", args=[cohort.pk, student_import.pk]),
        headers={"HX-Request": "true"},
    )

    assert detail.status_code == 200
    assert "Importing the students" in detail.content.decode()
    assert progress.status_code == 200
    assert 'aria-valuenow="0"' in progress.content.decode()


def _upload(content: bytes):
    return SimpleUploadedFile("agreement.pdf", content, content_type="application/pdf")
