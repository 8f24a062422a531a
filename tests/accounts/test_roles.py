"""Roles as data: system roles and custom roles made from the permission catalogue, what each
person may do and why, and permissions combined with object grants (a cohort given to one
person)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role, SystemRole, User
from accounts.permissions import permission_check
from accounts.roles import SYSTEM_ROLES, catalogue_codes, catalogue_sync, required_codes
from accounts.services import role_create, role_delete, role_update, user_roles_set
from audit.models import AuditEvent
from cohorts.selectors import cohorts_visible_to, reviewers_to_choose
from cohorts.services import cohort_reviewer_set
from tests.factories import CohortFactory, UserFactory
from verification.selectors import reviewable_cohorts

REVIEW = "verification.review_documents"


def fresh(user: User) -> User:
    """The person as a new request would see them (permissions are read once per request)."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def clerk_role(super_admin) -> Role:
    return role_create(
        actor=super_admin,
        name="Document clerk",
        description="Checks documents in the cohorts they are given.",
        permission_codes=[REVIEW],
    )


def test_every_institution_has_the_system_roles_with_what_they_need(institution):
    roles = {role.key: role for role in Role.objects.filter(system_role=True)}
    assert set(roles) == set(SYSTEM_ROLES)
    for key, role in roles.items():
        held = {
            f"{app_label}.{codename}"
            for app_label, codename in role.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert required_codes(key) <= held, key
    assert required_codes(SystemRole.SUPER_ADMIN) == catalogue_codes()


def test_a_super_admin_creates_a_custom_role_and_a_person_given_it_may_do_what_it_allows(
    institution, super_admin, clerk_role
):
    person = UserFactory(roles=[SystemRole.STUDENT])
    assert not person.may(REVIEW)

    user_roles_set(user=person, roles=[SystemRole.STUDENT, clerk_role], actor=super_admin)

    person = fresh(person)
    assert person.permission_codes == {REVIEW}
    holding = person.role_holdings.get(role=clerk_role)
    assert holding.granted_by == super_admin
    created = AuditEvent.objects.get(action="role.created")
    assert created.new_values == {"name": "Document clerk", "permissions": [REVIEW]}
    changed = AuditEvent.objects.get(action="user.roles_changed", entity_id=str(person.pk))
    assert changed.new_values == {"roles": ["Document clerk", "Student"]}


def test_taking_a_permission_from_a_role_takes_it_from_everyone_who_holds_it(
    institution, super_admin, clerk_role
):
    person = UserFactory(roles=[clerk_role])
    role_update(
        actor=super_admin,
        role=clerk_role,
        name="Document clerk",
        description="",
        permission_codes=["audit.view_audit_trail"],
    )
    assert fresh(person).permission_codes == {"audit.view_audit_trail"}
    event = AuditEvent.objects.get(action="role.updated")
    assert event.old_values["permissions"] == [REVIEW]
    assert event.new_values["permissions"] == ["audit.view_audit_trail"]


def test_deleting_a_custom_role_takes_it_from_its_holders_and_is_audited(
    institution, super_admin, clerk_role
):
    person = UserFactory(roles=[clerk_role])
    role_delete(actor=super_admin, role=clerk_role)
    assert not Role.objects.filter(name="Document clerk").exists()
    assert fresh(person).permission_codes == frozenset()
    event = AuditEvent.objects.get(action="role.deleted")
    assert event.old_values == {"name": "Document clerk", "holders": [person.pk]}


def test_only_someone_who_manages_roles_may_create_change_or_delete_them(
    institution, admin, clerk_role
):
    with pytest.raises(PermissionDenied):
        role_create(actor=admin, name="Mine", description="", permission_codes=[])
    with pytest.raises(PermissionDenied):
        role_update(
            actor=admin, role=clerk_role, name="x", description="", permission_codes=[REVIEW]
        )
    with pytest.raises(PermissionDenied):
        role_delete(actor=admin, role=clerk_role)
    refused = AuditEvent.objects.filter(action="permission.denied", actor=admin)
    assert sorted(refused.values_list("entity_id", flat=True)) == [
        "accounts.role_create",
        "accounts.role_delete",
        "accounts.role_update",
    ]


@pytest.mark.parametrize(
    ("name", "codes", "message"),
    [
        ("", [], "Give the role a name."),
        ("admin", [], "There is already a role called admin."),
        ("Clerk", ["cohorts.no_such_thing"], "Not in the catalogue"),
        ("Clerk", ["cohorts.review_cohort"], "Not in the catalogue"),  # an object grant
    ],
)
def test_a_role_needs_a_free_name_and_permissions_from_the_catalogue(
    institution, super_admin, name, codes, message
):
    with pytest.raises(ValidationError, match=message):
        role_create(actor=super_admin, name=name, description="", permission_codes=codes)
    assert not Role.objects.filter(system_role=False).exists()


def test_system_roles_cannot_be_deleted_or_cut_below_what_the_product_needs(
    institution, super_admin
):
    verifier_role = Role.objects.get(key=SystemRole.VERIFIER)
    with pytest.raises(ValidationError, match="system role"):
        role_delete(actor=super_admin, role=verifier_role)
    with pytest.raises(ValidationError, match="always keeps"):
        role_update(
            actor=super_admin,
            role=verifier_role,
            name="Verifier",
            description="",
            permission_codes=["audit.view_audit_trail"],
        )
    # More than it needs is the institution's choice; its name stays.
    role_update(
        actor=super_admin,
        role=verifier_role,
        name="Renamed",
        description="Reviews documents and reads the trail.",
        permission_codes=[REVIEW, "audit.view_audit_trail"],
    )
    verifier_role.refresh_from_db()
    assert verifier_role.name == "Verifier"
    assert UserFactory(roles=[SystemRole.VERIFIER]).may("audit.view_audit_trail")


def test_after_a_migrate_a_system_role_gets_back_what_it_needs_and_keeps_what_was_added(
    institution, super_admin
):
    auditor_role = Role.objects.get(key=SystemRole.AUDITOR)
    extra = Permission.objects.get(
        content_type__app_label="verification", codename="review_documents"
    )
    auditor_role.permissions.set([extra])  # as if a required permission had been lost

    catalogue_sync()

    held = set(auditor_role.permissions.values_list("codename", flat=True))
    assert held == {"view_audit_trail", "review_documents"}


def test_an_admin_hands_out_only_roles_that_manage_nobody_and_allow_no_more_than_they_may(
    institution, admin, super_admin, clerk_role
):
    person = UserFactory(roles=[SystemRole.TRAINER])
    user_roles_set(user=person, roles=[clerk_role], actor=admin)  # admins may review documents
    sealer = role_create(
        actor=super_admin,
        name="Sealer",
        description="",
        permission_codes=["signing.manage_certificate"],
    )
    hirer = role_create(
        actor=super_admin,
        name="Hirer",
        description="",
        permission_codes=["accounts.manage_people"],
    )
    for role in (sealer, hirer):
        with pytest.raises(PermissionDenied):
            user_roles_set(user=person, roles=[role], actor=admin)
        user_roles_set(user=person, roles=[role], actor=super_admin)
    # Nor may an admin take away, or deactivate, someone holding such a role.
    with pytest.raises(PermissionDenied):
        user_roles_set(user=person, roles=[clerk_role], actor=admin)


def test_a_permission_says_what_and_a_grant_says_where(institution, admin, super_admin, clerk_role):
    given, other = CohortFactory(), CohortFactory()
    clerk = UserFactory(roles=[clerk_role])
    assert clerk in reviewers_to_choose()
    assert admin not in reviewers_to_choose()  # admins work in every cohort already
    cohort_reviewer_set(cohort=given, actor=admin, reviewer=clerk, allowed=True)
    clerk = fresh(clerk)

    assert list(reviewable_cohorts(clerk)) == [given]
    permission_check(actor=clerk, permission=REVIEW, obj=given, action="test.review")
    with pytest.raises(PermissionDenied):
        permission_check(actor=clerk, permission=REVIEW, obj=other, action="test.review")

    # The grant alone allows nothing: without the permission the cohort is out of reach.
    user_roles_set(user=clerk, roles=[SystemRole.TRAINER], actor=super_admin)
    clerk = fresh(clerk)
    assert list(reviewable_cohorts(clerk)) == []
    assert list(cohorts_visible_to(clerk)) == [given]
    with pytest.raises(PermissionDenied):
        permission_check(actor=clerk, permission=REVIEW, obj=given, action="test.review")

    # A role that reaches every cohort needs no grant.
    assert set(reviewable_cohorts(fresh(admin))) >= {given, other}
    permission_check(actor=admin, permission=REVIEW, obj=other, action="test.review")


def test_a_person_without_a_reviewing_permission_cannot_be_made_a_reviewer(institution, admin):
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(ValidationError, match="none of their roles may review documents"):
        cohort_reviewer_set(cohort=CohortFactory(), actor=admin, reviewer=trainer, allowed=True)


def test_a_check_naming_a_permission_nobody_declared_is_a_mistake(institution, admin):
    with pytest.raises(LookupError, match="cohorts.manage_cohort"):
        permission_check(actor=admin, permission="cohorts.manage_cohort", action="test.typo")


def test_a_deactivated_person_may_do_nothing(institution, admin):
    admin.is_active = False
    assert not admin.may("cohorts.manage_cohorts")


def test_the_access_page_says_what_a_person_may_do_and_why(
    institution, client_of, super_admin, admin, clerk_role
):
    cohort = CohortFactory(name="Plumbing 2027")
    clerk = UserFactory(roles=[clerk_role, SystemRole.AUDITOR], full_name="Cleo Clerk")
    cohort_reviewer_set(cohort=cohort, actor=admin, reviewer=clerk, allowed=True)

    page = client_of(super_admin).get(f"/accounts/people/{clerk.pk}/access/")

    body = page.content.decode()
    assert page.status_code == 200
    assert "Review students&#x27; documents" in body
    assert "From Document clerk" in body
    assert "Read the audit trail" in body
    assert "From Auditor" in body
    assert "Plumbing 2027" in body
    assert "Create and edit cohorts" not in body
    assert "Given on" in body


def test_the_access_page_of_someone_who_works_everywhere_says_so(
    institution, client_of, super_admin
):
    admin = UserFactory(roles=[SystemRole.ADMIN])
    body = client_of(super_admin).get(f"/accounts/people/{admin.pk}/access/").content.decode()
    assert "In every one of the institution" in body
    assert "(from Admin)" in body


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/accounts/people/roles/", {SystemRole.SUPER_ADMIN, SystemRole.ADMIN}),
        ("/accounts/people/roles/new/", {SystemRole.SUPER_ADMIN}),
        ("/accounts/people/{person}/access/", {SystemRole.SUPER_ADMIN, SystemRole.ADMIN}),
    ],
)
def test_the_role_pages_are_for_those_who_manage_people_or_roles(
    institution, client_of, path, allowed
):
    person = UserFactory(roles=[SystemRole.STUDENT])
    for key in SystemRole.values:
        response = client_of(UserFactory(roles=[key])).get(path.format(person=person.pk))
        assert response.status_code == (200 if key in allowed else 404), key


def test_the_role_form_creates_a_role_and_shows_errors_beside_the_fields(
    institution, super_admin_client
):
    bad = super_admin_client.post(
        "/accounts/people/roles/new/", {"name": "Admin", "permissions": [REVIEW]}
    )
    body = bad.content.decode()
    assert "There is already a role called Admin." in body
    assert f'value="{REVIEW}" id="perm-verification-review_documents" checked' in body

    done = super_admin_client.post(
        "/accounts/people/roles/new/",
        {"name": "Document clerk", "description": "Checks papers", "permissions": [REVIEW]},
    )
    role = Role.objects.get(name="Document clerk")
    assert done["Location"] == f"/accounts/people/roles/{role.pk}/"
    assert list(role.permissions.values_list("codename", flat=True)) == ["review_documents"]


def test_a_system_roles_form_keeps_what_it_needs_ticked(institution, super_admin_client):
    role = Role.objects.get(key=SystemRole.VERIFIER)
    body = super_admin_client.get(f"/accounts/people/roles/{role.pk}/edit/").content.decode()
    assert 'id="perm-verification-review_documents" checked disabled' in body
    # A disabled box is not posted: the form adds what the role needs.
    super_admin_client.post(
        f"/accounts/people/roles/{role.pk}/edit/",
        {"description": "Reviews", "permissions": ["audit.view_audit_trail"]},
    )
    assert set(role.permissions.values_list("codename", flat=True)) == {
        "review_documents",
        "view_audit_trail",
    }
