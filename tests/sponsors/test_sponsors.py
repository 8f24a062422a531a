import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from signing.models import SigningLink, SubmissionStatus
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline, submitter_sign
from sponsors.models import Sponsor
from sponsors.selectors import cohort_sponsor_status, cohort_summary
from sponsors.services import (
    cohort_sponsor_set,
    sponsor_create,
    sponsor_invite,
    sponsor_update,
)
from tests.factories import CohortFactory, UserFactory
from tests.signing.conftest import last_link_to

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

VALUES = {
    "company_name": "Ubuntu Mining",
    "contact_name": "Sipho Dlamini",
    "contact_email": "Sipho@Ubuntu.example",
    "contact_phone": "+27 11 555 0100",
    "tax_number": "9012345678",
}


def test_create_and_update_are_audited(admin, sponsor):
    assert sponsor.contact_email == "sipho@ubuntu.example"
    sponsor_update(sponsor=sponsor, actor=admin, **(VALUES | {"contact_name": "Lerato K"}))
    sponsor.refresh_from_db()
    assert sponsor.contact_name == "Lerato K"
    actions = set(
        AuditEvent.objects.filter(
            entity_type="sponsors.sponsor", entity_id=str(sponsor.pk)
        ).values_list("action", flat=True)
    )
    assert actions == {"sponsor.created", "sponsor.updated"}


def test_create_needs_company_contact_and_email(admin):
    with pytest.raises(ValidationError) as error:
        sponsor_create(actor=admin, **(VALUES | {"company_name": " ", "contact_email": ""}))
    assert set(error.value.message_dict) == {"company_name", "contact_email"}


def test_only_admins_write_sponsors(institution):
    student = UserFactory(roles=[SystemRole.STUDENT])
    with pytest.raises(PermissionDenied):
        sponsor_create(actor=student, **VALUES)


def test_pages_add_edit_search_and_detail(admin_client, sponsor, cohort):
    response = admin_client.post(
        "/sponsors/new/",
        VALUES
        | {
            "company_name": "Karoo Solar",
            "contact_email": "k@karoo.example",
            "contact_name": "Naledi",
        },
    )
    created = Sponsor.objects.get(company_name="Karoo Solar")
    assert response.status_code == 302
    assert response.url == f"/sponsors/{created.pk}/"
    bad = admin_client.post(f"/sponsors/{created.pk}/edit/", VALUES | {"contact_email": "nope"})
    assert bad.status_code == 200
    assert "contact_email" in bad.context["form"].errors
    listing = admin_client.get("/sponsors/?q=ubuntu")
    assert [s.company_name for s in listing.context["page"]] == ["Ubuntu Mining"]
    assert cohort.name in listing.content.decode()
    by_contact = admin_client.get("/sponsors/?q=sipho")
    assert [s.pk for s in by_contact.context["page"]] == [sponsor.pk]
    assert "No sponsor matches" in admin_client.get("/sponsors/?q=zzz").content.decode()
    detail = admin_client.get(f"/sponsors/{sponsor.pk}/")
    assert cohort.name in detail.content.decode()


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.VERIFIER])
def test_students_and_verifiers_get_404(client_of, sponsor, cohort, role):
    client = client_of(UserFactory(roles=[role]))
    for url in [
        "/sponsors/",
        "/sponsors/new/",
        f"/sponsors/{sponsor.pk}/",
        f"/sponsors/{sponsor.pk}/edit/",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/sponsors/cohort/{cohort.pk}/invite/").status_code == 404
    assert client.post(f"/sponsors/cohort/{cohort.pk}/set/", {"sponsor": ""}).status_code == 404


def test_another_institutions_sponsor_is_not_found(institution, other_institution, client_for):
    connection.set_tenant(other_institution)
    foreign = Sponsor.objects.create(
        company_name="Foreign", contact_name="F", contact_email="f@example.org"
    )
    connection.set_tenant(institution)
    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.SUPER_ADMIN]))
    if not Sponsor.objects.filter(pk=foreign.pk).exists():
        assert client.get(f"/sponsors/{foreign.pk}/").status_code == 404
        assert client.get(f"/sponsors/{foreign.pk}/edit/").status_code == 404


def test_sponsor_set_only_on_draft_or_active_cohorts(admin, sponsor):
    from cohorts.models import CohortState

    cohort = CohortFactory()
    Cohort = type(cohort)
    Cohort.objects.filter(pk=cohort.pk).update(state=CohortState.CANCELLED)
    with pytest.raises(ValidationError):
        cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)


def test_set_from_the_cohort_page(admin_client, sponsor):
    cohort = CohortFactory()
    response = admin_client.post(f"/sponsors/cohort/{cohort.pk}/set/", {"sponsor": sponsor.pk})
    assert response.status_code == 302
    cohort.refresh_from_db()
    assert cohort.sponsor == sponsor
    assert cohort.sponsor_email == "sipho@ubuntu.example"


def test_invite_sends_a_link_and_signing_tells_the_admin(admin, admin_client, cohort):
    assert cohort_sponsor_status(cohort).state == "not_invited"
    response = admin_client.post(f"/sponsors/cohort/{cohort.pk}/invite/")
    assert response.status_code == 302
    status = cohort_sponsor_status(cohort)
    assert status.state == "invited"
    assert status.at is not None
    token = last_link_to("sipho@ubuntu.example")
    submitter_sign(
        link=link_for_token(token),
        signed_name="Sipho Dlamini",
        consent=True,
        signature_text="Sipho Dlamini",
    )
    status = cohort_sponsor_status(cohort)
    assert status.state == "signed"
    message = OutboundEmail.objects.get(recipient=admin.email, template="sponsor_outcome")
    assert message.context["outcome"] == "signed"
    assert AuditEvent.objects.filter(
        action="sponsor.agreement_signed", entity_id=str(cohort.pk)
    ).exists()


def test_resend_revokes_the_old_link(admin, cohort):
    first = sponsor_invite(cohort=cohort, actor=admin)
    old = last_link_to("sipho@ubuntu.example")
    again = sponsor_invite(cohort=cohort, actor=admin)
    assert again.pk == first.pk
    new = last_link_to("sipho@ubuntu.example")
    assert new != old
    with pytest.raises(PermissionDenied):
        submitter_sign(link=link_for_token(old), signed_name="S", consent=True, signature_text="S")


def test_declining_tells_the_admin_why(admin, cohort):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    submitter_decline(
        link=link_for_token(last_link_to("sipho@ubuntu.example")), reason="Budget cut"
    )
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.DECLINED
    status = cohort_sponsor_status(cohort)
    assert status.state == "declined"
    assert status.reason == "Budget cut"
    message = OutboundEmail.objects.get(recipient=admin.email, template="sponsor_outcome")
    assert message.context["outcome"] == "declined"
    assert message.context["reason"] == "Budget cut"


def test_invite_needs_a_sponsor(admin):
    with pytest.raises(ValidationError, match="Choose the cohort's sponsor first"):
        sponsor_invite(cohort=CohortFactory(signed=True), actor=admin)


def test_invite_waits_for_the_institutions_signature(admin, sponsor, admin_client):
    """The sponsor signs the text the institution signed, so it is invited after that."""
    unsigned = cohort_sponsor_set(cohort=CohortFactory(), sponsor=sponsor, actor=admin)
    with pytest.raises(ValidationError, match="Sign the main agreement first"):
        sponsor_invite(cohort=unsigned, actor=admin)
    page = admin_client.get(f"/cohorts/{unsigned.pk}/").content.decode()
    assert "Sign the main agreement first: the sponsor then signs the same text." in page
    assert "Invite to sign" not in page


def test_a_link_opened_before_the_signature_was_required_can_still_be_revoked(
    admin, cohort, admin_client
):
    from cohorts.models import Cohort

    sponsor_invite(cohort=cohort, actor=admin)
    Cohort.objects.filter(pk=cohort.pk).update(admin_signed_at=None, main_template_version=None)
    page = admin_client.get(f"/cohorts/{cohort.pk}/").content.decode()
    assert f"/sponsors/cohort/{cohort.pk}/revoke/" in page
    assert "Send a fresh link" not in page


def test_a_new_main_agreement_asks_the_sponsor_to_sign_it(admin, sponsor, cohort):
    from cohorts.services import cohort_record_admin_signature, cohort_update
    from signing.services.templates import template_create

    first = sponsor_invite(cohort=cohort, actor=admin)
    other = template_create(
        title="Tripartite agreement",
        body="<p>Terms.</p>",
        signer_roles=["institution_admin", "sponsor"],
        actor=admin,
    )

    cohort = cohort_update(cohort=cohort, actor=admin, changes={"main_template": other})

    assert cohort_sponsor_status(cohort).state == "not_invited"  # before anyone signs again
    first.refresh_from_db()
    assert first.status == SubmissionStatus.REVOKED  # its link stops: the text changed
    cohort = cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada")
    assert cohort_sponsor_status(cohort).state == "not_invited"
    second = sponsor_invite(cohort=cohort, actor=admin)
    assert second.template_version == cohort.main_template_version
    assert cohort_sponsor_status(cohort).state == "invited"


def test_a_signature_on_an_earlier_text_no_longer_counts(admin, sponsor, cohort):
    from cohorts.models import Cohort
    from signing.services.templates import template_update

    sponsor_invite(cohort=cohort, actor=admin)
    submitter_sign(
        link=link_for_token(last_link_to("sipho@ubuntu.example")),
        signed_name="Sipho Dlamini",
        consent=True,
        signature_text="Sipho",
    )
    assert cohort_sponsor_status(cohort).state == "signed"
    template = template_update(
        template=cohort.main_template,
        title=cohort.main_template.title,
        body="<p>New terms.</p>",
        signer_roles=cohort.main_template.signer_roles,
        actor=admin,
    )
    Cohort.objects.filter(pk=cohort.pk).update(
        main_template_version=template.versions.get(number=template.version)
    )  # as if the admin had signed the new text
    cohort.refresh_from_db()
    assert cohort_sponsor_status(cohort).state == "not_invited"


def test_cohort_summary_counts(cohort):
    summary = cohort_summary(cohort)
    assert summary["enrolled"] == 0
    assert summary["complete"] == 0


def test_list_queries_do_not_grow_with_sponsors(admin, admin_client):
    def add(count: int) -> None:
        for number in range(count):
            sponsor = sponsor_create(actor=admin, **(VALUES | {"company_name": f"S{number}"}))
            cohort_sponsor_set(cohort=CohortFactory(), sponsor=sponsor, actor=admin)

    add(2)
    admin_client.get("/sponsors/")
    with CaptureQueriesContext(connection) as small:
        admin_client.get("/sponsors/")
    add(15)
    with CaptureQueriesContext(connection) as large:
        admin_client.get("/sponsors/")
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_sponsor_page_shows_the_cohort_summary(admin, cohort, client_for, institution):
    sponsor_invite(cohort=cohort, actor=admin)
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = "10.77.0.1"
    page = client.get(f"/sign/{last_link_to('sipho@ubuntu.example')}/").content.decode()
    assert cohort.name in page
    assert "0 enrolled, 0 complete" in page


def test_the_cohort_sponsor_card_renders(admin, cohort):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from sponsors.selectors import sponsor_choices

    def card() -> str:
        return render_to_string(
            "sponsors/_cohort_sponsor.html",
            {
                "cohort": cohort,
                "sponsor_status": cohort_sponsor_status(cohort),
                "sponsors": sponsor_choices(),
            },
            request=RequestFactory().get("/"),
        )

    html = card()
    assert "Ubuntu Mining" in html
    assert "Invite to sign" in html
    assert f"/sponsors/cohort/{cohort.pk}/invite/" in html
    submission = sponsor_invite(cohort=cohort, actor=admin)
    assert "Send a fresh link" in card()
    SigningLink.objects.filter(submitter__submission=submission).update(expires_at=timezone.now())
    expired = card()
    assert "Link expired" in expired
    assert "has expired. Send a fresh one" in expired
    assert "Send a fresh link" in expired
    assert "Revoke the link" in expired


def test_the_contact_may_have_an_account_with_the_sponsor_contact_role(
    admin_client, admin, sponsor
):
    contact = UserFactory(roles=[SystemRole.SPONSOR_CONTACT], full_name="Sipho Dlamini")
    student = UserFactory(roles=[SystemRole.STUDENT])
    form = admin_client.get(f"/sponsors/{sponsor.pk}/edit/").context["form"]
    assert list(form.fields["user"].queryset) == [contact]

    admin_client.post(f"/sponsors/{sponsor.pk}/edit/", VALUES | {"user": contact.pk})

    sponsor.refresh_from_db()
    assert sponsor.user == contact
    detail = admin_client.get(f"/sponsors/{sponsor.pk}/").content.decode()
    assert f"Sipho Dlamini ({contact.email})" in detail
    event = AuditEvent.objects.filter(action="sponsor.updated").latest("id")
    assert event.new_values == {"user": contact.pk}
    contact.is_active = False  # the account is closed: the sponsor can still be edited
    contact.save(update_fields=["is_active"])
    kept = admin_client.post(
        f"/sponsors/{sponsor.pk}/edit/", VALUES | {"user": contact.pk, "contact_name": "S. D."}
    )
    assert kept.status_code == 302
    refused = admin_client.post(f"/sponsors/{sponsor.pk}/edit/", VALUES | {"user": student.pk})
    assert "user" in refused.context["form"].errors
    with pytest.raises(ValidationError, match="sponsor contact role"):
        sponsor_update(sponsor=sponsor, actor=admin, user=student, **VALUES)
