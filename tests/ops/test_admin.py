"""Institutions and domains are the platform's: only the platform's admin site shows them."""

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import connection

from tenants.models import Institution
from tests.factories import UserFactory


def test_an_institutions_admin_site_registers_no_public_schema_model():
    public_only = [
        model._meta.label
        for config in apps.get_app_configs()
        if config.name not in settings.TENANT_APPS
        for model in config.get_models()
        if admin.site.is_registered(model)
    ]
    assert public_only == []


@pytest.fixture
def institution_staff(institution, client_of):
    """An institution's account with every admin right its own site can give."""
    return client_of(UserFactory(roles=[], is_staff=True, is_superuser=True))


@pytest.mark.parametrize(
    "path",
    [
        "/django-admin/tenants/institution/",
        "/django-admin/tenants/institution/{beta}/change/",
        "/django-admin/tenants/institution/{beta}/delete/",
        "/django-admin/tenants/domain/",
    ],
)
def test_an_institutions_staff_cannot_reach_institutions_or_domains(
    institution_staff, other_institution, path
):
    response = institution_staff.get(path.format(beta=other_institution.pk))
    assert response.status_code == 404


def test_an_institutions_staff_still_has_its_own_admin_site(institution_staff, other_institution):
    index = institution_staff.get("/django-admin/")
    assert index.status_code == 200
    page = index.content.decode()
    assert "/django-admin/accounts/user/" in page
    assert "tenants/institution" not in page
    assert other_institution.name not in page


@pytest.fixture
def operator_client(db, client_for):
    connection.set_schema_to_public()
    operator = UserFactory(
        email="admin-ops@cohortly.example", roles=[], is_staff=True, is_superuser=True
    )
    client = client_for(None)
    client.force_login(operator, backend="accounts.backends.RoleBackend")
    return client


def test_the_platform_operator_manages_institutions_on_the_platform_site(operator_client):
    beta = Institution.objects.get(code="beta")
    listing = operator_client.get("/django-admin/tenants/institution/").content.decode()
    assert "Alpha College" in listing
    assert "Beta Academy" in listing

    change_url = f"/django-admin/tenants/institution/{beta.pk}/change/"
    assert operator_client.get(change_url).status_code == 200
    domains = list(beta.domains.all())
    form = {
        "name": "Beta Academy",
        "registration_number": "",
        "address": "",
        "contact_email": "",
        "contact_phone": "+27 21 555 0100",
        "settings": "{}",
        "status": Institution.Status.ACTIVE,
        "brand_colour": beta.brand_colour,
        "signing_link_days": beta.signing_link_days,
        "time_zone": beta.time_zone,
        "domains-TOTAL_FORMS": len(domains),
        "domains-INITIAL_FORMS": len(domains),
        "domains-MIN_NUM_FORMS": 0,
        "domains-MAX_NUM_FORMS": 1000,
    }
    for index, domain in enumerate(domains):
        form |= {
            f"domains-{index}-id": domain.pk,
            f"domains-{index}-tenant": beta.pk,
            f"domains-{index}-domain": domain.domain,
            f"domains-{index}-is_primary": "on" if domain.is_primary else "",
        }
    response = operator_client.post(change_url, form)
    assert response.status_code == 302
    beta.refresh_from_db()
    assert beta.contact_phone == "+27 21 555 0100"
