"""Signing fixtures: an admin, a three-signer template and a submission made from it, with the
raw token of each signer's link kept from the e-mail that carried it."""

import io
import re
import secrets

import pytest
from PIL import Image

from notifications.models import OutboundEmail
from signing.services.submissions import submission_create, submission_send
from signing.services.templates import template_create
from tests.signing.callbacks import RECORD_COMPLETION, RECORD_DECLINE
from tests.tsa import tsa  # noqa: F401 (a fixture for these tests)

BODY = (
    "<h2>Participation</h2><p>{{ student.full_name }} joins {{ cohort.name }} at "
    "{{ institution.name }}, sponsored by {{ sponsor.company_name }}.</p>"
)
CONTEXT = {
    "student.full_name": "Thandi Mokoena",
    "cohort.name": "Analytics 2027",
    "sponsor.company_name": "Ubuntu Mining",
}
SIGNERS = [
    {"role": "student", "name": "Thandi Mokoena", "email": "thandi@example.org"},
    {"role": "sponsor", "name": "Sipho Dlamini", "email": "sipho@ubuntu.example"},
    {"role": "institution_admin", "name": "Lerato Khumalo", "email": "lerato@alpha.example"},
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"


@pytest.fixture
def template(admin):
    return template_create(
        title="Learnership agreement",
        body=BODY,
        signer_roles=["student", "sponsor", "institution_admin"],
        actor=admin,
    )


def token_from(url: str) -> str:
    """The token of a signing URL (a page's redirect may add where to return to)."""
    return url.partition("?")[0].rstrip("/").rsplit("/", 1)[1]


def others_sign(submission) -> None:
    """Every party after the student signs, in order, where they are reached (the sponsor on
    their page, the institution's signatory on the cohort page): as a test's setting."""
    from signing.services.completion import submitter_sign_in_place

    for signer in submission.submitters.filter(signed_at__isnull=True).order_by("order"):
        submitter_sign_in_place(
            submission=submission,
            role=signer.role,
            signed_name=signer.name,
            signature_text=signer.name,
            consent=True,
        )


def last_link_to(email: str) -> str:
    """The token in the latest signing e-mail to `email` (as the signer would click it)."""
    message = OutboundEmail.objects.filter(recipient=email, template="signing_request").latest("id")
    return token_from(message.context["sign_url"])


@pytest.fixture
def make_submission(template, admin):
    def make(*, signers=SIGNERS, subject=None, on_complete=RECORD_COMPLETION):
        submission = submission_create(
            template=template,
            context=CONTEXT,
            signers=signers,
            on_complete=on_complete,
            on_decline=RECORD_DECLINE,
            subject=subject or admin,
            actor=admin,
        )
        submission_send(submission=submission, actor=admin)
        return submission

    return make


@pytest.fixture
def unique_ip() -> str:
    """An address of the test's own, so rate-limit counts of other tests never mix in."""
    return "10." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))


def png_signature() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 100), (255, 255, 255, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_text(pdf: bytes) -> str:
    """Every page's text, each run of white space made one space."""
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text)


def pdf_text_contains(pdf: bytes, needle: str) -> bool:
    return needle in pdf_text(pdf)


def first_page_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
