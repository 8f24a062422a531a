def test_the_cohort_dashboard_shows_the_sponsor_card(institution, client_for):
    from accounts.models import Role
    from tests.factories import CohortFactory, UserFactory

    client = client_for(institution)
    client.force_login(UserFactory(roles=[Role.ADMIN]))
    cohort = CohortFactory()
    page = client.get(f"/cohorts/{cohort.pk}/").content.decode()
    assert 'id="sponsor"' in page
    assert "No sponsor chosen." in page


def test_only_an_existing_sponsors_form_warns_that_a_new_address_stops_open_links():
    from sponsors.forms import SponsorForm
    from sponsors.models import Sponsor

    warning = "Changing it stops any link still open at the old one"
    assert warning not in SponsorForm().fields["contact_email"].help_text
    existing = SponsorForm(instance=Sponsor(pk=1, company_name="Ubuntu Mining"))
    assert warning in existing.fields["contact_email"].help_text
