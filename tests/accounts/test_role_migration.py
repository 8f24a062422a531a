"""The migration that made roles data: every person keeps exactly the access their role names
gave them. Run on a scratch schema migrated to before the change, filled with people holding
every combination that matters, then migrated forward as `migrate` does (the data migration,
then the catalogue sync that runs after every migrate)."""

from accounts.models import User
from accounts.roles import catalogue_sync
from tests.migrating import migrate_to

BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0003_permission_catalogue")]

# What each permission meant before roles were data: the role names that services and views
# checked (accounts.permissions' role tuples and the views' role lists at the time).
ADMINS = {"super_admin", "admin"}
ACCESS_BEFORE = {
    "accounts.manage_people": ADMINS,
    "accounts.manage_roles": {"super_admin"},
    "audit.view_audit_trail": ADMINS | {"auditor"},
    "cohorts.manage_cohorts": ADMINS,
    "cohorts.access_all_cohorts": ADMINS,
    "enrolments.manage_enrolments": ADMINS,
    # Admins signed the learners' agreements for the institution before the code had a name.
    "enrolments.countersign_agreements": ADMINS,
    "sponsors.manage_sponsors": ADMINS,
    "signing.manage_templates": ADMINS,
    "integrations.manage_sync": ADMINS,
    "verification.review_documents": ADMINS | {"verifier"},
    "signing.manage_certificate": {"super_admin"},
    "integrations.configure_gateway": {"super_admin"},
    "tenants.manage_institution": {"super_admin"},
    # Learners came after the roles: admins manage them. Verifiers see only the learners of
    # the cohorts they review, on the review pages, their numbers masked.
    "learners.view_learners": ADMINS,
    "learners.view_national_id": ADMINS,
    "learners.manage_learners": ADMINS,
    "learners.merge_learners": ADMINS,
    # Delivery came after too: admins set it up; trainers teach, moderators moderate.
    "academics.manage_catalogue": ADMINS,
    "delivery.manage_delivery": ADMINS,
    "delivery.issue_certificates": ADMINS,
    "delivery.teach": ADMINS | {"trainer"},
    "delivery.moderate_results": ADMINS,
    "delivery.manage_fees": ADMINS,
    # Placements came after too: admins run them.
    "placements.manage_organisations": ADMINS,
    "placements.manage_placements": ADMINS,
    "placements.manage_vetting": ADMINS,
    # Workplace learning too: admins register assessors and moderators, and may assess.
    "workplace.manage_practitioners": ADMINS,
    "workplace.assess_portfolios": ADMINS,
    # Partners and finance are the Finance role's: admins read them, only the super admin acts.
    "partners.manage_partners": {"super_admin"},
    "partners.view_partners": ADMINS,
    "finance.manage_finance": {"super_admin"},
    "finance.view_finance": ADMINS,
    # Reports and data protection: admins run and save reports and answer access requests;
    # retention rules and the jobs that apply them are the super admin's.
    "reports.view_reports": ADMINS,
    "reports.manage_reports": ADMINS,
    "privacy.export_personal_data": ADMINS,
    "privacy.manage_data_protection": {"super_admin"},
    # Innovation projects: admins follow and decide them; trainers may propose and lead them.
    "projects.manage_projects": ADMINS,
    "projects.propose_projects": ADMINS | {"trainer"},
}
PEOPLE = [
    ["super_admin"],
    ["admin"],
    ["verifier"],
    ["auditor"],
    ["trainer"],
    ["student"],
    ["sponsor_contact"],
    ["verifier", "auditor"],
    ["admin", "student"],
    ["trainer", "student"],
    [],
]


def test_every_person_keeps_exactly_their_access(scratch_schema):
    old_apps = migrate_to(BEFORE)
    OldUser = old_apps.get_model("accounts", "User")
    people = [
        OldUser.objects.create(email=f"person{n}@example.org", roles=roles, password="!")
        for n, roles in enumerate(PEOPLE)
    ]

    migrate_to(AFTER)
    catalogue_sync()

    for person, names in zip(people, PEOPLE, strict=True):
        # Only the columns the schema has at AFTER: later migrations add more.
        after = User.objects.only("pk").get(pk=person.pk)
        expected = {code for code, holders in ACCESS_BEFORE.items() if holders & set(names)}
        assert after.permission_codes == expected, names
        assert after.role_keys == set(names)
