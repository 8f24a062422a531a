def test_the_cohort_dashboard_shows_the_sponsor_card(institution, client_for):
    from accounts.models import Role
    from tests.factories import CohortFactory, UserFactory

    client = client_for(institution)
    client.force_login(UserFactory(roles=[Role.ADMIN]))
    cohort = CohortFactory()
    page = client.get(f"/cohorts/{cohort.pk}/").content.decode()
    assert 'id="sponsor"' in page
    assert "No sponsor chosen." in page
