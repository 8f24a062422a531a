import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from signing.models import AgreementTemplate, SubmissionStatus
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from signing.services.submissions import submission_send
from signing.views import GUESS_RATE, MAX_VERIFY_BYTES, RESEND_RATE, VERIFY_RATE
from tests.factories import UserFactory
from tests.signing.callbacks import REFUSE_COMPLETION
from tests.signing.conftest import last_link_to, png_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def signer_client(institution, client_for, unique_ip):
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    return client


def _first_token(submission) -> str:
    return last_link_to(submission.submitters.get(order=1).email)


def _sign_post(client, token, **extra):
    data = {
        "action": "sign",
        "signed_name": "Thandi Mokoena",
        "signature_text": "T. Mokoena",
        "consent": "on",
    } | extra
    return client.post(f"/sign/{token}/", data)


# --- Template pages ---------------------------------------------------------------------------


def test_template_list_and_form_for_admins(admin_client, template):
    response = admin_client.get("/agreements/")
    assert response.status_code == 200
    assert template.title in response.content.decode()
    assert admin_client.get(f"/agreements/{template.pk}/").status_code == 200


def test_unknown_merge_field_is_shown_beside_the_body(admin_client):
    response = admin_client.post(
        "/agreements/new/",
        {"title": "T", "body": "<p>{{ cohort.colour }}</p>", "first_signer": "student"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "{{ cohort.colour }}" in " ".join(form.errors["body"])


def test_template_create_page_saves_signers_in_order(admin_client):
    response = admin_client.post(
        "/agreements/new/",
        {
            "title": "Sponsor agreement",
            "body": "<p>{{ sponsor.company_name }}</p>",
            "first_signer": "sponsor",
            "second_signer": "institution_admin",
            "third_signer": "",
        },
    )
    assert response.status_code == 302
    assert AgreementTemplate.objects.get(title="Sponsor agreement").signer_roles == [
        "sponsor",
        "institution_admin",
    ]


@pytest.mark.parametrize(
    ("signers", "field", "message"),
    [
        ({"first_signer": "student", "second_signer": "student"}, "second_signer", "once"),
        ({"first_signer": "student", "third_signer": "sponsor"}, "third_signer", "before"),
        ({"first_signer": ""}, "first_signer", "required"),
    ],
)
def test_signer_order_mistakes_are_shown_beside_the_field(admin_client, signers, field, message):
    response = admin_client.post(
        "/agreements/new/", {"title": "T", "body": "<p>Terms</p>", **signers}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not AgreementTemplate.objects.filter(title="T").exists()


def test_editor_preview_fills_example_values_and_names_unknown_fields(admin_client):
    url = "/agreements/body-preview/"
    filled = admin_client.post(url, {"body": "<p>{{ cohort.name }}<script>x()</script></p>"})
    assert "Data Analytics Learnership 2027" in filled.content.decode()
    assert "<script" not in filled.content.decode()
    unknown = admin_client.post(url, {"body": "<p>{{ cohort.colour }}</p>"})
    assert "Unknown merge field: {{ cohort.colour }}" in unknown.content.decode()


def test_editor_preview_is_for_template_managers_only(institution, client_for):
    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.STUDENT]))
    assert client.post("/agreements/body-preview/", {"body": "<p>x</p>"}).status_code == 404


def test_preview_is_an_inline_pdf(admin_client, template):
    response = admin_client.get(f"/agreements/{template.pk}/preview.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response.content.startswith(b"%PDF")


def test_students_get_404_on_template_pages(institution, client_for, template):
    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.STUDENT]))
    assert client.get("/agreements/").status_code == 404
    assert client.get(f"/agreements/{template.pk}/preview.pdf").status_code == 404


# --- Token links ------------------------------------------------------------------------------


def test_signing_page_shows_document_and_records_opening(signer_client, make_submission):
    submission = make_submission()
    token = _first_token(submission)
    response = signer_client.get(f"/sign/{token}/")
    assert response.status_code == 200
    assert "Thandi Mokoena" in response.content.decode()
    assert submission.submitters.get(order=1).opened_at is not None
    document = signer_client.get(f"/sign/{token}/document.pdf")
    assert document.content.startswith(b"%PDF")
    assert "_auth_user_id" not in signer_client.session


def test_behind_a_proxy_the_trail_records_the_signers_address(
    institution, client_for, make_submission, settings
):
    settings.TRUSTED_PROXIES = 1
    client = client_for(institution)  # made after the setting: middleware reads it once
    client.defaults |= {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    submission = make_submission()
    assert client.get(f"/sign/{_first_token(submission)}/").status_code == 200
    opened = submission.events.get(kind="opened")
    assert opened.ip_address == "198.51.100.7"


def test_drawn_signature_is_stored(signer_client, make_submission):
    submission = make_submission()
    data = "data:image/png;base64," + base64.b64encode(png_signature()).decode()
    response = _sign_post(
        signer_client, _first_token(submission), signature_text="", signature_image=data
    )
    assert response.status_code == 200
    student = submission.submitters.get(order=1)
    assert student.signed_at
    assert student.signature_image
    assert not student.signature_text


def test_missing_consent_is_shown_beside_the_checkbox(signer_client, make_submission):
    submission = make_submission()
    response = _sign_post(signer_client, _first_token(submission), consent="")
    assert "consent" in response.context["form"].errors
    assert submission.submitters.get(order=1).signed_at is None


def test_later_signer_sees_waiting_for_role(signer_client, make_submission):
    submission = make_submission()
    sponsor = submission.submitters.get(order=2)
    from signing.services.links import link_issue

    token = link_issue(sponsor, notify=False).rstrip("/").rsplit("/", 1)[1]
    response = signer_client.get(f"/sign/{token}/")
    assert response.status_code == 409
    assert "Waiting for the student" in response.content.decode()
    assert _sign_post(signer_client, token).status_code == 409
    assert signer_client.get(f"/sign/{token}/document.pdf").status_code == 404


def test_expired_link_says_so_and_offers_a_new_one(signer_client, make_submission):
    submission = make_submission()
    token = _first_token(submission)
    link = link_for_token(token)
    link.expires_at = timezone.now()
    link.save()
    response = signer_client.get(f"/sign/{token}/")
    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    assert _sign_post(signer_client, token).status_code == 410
    resent = signer_client.post(f"/sign/{token}/new-link/")
    assert "new link is on its way" in resent.content.decode()
    new_token = _first_token(submission)
    assert new_token != token
    assert signer_client.get(f"/sign/{new_token}/").status_code == 200


def test_a_working_link_sends_no_new_one(signer_client, make_submission):
    submission = make_submission()
    token = _first_token(submission)
    response = signer_client.post(f"/sign/{token}/new-link/")
    assert response.status_code == 302
    assert response["Location"] == f"/sign/{token}/"
    assert _first_token(submission) == token
    assert link_for_token(token).state == "usable"


def test_new_links_from_an_old_one_are_rate_limited(signer_client, make_submission):
    submission = make_submission()
    old = _first_token(submission)
    link_for_token(old).submitter.links.update(expires_at=timezone.now())
    for _ in range(int(RESEND_RATE.split("/")[0])):
        assert signer_client.post(f"/sign/{old}/new-link/").status_code == 200
    newest = _first_token(submission)

    refused = signer_client.post(f"/sign/{old}/new-link/")

    assert refused.status_code == 429
    assert signer_client.post(f"/sign/{old}/new-link/").status_code == 429
    assert "Open the newest one from your e-mail" in refused.content.decode()
    assert _first_token(submission) == newest
    assert link_for_token(newest).state == "usable"


def test_pages_after_the_link_name_whom_to_ask(signer_client, make_submission, institution):
    from tenants.models import Institution

    Institution.objects.filter(pk=institution.pk).update(
        contact_email="admissions@alpha.example", contact_phone="+27 21 555 0100"
    )
    token = _first_token(make_submission())
    done = _sign_post(signer_client, token).content.decode()
    assert "Thank you, you have signed" in done
    assert 'href="mailto:admissions@alpha.example"' in done
    assert "+27 21 555 0100" in done
    used = signer_client.get(f"/sign/{token}/").content.decode()
    assert "already been used" in used
    assert "admissions@alpha.example" in used


def test_a_refused_completion_says_so_and_signs_nothing(signer_client, make_submission):
    one_signer = [{"role": "student", "name": "Thandi Mokoena", "email": "thandi@example.org"}]
    submission = make_submission(signers=one_signer, on_complete=REFUSE_COMPLETION)
    response = _sign_post(signer_client, _first_token(submission))
    assert response.status_code == 200
    assert "could not be recorded from this link. Ask Alpha College." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING
    assert submission.submitters.get().signed_at is None
    refusal = AuditEvent.objects.get(action="permission.denied")
    assert (refusal.entity_id, refusal.actor) == ("tests.refuse_completion", submission.created_by)


def test_a_failed_completion_leaves_no_files_behind(signer_client, make_submission, settings):
    from pathlib import Path

    one_signer = [{"role": "student", "name": "Thandi Mokoena", "email": "thandi@example.org"}]
    submission = make_submission(signers=one_signer, on_complete=REFUSE_COMPLETION)
    drawn = "data:image/png;base64," + base64.b64encode(png_signature()).decode()
    _sign_post(signer_client, _first_token(submission), signature_text="", signature_image=drawn)
    stored = {path.name for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}
    assert stored == {Path(submission.original_pdf.name).name}  # no signature, no sealed copy


def test_a_refused_request_for_a_new_link_uses_up_no_allowance(
    signer_client, make_submission, admin
):
    from signing.services.submissions import submission_revoke

    submission = make_submission()
    old = _first_token(submission)
    submission_revoke(submission=submission, actor=admin)
    for _ in range(int(RESEND_RATE.split("/")[0]) + 1):
        refused = signer_client.post(f"/sign/{old}/new-link/")
        assert refused.status_code == 410  # nothing to sign: said every time, never "too many"
        assert "there is nothing left to sign" in refused.content.decode()


def test_replaced_link_is_revoked(signer_client, make_submission, admin):
    submission = make_submission()
    token = _first_token(submission)
    submission_send(submission=submission, actor=admin)  # the admin resends
    response = signer_client.get(f"/sign/{token}/")
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_revoked_submission_link_is_refused(signer_client, make_submission, admin):
    from signing.services.submissions import submission_revoke

    submission = make_submission()
    token = _first_token(submission)
    submission_revoke(submission=submission, actor=admin)
    response = signer_client.get(f"/sign/{token}/")
    assert response.status_code == 410
    assert "nothing left to sign" in response.content.decode()


def test_used_link_cannot_sign_twice(signer_client, make_submission):
    submission = make_submission()
    token = _first_token(submission)
    assert _sign_post(signer_client, token).status_code == 200
    again = _sign_post(signer_client, token, signed_name="Someone else")
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert submission.submitters.get(order=1).signed_name == "Thandi Mokoena"


def test_a_link_acts_only_for_its_own_signer(signer_client, make_submission):
    first = make_submission()
    second = make_submission()
    token = _first_token(second)  # the latest e-mail to the student is for `second`
    _sign_post(signer_client, token)
    assert second.submitters.get(order=1).signed_at is not None
    assert first.submitters.get(order=1).signed_at is None
    assert first.submitters.get(order=2).signed_at is None


def test_link_does_not_work_on_another_institutions_domain(
    client_for, other_institution, make_submission, unique_ip
):
    submission = make_submission()
    token = _first_token(submission)
    client = client_for(other_institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    response = client.get(f"/sign/{token}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_guessed_tokens_are_rate_limited(signer_client, make_submission):
    submission = make_submission()
    real = _first_token(submission)
    limit = int(GUESS_RATE.split("/")[0])
    for attempt in range(limit):
        assert signer_client.get(f"/sign/guess-{attempt}/").status_code == 404
    response = signer_client.get(f"/sign/{real}/")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_declined_link_page(signer_client, make_submission):
    submission = make_submission()
    token = _first_token(submission)
    response = signer_client.post(f"/sign/{token}/", {"action": "decline", "reason": "No."})
    assert "You have declined" in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.DECLINED


# --- Verify page ------------------------------------------------------------------------------


def _complete(submission) -> bytes:
    for submitter in submission.submitters.order_by("order"):
        link = link_for_token(last_link_to(submitter.email))
        submitter_sign(link=link, signed_name=submitter.name, consent=True, signature_text="x")
    submission.refresh_from_db()
    with submission.final_pdf.open("rb") as stored:
        return stored.read()


def _verify(client, data: bytes):
    return client.post(
        "/sign/verify/",
        {"document": SimpleUploadedFile("agreement.pdf", data, content_type="application/pdf")},
    )


def test_verify_page_recognises_the_sealed_pdf(signer_client, make_submission):
    submission = make_submission()
    final = _complete(submission)
    response = _verify(signer_client, final)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Genuine and unmodified" in content
    assert submission.title in content
    assert "Sipho Dlamini" in content


def test_verify_page_refuses_a_pdf_changed_by_one_byte(signer_client, make_submission):
    final = bytearray(_complete(make_submission()))
    position = final.index(b"stream") + 20
    final[position] ^= 0x01
    response = _verify(signer_client, bytes(final))
    assert response.status_code == 422
    assert "Not verified" in response.content.decode()


def test_verify_page_refuses_an_oversized_upload_before_reading_it(signer_client):
    signer_client.handler.enforce_csrf_checks = True  # the CSRF check would read the body
    declared = MAX_VERIFY_BYTES + 1024 * 1024
    response = signer_client.post(
        "/sign/verify/",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(declared),
    )
    assert response.status_code == 413
    assert "larger than any document we seal" in response.content.decode()


def test_verify_page_is_rate_limited_per_address(signer_client):
    for _ in range(int(VERIFY_RATE.split("/")[0])):
        assert _verify(signer_client, b"%PDF-1.7 not really").status_code == 422
    limited = _verify(signer_client, b"%PDF-1.7 not really")
    assert limited.status_code == 429
    assert "Too many checks from your address" in limited.content.decode()


def test_verify_page_checks_csrf(institution, client_for, unique_ip, make_submission):
    final = _complete(make_submission())
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    client.handler.enforce_csrf_checks = True
    assert _verify(client, final).status_code == 403


def test_verify_page_refuses_another_institutions_document(
    client_for, other_institution, make_submission, unique_ip
):
    final = _complete(make_submission())
    client = client_for(other_institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    response = _verify(client, final)
    assert response.status_code == 422


def test_template_list_queries_do_not_grow_with_templates(
    admin_client, admin, django_assert_num_queries
):
    from signing.services.templates import template_create

    def add(count: int) -> None:
        for number in range(count):
            template_create(
                title=f"T{number}", body="<p>x</p>", signer_roles=["student"], actor=admin
            )

    add(2)
    admin_client.get("/agreements/")  # warm the session and the institution's caches
    with CaptureQueriesContext(connection) as small:
        admin_client.get("/agreements/")
    add(20)
    with django_assert_num_queries(len(small.captured_queries)):
        admin_client.get("/agreements/")


def test_admins_download_the_sealed_pdf_only_once_complete(admin_client, make_submission):
    submission = make_submission()
    assert admin_client.get(f"/agreements/sent/{submission.pk}/signed.pdf").status_code == 404
    final = _complete(submission)
    response = admin_client.get(f"/agreements/sent/{submission.pk}/signed.pdf")
    assert response.content == final
