def test_the_cohort_dashboard_shows_the_sponsor_card(institution, client_for):
    from accounts.models import SystemRole
    from tests.factories import CohortFactory, UserFactory

    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.ADMIN]))
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


def test_page_two_of_the_sponsor_list_keeps_the_search(institution, client_for, monkeypatch):
    import accounts.lists
    from accounts.models import SystemRole
    from sponsors.services import sponsor_create
    from tests.factories import UserFactory

    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 2)
    admin = UserFactory(roles=[SystemRole.ADMIN])
    mines = [
        sponsor_create(
            actor=admin,
            company_name=f"Mining {n}",
            contact_name="Sipho Dlamini",
            contact_email=f"sipho{n}@mining.example",
        )
        for n in range(3)
    ]
    for n in range(3):
        sponsor_create(
            actor=admin,
            company_name=f"Solar {n}",
            contact_name="Naledi Khumalo",
            contact_email=f"naledi{n}@solar.example",
        )
    client = client_for(institution)
    client.force_login(admin)

    first = client.get("/sponsors/", {"q": "mining"})
    assert 'href="?q=mining&amp;page=2"' in first.content.decode()
    second = client.get("/sponsors/?q=mining&page=2")
    assert list(second.context["page"]) == mines[2:]
