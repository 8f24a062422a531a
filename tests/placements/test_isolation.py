"""Institutions cannot reach each other's placements: every placements page that takes an id
answers 404 for an id of the other institution (its organisation, contact, membership,
placement, vetting record and evidence file, urgent request and invite, learner, cohort,
programme, year, subject, vetting type), for an admin who may do everything at home and for an
organisation member; and a member signed in at one institution is not signed in at the other.

The records are made in the other institution (beta) and each page is first shown to beta's
own admin or member, so that a 404 at home (alpha) can only come from the schema, never from
a wrong address; none of the ids exists at home."""

import datetime
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from academics.models import AcademicYear, Programme
from accounts.models import SystemRole, User
from cohorts.models import Cohort
from enrolments.uploads import document_upload_check
from learners.models import Learner
from placements.models import (
    Organisation,
    OrganisationContact,
    OrganisationMembership,
    Placement,
    PlacementSubject,
    UrgentPlacementInvite,
    UrgentPlacementRequest,
    VettingEvidence,
    VettingRecord,
    VettingType,
)
from placements.selectors.distance import Point
from placements.services.urgent import UrgentNeed, urgent_request_broadcast
from placements.services.vetting import (
    evidence_document_type,
    vetting_evidence_add,
    vetting_record_open,
)
from tenants.models import Institution
from tests.factories import UserFactory
from tests.files import PDF_BYTES
from tests.placements.factories import JOHANNESBURG, OrganisationFactory, academic_year, subject
from tests.placements.placements.support import member_of, world
from tests.placements.vetting.conftest import evidence_upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@dataclass
class Elsewhere:
    """The other institution's records (model: pk), its admin and member, and its pages."""

    records: dict[type[Model], int]
    admin: User
    member: User
    # Pages shown on GET; actions are changes (POST; some show their form on GET). Each with
    # an id of the other institution.
    admin_pages: list[str]
    admin_actions: list[str]
    member_pages: list[str]


def _url(name: str, *args: int) -> str:
    return reverse(f"placements:{name}", args=args)


def _signed_in(client_for, institution: Institution, user: User) -> Client:
    """A client of `institution` signed in as `user`, one of its own users."""
    client: Client = client_for(institution)
    home = connection.tenant
    connection.set_tenant(institution)
    try:
        client.force_login(user, backend="accounts.backends.RoleBackend")
    finally:
        connection.set_tenant(home)
    return client


@pytest.fixture
def elsewhere(institution, other_institution) -> Elsewhere:
    """One of everything in beta; the connection is back on alpha afterwards."""
    connection.set_tenant(other_institution)
    try:
        admin = UserFactory(roles=[SystemRole.ADMIN])
        place = world(admin)
        learner = place.learner()
        placement = place.propose(learner)
        identity = VettingType.objects.get(code="identity")
        record = vetting_record_open(actor=admin, learner=learner, vetting_type=identity)
        evidence = vetting_evidence_add(
            actor=admin,
            record=record,
            checked=document_upload_check(
                upload=evidence_upload(content=PDF_BYTES),
                document_type=evidence_document_type(identity),
            ),
            scan_status="not_scanned",
        )
        year = academic_year("2027")
        urgent = urgent_request_broadcast(
            actor=admin,
            need=UrgentNeed(
                subject=subject("MATH"),
                phase="secondary",
                academic_year=year,
                starts_on=datetime.date(2027, 4, 1),
                ends_on=datetime.date(2027, 5, 31),
                places=1,
                centre=Point(*JOHANNESBURG),
                radius_km=20,
            ),
        )
        invite = urgent.invites.get(organisation=place.organisation)
        membership = OrganisationMembership.objects.get(user=place.member)
        own_subject = PlacementSubject.objects.create(
            name="Isolation studies", code="ISOLATION", phase="secondary"
        )
        own_type = VettingType.objects.create(name="Isolation check", code="isolation_check")
    finally:
        connection.set_tenant(institution)
    organisation, contact = place.organisation.pk, place.contact.pk
    return Elsewhere(
        records={
            Organisation: organisation,
            OrganisationContact: contact,
            OrganisationMembership: membership.pk,
            Placement: placement.pk,
            VettingRecord: record.pk,
            VettingEvidence: evidence.pk,
            UrgentPlacementRequest: urgent.pk,
            UrgentPlacementInvite: invite.pk,
            Learner: learner.pk,
            Cohort: place.cohort.pk,
            Programme: place.cohort.programme_id,
            AcademicYear: year.pk,
            PlacementSubject: own_subject.pk,
            VettingType: own_type.pk,
        },
        admin=admin,
        member=place.member,
        admin_pages=[
            _url("organisation_detail", organisation),
            _url("organisation_edit", organisation),
            _url("organisation_address", organisation),
            _url("organisation_coordinates", organisation),
            _url("organisation_deactivate", organisation),
            _url("organisation_contact_add", organisation),
            _url("organisation_contact_edit", organisation, contact),
            _url("organisation_contact_remove", organisation, contact),
            _url("organisation_members", organisation),
            _url("organisation_member_remove", organisation, membership.pk),
            _url("organisation_preferences", organisation),
            _url("organisation_preference_edit", organisation, year.pk),
            _url("learner_location", learner.pk),
            _url("placement_detail", placement.pk),
            _url("matching", place.cohort.pk),
            _url("urgent_detail", urgent.pk),
            _url("vetting_detail", record.pk),
            _url("vetting_evidence_file", record.pk, evidence.pk),
            _url("learner_vetting", learner.pk),
            _url("programme_vetting", place.cohort.programme_id),
            _url("subject_edit", own_subject.pk),
            _url("subject_deactivate", own_subject.pk),
            _url("vetting_type_edit", own_type.pk),
        ],
        admin_actions=[
            _url("organisation_lookup", organisation),
            _url("organisation_reactivate", organisation),
            _url("learner_location_lookup", learner.pk),
            _url("urgent_close", urgent.pk),
            _url("vetting_start", record.pk),
            _url("vetting_clear", record.pk),
            _url("vetting_fail", record.pk),
            _url("vetting_withdraw", record.pk),
            _url("vetting_evidence_upload", record.pk),
            _url("vetting_type_active", own_type.pk),
        ],
        member_pages=[
            _url("member_preference", year.pk),
            _url("member_urgent_answer", invite.pk),
        ],
    )


def test_the_other_institutions_pages_answer_there(client_for, other_institution, elsewhere):
    """The control: each address is a real page at its own institution."""
    admin = _signed_in(client_for, other_institution, elsewhere.admin)
    for url in elsewhere.admin_pages:
        assert admin.get(url).status_code == 200, url
    for url in elsewhere.admin_actions:
        if url.endswith("/reactivate/"):  # answers POST only, and is a no-op on an active one
            assert admin.post(url).status_code == 302, url
        else:  # found: its form, a redirect to the record's page, or POST only
            assert admin.get(url).status_code in (200, 302, 405), url
    member = _signed_in(client_for, other_institution, elsewhere.member)
    for url in elsewhere.member_pages:
        assert member.get(url).status_code == 200, url


def test_an_admin_cannot_reach_the_other_institutions_records(admin_client, elsewhere):
    for model, pk in elsewhere.records.items():
        assert not model._default_manager.filter(pk=pk).exists(), model  # not here by chance
    for url in elsewhere.admin_pages:
        assert admin_client.get(url).status_code == 404, url
        assert admin_client.post(url).status_code == 404, url
    for url in elsewhere.admin_actions:
        assert admin_client.post(url).status_code == 404, url


def test_a_member_cannot_reach_the_other_institutions_records(client_of, elsewhere):
    home = OrganisationFactory(name="Home High")
    client = client_of(member_of(home))
    for url in elsewhere.member_pages:
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url


def test_a_member_signed_in_at_one_institution_is_a_visitor_at_the_other(
    client_of, client_for, other_institution, elsewhere
):
    home = client_of(member_of(OrganisationFactory(name="Home High")))
    assert home.get(_url("member_home")).status_code == 200
    there = client_for(other_institution)
    cookie = django_settings.SESSION_COOKIE_NAME
    there.cookies[cookie] = home.cookies[cookie].value
    for url in [_url("member_home"), *elsewhere.member_pages]:
        response = there.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
