"""Urgent requests: broadcast to interested or unsure organisations within the radius only,
refused when it reaches nobody; members answer for their current organisation only; a closed
request refuses answers."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from notifications.models import OutboundEmail
from placements.models import (
    Appetite,
    PlacementPreference,
    UrgentAnswer,
    UrgentPlacementInvite,
    UrgentPlacementRequest,
    UrgentRequestStatus,
)
from placements.selectors.distance import Point
from placements.services.urgent import UrgentNeed, urgent_request_broadcast, urgent_request_close
from tests.placements.factories import (
    CAPE_TOWN,
    JOHANNESBURG,
    PRETORIA,
    OrganisationFactory,
    academic_year,
    preference,
    subject,
)
from tests.placements.search.support import (
    cohort_needing_police_clearance,
    learner_in,
    member_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def year(institution):
    return academic_year("2027")


@pytest.fixture
def organisations(year):
    """Near Johannesburg: interested, unsure, not interested, inactive, not answered, and one
    that answered only for another year; one interested in Cape Town."""
    made = {}
    for name, appetite in (
        ("Keen High", Appetite.INTERESTED),
        ("Maybe High", Appetite.UNSURE),
        ("No Thanks High", Appetite.NOT_INTERESTED),
    ):
        made[name] = OrganisationFactory(name=name, email_address=f"{name[:4].lower()}@s.example")
        preference(made[name], year, appetite=appetite)
    made["Maybe High"].latitude, made["Maybe High"].longitude = PRETORIA
    made["Maybe High"].save(update_fields=["latitude", "longitude"])
    made["Closed Down"] = OrganisationFactory(name="Closed Down", is_active=False)
    preference(made["Closed Down"], year)
    made["Silent High"] = OrganisationFactory(name="Silent High")
    made["Next Year High"] = OrganisationFactory(name="Next Year High")
    preference(made["Next Year High"], academic_year("2028"))
    made["Cape High"] = OrganisationFactory(
        name="Cape High", latitude=CAPE_TOWN[0], longitude=CAPE_TOWN[1]
    )
    preference(made["Cape High"], year)
    return made


def _need(year, **changes) -> UrgentNeed:
    fields = {
        "subject": subject("MATH"),
        "phase": "secondary",
        "academic_year": year,
        "starts_on": datetime.date(2027, 4, 1),
        "ends_on": datetime.date(2027, 5, 31),
        "places": 3,
        "centre": Point(*JOHANNESBURG),
        "radius_km": 100,
        "centre_label": "Johannesburg campus",
    }
    return UrgentNeed(**{**fields, **changes})


def test_a_broadcast_reaches_only_interested_or_unsure_organisations_within_the_radius(
    admin, year, organisations
):
    member = member_of(organisations["Keen High"])

    request = urgent_request_broadcast(actor=admin, need=_need(year))

    invites = list(request.invites.select_related("organisation"))
    assert [i.organisation.name for i in invites] == ["Keen High", "Maybe High"]
    assert invites[0].distance_km == pytest.approx(0, abs=0.01)
    assert invites[1].distance_km == pytest.approx(54, abs=3)
    # Members are e-mailed; an organisation without members, at its own address.
    urgent_emails = OutboundEmail.objects.filter(template="urgent_placement_request")
    assert sorted(urgent_emails.values_list("recipient", flat=True)) == sorted(
        [member.email, "mayb@s.example"]
    )
    email = OutboundEmail.objects.get(recipient=member.email)
    assert email.template == "urgent_placement_request"
    assert f"/placements/my-organisation/urgent/{invites[0].pk}/" in email.context["url"]
    event = AuditEvent.objects.get(action="urgent_request.create")
    assert event.new_values["invited"] == 2
    assert event.new_values["emails"] == 2


def test_a_broadcast_that_reaches_nobody_is_refused_and_nothing_written(admin, year, organisations):
    with pytest.raises(ValidationError, match="No active organisation within 5 km"):
        urgent_request_broadcast(
            actor=admin, need=_need(year, centre=Point(-29.0852, 26.1596), radius_km=5)
        )

    assert not UrgentPlacementRequest.objects.exists()
    assert not UrgentPlacementInvite.objects.exists()
    assert not OutboundEmail.objects.filter(template="urgent_placement_request").exists()


def test_the_page_creates_a_request_around_a_learner(admin, admin_client, year, organisations):
    learner = learner_in(admin, cohort_needing_police_clearance(), "Thabo Mokoena", PRETORIA)

    response = admin_client.post(
        "/placements/urgent/new/",
        {
            "subject": subject("MATH").pk,
            "phase": "secondary",
            "academic_year": year.pk,
            "starts_on": "2027-04-01",
            "ends_on": "2027-05-31",
            "places": "2",
            "learner": learner.pk,
            "radius_km": "10",
        },
    )

    request = UrgentPlacementRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/placements/urgent/{request.pk}/"
    assert request.centre_label == "Thabo Mokoena's home"
    assert [i.organisation.name for i in request.invites.all()] == ["Maybe High"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"radius_km": "3", "latitude": "-29.08", "longitude": "26.15"}, "Nothing was sent"),
        ({"ends_on": "2027-03-01"}, "cannot end before it starts"),
        ({"starts_on": "2026-12-01"}, "within the academic year 2027"),
        ({"phase": "primary"}, "Mathematics is a secondary subject"),
        ({"places": "0"}, "greater than or equal to 1"),
        ({"latitude": "", "longitude": ""}, "Choose a learner, or enter both"),
    ],
)
def test_the_page_refuses_a_bad_request_and_writes_nothing(
    admin_client, year, organisations, changes, message
):
    form = {
        "subject": subject("MATH").pk,
        "phase": "secondary",
        "academic_year": year.pk,
        "starts_on": "2027-04-01",
        "ends_on": "2027-05-31",
        "places": "2",
        "latitude": str(JOHANNESBURG[0]),
        "longitude": str(JOHANNESBURG[1]),
        **changes,
    }

    response = admin_client.post("/placements/urgent/new/", form)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not UrgentPlacementRequest.objects.exists()


@pytest.fixture
def sent(admin, year, organisations):
    return urgent_request_broadcast(actor=admin, need=_need(year))


def test_a_member_answers_for_their_current_organisation(client_of, sent, organisations):
    member = member_of(organisations["Keen High"])
    invite = sent.invites.get(organisation=organisations["Keen High"])
    client = client_of(member)

    listing = client.get("/placements/my-organisation/urgent/")
    response = client.post(
        f"/placements/my-organisation/urgent/{invite.pk}/",
        {"answer": UrgentAnswer.CAN_HOST, "places_offered": "2", "note": "Ms Dube will mentor."},
    )

    assert "3 × Mathematics" in listing.content.decode()
    assert response.status_code == 302
    invite.refresh_from_db()
    assert (invite.answer, invite.places_offered, invite.note) == (
        "can_host",
        2,
        "Ms Dube will mentor.",
    )
    assert invite.answered_by == member
    assert AuditEvent.objects.filter(action="urgent_invite.answer").count() == 1


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"answer": "can_host", "places_offered": "4"}, "3 places are asked for"),
        ({"answer": "can_host"}, "Say how many places you can offer"),
        ({"answer": "maybe"}, "Select a valid choice"),
    ],
)
def test_a_bad_answer_is_refused(client_of, sent, organisations, answer, message):
    member = member_of(organisations["Keen High"])
    invite = sent.invites.get(organisation=organisations["Keen High"])

    response = client_of(member).post(f"/placements/my-organisation/urgent/{invite.pk}/", answer)

    assert response.status_code == 400
    assert message in response.content.decode()
    invite.refresh_from_db()
    assert invite.answer == ""


def test_a_cannot_host_answer_offers_no_places(client_of, sent, organisations):
    member = member_of(organisations["Maybe High"])
    invite = sent.invites.get(organisation=organisations["Maybe High"])

    client_of(member).post(
        f"/placements/my-organisation/urgent/{invite.pk}/",
        {"answer": "cannot_host", "places_offered": "2", "note": "Exams that month."},
    )

    invite.refresh_from_db()
    assert (invite.answer, invite.places_offered) == ("cannot_host", None)


def test_another_organisations_invite_is_404(client_of, sent, organisations):
    keen = sent.invites.get(organisation=organisations["Keen High"])
    maybe = sent.invites.get(organisation=organisations["Maybe High"])
    # A member of both, acting for Maybe High: Keen High's invite is not theirs to answer now.
    member = member_of(
        organisations["Keen High"], organisations["Maybe High"], current=organisations["Maybe High"]
    )
    outsider = member_of(organisations["Cape High"])

    for user, invite in ((member, keen), (outsider, keen), (outsider, maybe)):
        client = client_of(user)
        assert client.get(f"/placements/my-organisation/urgent/{invite.pk}/").status_code == 404
        answer = {"answer": "can_host", "places_offered": "1"}
        posted = client.post(f"/placements/my-organisation/urgent/{invite.pk}/", answer)
        assert posted.status_code == 404
    assert (
        client_of(member).get(f"/placements/my-organisation/urgent/{maybe.pk}/").status_code == 200
    )
    assert not sent.invites.exclude(answer="").exists()


def test_a_closed_request_refuses_answers(client_of, admin_client, sent, organisations):
    member = member_of(organisations["Keen High"])
    invite = sent.invites.get(organisation=organisations["Keen High"])

    closed = admin_client.post(f"/placements/urgent/{sent.pk}/close/")
    page = client_of(member).get(f"/placements/my-organisation/urgent/{invite.pk}/")
    posted = client_of(member).post(
        f"/placements/my-organisation/urgent/{invite.pk}/",
        {"answer": "can_host", "places_offered": "1"},
        follow=True,
    )

    assert closed.status_code == 302
    sent.refresh_from_db()
    assert sent.status == UrgentRequestStatus.CLOSED
    assert "This request is closed" in page.content.decode()
    assert "can no longer be answered" in posted.content.decode()
    invite.refresh_from_db()
    assert invite.answer == ""
    with pytest.raises(ValidationError, match="already closed"):
        urgent_request_close(actor=None, request=sent)


def test_the_detail_page_shows_every_invite_and_its_answer(
    admin_client, client_of, sent, organisations
):
    member = member_of(organisations["Keen High"])
    invite = sent.invites.get(organisation=organisations["Keen High"])
    client_of(member).post(
        f"/placements/my-organisation/urgent/{invite.pk}/",
        {"answer": "can_host", "places_offered": "2", "note": "Ms Dube will mentor."},
    )

    response = admin_client.get(f"/placements/urgent/{sent.pk}/")
    listing = admin_client.get("/placements/urgent/")

    text = response.content.decode()
    assert "Keen High" in text
    assert "Maybe High" in text
    assert "Ms Dube will mentor." in text
    assert response.context["urgent"].places_offered_total == 2
    assert response.context["waiting"] == 1
    assert "1 (2 places)" in listing.content.decode()


def test_admin_pages_need_the_permission(client_of, sent, organisations):
    member = member_of(organisations["Keen High"])
    client = client_of(member)

    for url in ("/placements/urgent/", "/placements/urgent/new/", f"/placements/urgent/{sent.pk}/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/placements/urgent/{sent.pk}/close/").status_code == 404


def test_the_detail_page_reads_as_much_for_ten_invites_as_for_two(admin, admin_client, year):
    def reads(request) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(f"/placements/urgent/{request.pk}/")
        assert response.status_code == 200
        return sum(not q["sql"].startswith("SET search_path") for q in captured.captured_queries)

    for _ in range(2):
        preference(OrganisationFactory(), year)
    few = reads(urgent_request_broadcast(actor=admin, need=_need(year)))
    for _ in range(8):
        preference(OrganisationFactory(), year)
    many = urgent_request_broadcast(actor=admin, need=_need(year))

    assert many.invites.count() == 10
    assert reads(many) == few


def test_each_can_host_answer_links_to_proposing_a_placement_there(
    admin_client, client_of, sent, organisations, year
):
    keen = sent.invites.get(organisation=organisations["Keen High"])
    client_of(member_of(organisations["Keen High"])).post(
        f"/placements/my-organisation/urgent/{keen.pk}/",
        {"answer": "can_host", "places_offered": "2"},
    )
    maybe = sent.invites.get(organisation=organisations["Maybe High"])
    client_of(member_of(organisations["Maybe High"])).post(
        f"/placements/my-organisation/urgent/{maybe.pk}/", {"answer": "cannot_host"}
    )

    response = admin_client.get(f"/placements/urgent/{sent.pk}/")

    links = {i.organisation.name: i.propose_url for i in response.context["invites"]}
    create_url = reverse("placements:placement_create")
    assert links == {
        "Keen High": f"{create_url}?organisation={organisations['Keen High'].pk}"
        f"&subject={subject('MATH').pk}&academic_year={year.pk}&urgent_request={sent.pk}",
        "Maybe High": None,
    }
    assert links["Keen High"].replace("&", "&amp;") in response.content.decode()


def test_organisations_offering_the_subject_come_first_and_are_marked(
    admin_client, sent, organisations, year
):
    # Maybe High (further) offers maths places; Keen High (nearer) offers none.
    PlacementPreference.objects.filter(
        organisation=organisations["Maybe High"], academic_year=year
    ).update(placement_details={"places": [{"subject": "MATH", "phase": "secondary", "places": 2}]})

    response = admin_client.get(f"/placements/urgent/{sent.pk}/")

    invites = response.context["invites"]
    assert [(i.organisation.name, i.offers_subject) for i in invites] == [
        ("Maybe High", True),
        ("Keen High", False),
    ]
    assert response.content.decode().count("Offers Mathematics") == 1
