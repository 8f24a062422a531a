"""Plain-text e-mail is not HTML: names with & and ' read as typed in the text body and the
subject, while the HTML part stays escaped."""

import pytest

from notifications.models import OutboundEmail
from notifications.services import email_render
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline
from sponsors.services import cohort_sponsor_set, sponsor_create, sponsor_invite
from tests.factories import CohortFactory
from tests.signing.conftest import last_link_to

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

NAME = "Smith & O'Neil"


def _assert_literal(message, text: str) -> None:
    assert text in message.subject
    assert text in message.body
    for escaped in ("&amp;", "&#x27;", "&#39;"):
        assert escaped not in message.subject + message.body
    html = message.alternatives[0][0]
    assert "Smith &amp; O&#x27;Neil" in html


def test_a_sponsors_decline_names_the_cohort_as_typed(admin):
    sponsor = sponsor_create(
        actor=admin,
        company_name="Ubuntu Mining",
        contact_name="Sipho Dlamini",
        contact_email="sipho@ubuntu.example",
    )
    cohort = cohort_sponsor_set(
        cohort=CohortFactory(name=NAME, signed=True, created_by=admin), sponsor=sponsor, actor=admin
    )
    sponsor_invite(cohort=cohort, actor=admin)
    token = last_link_to("sipho@ubuntu.example")
    submitter_decline(link=link_for_token(token), reason="Budget <cut> & delays")

    message = email_render(OutboundEmail.objects.get(template="sponsor_outcome"))

    _assert_literal(message, NAME)
    assert "Their reason: Budget <cut> & delays" in message.body


@pytest.mark.parametrize(
    # Not "context": that name is Playwright's browser-context fixture, and a test asking for
    # it would be grouped with, and run among, the browser tests.
    ("template", "values"),
    [
        ("enrolled", {"full_name": "Thandi", "cohort_name": NAME, "url": "https://x/"}),
        (
            "signing_request",
            {
                "full_name": "Thandi",
                "title": NAME,
                "role": "Student",
                "sign_url": "https://x/sign/t/",
                "expires_at": "1 March",
            },
        ),
        ("signing_completed", {"full_name": "Thandi", "title": NAME, "verify_url": "https://x/"}),
    ],
)
def test_every_plain_text_part_is_rendered_unescaped(institution, template, values):
    """Templates with and without names in their subject: the renderer, not each template,
    turns escaping off."""
    message = email_render(
        OutboundEmail(recipient="thandi@example.org", template=template, context=values)
    )
    _assert_literal(message, NAME)
