"""The stipend pages: finance reads and changes them, admins read them without buttons, anyone
else (and any id of another institution) gets the 404; the run page shows each line's
deductions and the learners without bank details, reads a fixed number of queries whatever its
length, and the bank file downloads only once the run is approved."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from academics.currencies import money_text
from accounts.models import Role, SystemRole
from accounts.roles import permissions_for
from audit.models import AuditEvent
from delivery.models import AttendanceStatus
from finance.models import StipendRate, StipendRun, StipendRunStatus
from finance.services.stipends import stipend_run_approve, stipend_run_prepare
from learners.models import Learner
from partners.models import BankAccount, BankAccountChange
from partners.services.bank import bank_change_confirm
from tests.factories import UserFactory
from tests.finance.stipend_support import (
    MARCH,
    attended,
    bank_confirmed,
    deduction_set,
    programme_rate,
)
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    world = finance_world(admin, learners=2)
    programme_rate(world)
    return world


def _run(world) -> StipendRun:
    return stipend_run_prepare(actor=world.finance, month=MARCH)


def test_the_run_page_shows_lines_deductions_and_who_has_no_bank_details(world, client_of):
    deduction_set()
    attended(world, world.learner, datetime.date(2027, 3, 2), AttendanceStatus.ABSENT)
    bank_confirmed(world, world.learner)
    run = _run(world)
    page = client_of(world.second_finance).get(run.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stipends for March 2027" in html
    assert "Absent without an excuse on Tue 2 Mar 2027: WP101" in html
    assert "No bank details" in html
    assert "will not be in the bank file" in html
    assert "Approve…" in html
    assert "Recalculate" in html
    assert money_text(Decimal("4850.00")) in html  # the run's total


def test_admins_read_the_pages_without_buttons(world, client_of):
    run = _run(world)
    admin = client_of(world.admin)
    for url in (
        reverse("finance:stipend_rates"),
        reverse("finance:stipend_runs"),
        run.get_absolute_url(),
        reverse("finance:learner_bank", args=[world.learner.learner.pk]),
    ):
        page = admin.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        for button in ("Approve…", "Add a rate", "Prepare a month's run", "Ask for these"):
            assert button not in html, (url, button)
    for url in (
        reverse("finance:stipend_rate_add"),
        reverse("finance:stipend_run_create"),
        reverse("finance:stipend_run_approve", args=[run.pk]),
        reverse("finance:stipend_run_cancel", args=[run.pk]),
        reverse("finance:stipend_run_mark_paid", args=[run.pk]),
    ):
        assert admin.get(url).status_code == 404, url
    assert admin.post(reverse("finance:stipend_run_bank_file", args=[run.pk])).status_code == 404
    assert (
        admin.post(
            reverse("finance:learner_bank", args=[world.learner.learner.pk]),
            {"holder": "X", "bank_name": "Y", "branch_code": "470010", "account_number": "123456"},
        ).status_code
        == 404
    )
    assert not BankAccountChange.objects.exists()


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.TRAINER, SystemRole.AGENT])
def test_other_roles_get_404(world, client_of, role):
    run = _run(world)
    client = client_of(UserFactory(roles=[role]))
    for url in (
        reverse("finance:stipend_rates"),
        reverse("finance:stipend_runs"),
        run.get_absolute_url(),
        reverse("finance:learner_bank", args=[world.learner.learner.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_another_institutions_run_and_learner_are_not_found(
    world, client_of, institution, other_institution
):
    connection.set_tenant(institution)
    foreign_learner = (Learner.objects.order_by("-pk").first().pk or 0) + 1000
    connection.set_tenant(other_institution)
    try:
        elsewhere = finance_world(UserFactory(roles=[SystemRole.ADMIN]), learners=1)
        programme_rate(elsewhere)
        foreign_run = stipend_run_prepare(actor=elsewhere.finance, month=MARCH)
        Learner.objects.create(pk=foreign_learner, first_name="Elsewhere")
    finally:
        connection.set_tenant(institution)
    # Both ids are real there and absent here.
    assert not StipendRun.objects.filter(pk=foreign_run.pk).exists()
    assert not Learner.objects.filter(pk=foreign_learner).exists()
    client = client_of(world.finance)
    assert client.get(reverse("finance:stipend_run", args=[foreign_run.pk])).status_code == 404
    assert client.get(reverse("finance:learner_bank", args=[foreign_learner])).status_code == 404
    assert (
        client.post(reverse("finance:stipend_run_approve", args=[foreign_run.pk])).status_code
        == 404
    )


def test_finance_adds_a_rate_and_bad_input_is_shown(world, client_of):
    client = client_of(world.finance)
    url = reverse("finance:stipend_rate_add")
    assert client.get(url).status_code == 200
    bad = client.post(
        url, {"subject": "programme", "monthly_amount": "-5", "paid_through": "institution"}
    )
    assert bad.status_code == 400
    assert "Choose the programme." in bad.content.decode()
    done = client.post(
        url,
        {
            "subject": "learner",
            "learner": world.learner.learner.pk,
            "monthly_amount": "3000.00",
            "paid_through": "sponsor",
            "starts_on": "2027-04",
        },
    )
    assert done.status_code == 302
    rate = StipendRate.objects.get(learner=world.learner.learner)
    assert (rate.monthly_amount, rate.starts_on) == (Decimal("3000.00"), datetime.date(2027, 4, 1))
    listed = client.get(reverse("finance:stipend_rates")).content.decode()
    assert money_text(Decimal("3000.00")) in listed
    assert "April 2027" in listed


def test_the_rates_and_runs_lists_say_what_to_do_when_empty(admin, client_of):
    world = finance_world(admin, learners=0)
    client = client_of(world.finance)
    assert "No stipend rates yet" in client.get(reverse("finance:stipend_rates")).content.decode()
    assert "No stipend runs yet" in client.get(reverse("finance:stipend_runs")).content.decode()


def test_preparing_from_the_page_and_the_second_run_of_a_month_refused(world, client_of):
    client = client_of(world.finance)
    response = client.post(reverse("finance:stipend_run_create"), {"month": "2027-03"})
    run = StipendRun.objects.get()
    assert response.status_code == 302
    assert response.url == run.get_absolute_url()
    again = client.post(reverse("finance:stipend_run_create"), {"month": "2027-03"})
    assert again.status_code == 400
    assert "already a stipend run for March 2027" in again.content.decode()


def test_the_preparer_is_refused_approval_with_a_clear_message(world, client_of):
    run = _run(world)
    client = client_of(world.finance)
    confirm = client.get(reverse("finance:stipend_run_approve", args=[run.pk]))
    assert "You prepared this run" in confirm.content.decode()
    response = client.post(reverse("finance:stipend_run_approve", args=[run.pk]), follow=True)
    assert "another finance user must approve it" in response.content.decode()
    assert StipendRun.objects.get(pk=run.pk).status == StipendRunStatus.DRAFT
    assert AuditEvent.objects.filter(action="stipend_run.approve.refused").exists()
    client_of(world.second_finance).post(reverse("finance:stipend_run_approve", args=[run.pk]))
    assert StipendRun.objects.get(pk=run.pk).status == StipendRunStatus.APPROVED


def test_the_bank_file_downloads_once_approved_and_mark_paid_records_payments(world, client_of):
    bank_confirmed(world, world.learner, "62000012345")
    run = _run(world)
    client = client_of(world.finance)
    file_url = reverse("finance:stipend_run_bank_file", args=[run.pk])
    refused = client.post(file_url, follow=True)
    assert "once a second finance user has approved" in refused.content.decode()
    stipend_run_approve(actor=world.second_finance, run=run)
    assert client.get(file_url).status_code == 405
    download = client.post(file_url)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert 'filename="stipends-2027-03-bank-file.csv"' in download["Content-Disposition"]
    assert "62000012345" in download.content.decode()
    mark = reverse("finance:stipend_run_mark_paid", args=[run.pk])
    asked = client.get(mark).content.decode()
    assert "1 learner the institution pays has no confirmed bank details" in asked
    assert f"{run.get_absolute_url()}?show=unbanked" in asked
    assert "Leave out the 1 learner without bank details; they are not paid this month" in asked
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    assert "cannot be in the future" in client.post(mark, {"paid_on": future}).content.decode()
    today = timezone.localdate().isoformat()
    unticked = client.post(mark, {"paid_on": today})
    assert unticked.status_code == 400
    assert "confirm that you leave them out" in unticked.content.decode()
    assert StipendRun.objects.get(pk=run.pk).status == StipendRunStatus.APPROVED
    done = client.post(mark, {"paid_on": today, "leave_out_unbanked": "on"}, follow=True)
    assert "1 learner without bank details is not paid this month" in done.content.decode()
    assert StipendRun.objects.get(pk=run.pk).status == StipendRunStatus.PAID
    page = client.get(run.get_absolute_url()).content.decode()
    assert "paid " in page
    left_out = AuditEvent.objects.get(action="stipend_run.paid").new_values["left_out_learners"]
    assert left_out == [world.placed[1].learner.pk]


def test_the_unbanked_filter_lists_the_lines_the_bank_file_leaves_out(world, client_of):
    bank_confirmed(world, world.learner)
    run = _run(world)
    page = client_of(world.finance).get(f"{run.get_absolute_url()}?show=unbanked")
    html = page.content.decode()
    assert f'data-learner="{world.placed[1].learner.pk}"' in html
    assert f'data-learner="{world.learner.learner.pk}"' not in html


def test_absences_above_the_stipend_are_said_on_the_line(world, client_of):
    StipendRate.objects.create(
        learner=world.learner.learner, monthly_amount=Decimal("200.00"), starts_on=MARCH
    )
    deduction_set()
    for day in (2, 3):
        attended(world, world.learner, datetime.date(2027, 3, day), AttendanceStatus.ABSENT)
    run = _run(world)
    html = client_of(world.finance).get(run.get_absolute_url()).content.decode()
    assert f"−{money_text(Decimal('200.00'))}" in html
    assert f"−{money_text(Decimal('300.00'))}" not in html
    assert (
        f"The absences came to {money_text(Decimal('300.00'))}, more than the stipend: only "
        f"{money_text(Decimal('200.00'))} is deducted"
    ) in html


def test_a_run_whose_bank_file_was_downloaded_offers_no_cancelling(world, client_of):
    bank_confirmed(world, world.learner)
    run = _run(world)
    stipend_run_approve(actor=world.second_finance, run=run)
    client = client_of(world.finance)
    url = reverse("finance:stipend_run_cancel", args=[run.pk])
    assert "Cancel the run…" in client.get(run.get_absolute_url()).content.decode()
    client.post(reverse("finance:stipend_run_bank_file", args=[run.pk]))
    assert "Cancel the run…" not in client.get(run.get_absolute_url()).content.decode()
    shown = client.get(url).content.decode()
    assert "it cannot be cancelled" in shown
    assert 'name="reason"' not in shown
    refused = client.post(url, {"reason": "Wrong amounts."})
    assert refused.status_code == 400
    assert "it cannot be cancelled" in refused.content.decode()
    assert StipendRun.objects.get(pk=run.pk).status == StipendRunStatus.APPROVED
    assert AuditEvent.objects.filter(action="stipend_run.cancel.refused").exists()


def test_cancelling_needs_a_reason(world, client_of):
    run = _run(world)
    client = client_of(world.finance)
    url = reverse("finance:stipend_run_cancel", args=[run.pk])
    assert "Cancel the stipends for March 2027?" in client.get(url).content.decode()
    assert "Say why the run is cancelled." in client.post(url, {"reason": ""}).content.decode()
    client.post(url, {"reason": "Attendance for March was corrected."})
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Cancelled: Attendance for March was corrected." in page


def test_finance_asks_for_a_learners_bank_details_and_sees_them_masked(world, client_of):
    learner = world.learner.learner
    url = reverse("finance:learner_bank", args=[learner.pk])
    client = client_of(world.finance)
    assert "No bank details" in client.get(url).content.decode()
    bad = client.post(
        url,
        {
            "holder": "Lerato",
            "bank_name": "Capitec Bank",
            "branch_code": "47",
            "account_number": "62000012345",
            "account_type": "savings",
        },
    )
    assert bad.status_code == 400
    assert "six-digit branch" in bad.content.decode()
    assert "62000012345" not in bad.content.decode()
    assert 'autocomplete="off"' in bad.content.decode()
    assert 'inputmode="numeric"' in bad.content.decode()
    assert set(bad.wsgi_request.sensitive_post_parameters) == {
        "account_number",
        "branch_code",
        "holder",
    }
    client.post(
        url,
        {
            "holder": "Lerato",
            "bank_name": "Capitec Bank",
            "branch_code": "470010",
            "account_number": "62000012345",
            "account_type": "savings",
        },
    )
    waiting = client.get(url).content.decode()
    assert "Waiting for a second finance user" in waiting
    assert "••••2345" in waiting
    assert "62000012345" not in waiting
    bank_change_confirm(
        actor=world.second_finance,
        change=BankAccountChange.objects.get(),
        account_number="62000012345",
        branch_code="470010",
    )
    shown = client.get(url).content.decode()
    assert "Capitec Bank" in shown
    assert "••••2345" in shown
    assert "62000012345" not in shown
    assert BankAccount.objects.filter(learner=learner).exists()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def test_the_run_page_reads_the_same_queries_for_3_and_28_lines(admin, client_of):
    world = finance_world(admin, learners=3)
    programme_rate(world, Decimal("100.00"))
    deduction_set()
    bank_confirmed(world, world.learner)
    client = client_of(world.finance)
    counts = []
    for added, month in ((0, MARCH), (25, datetime.date(2027, 4, 1))):
        world.learners_add(added)
        for placed in world.placed:
            attended(world, placed, month + datetime.timedelta(days=1), AttendanceStatus.ABSENT)
        run = stipend_run_prepare(actor=world.finance, month=month)
        assert run.lines.count() == len(world.placed)
        _queries(client, run.get_absolute_url())
        counts.append(_queries(client, run.get_absolute_url()))
        counts.append(_queries(client, reverse("finance:stipend_runs")))
        counts.append(_queries(client, reverse("finance:stipend_rates")))
    assert counts[:3] == counts[3:]


def test_bank_details_are_asked_for_only_by_who_also_manages_partners_bank_details(
    world, client_of
):
    role = Role.objects.create(name="Finance clerk")
    role.permissions.set(permissions_for(["finance.manage_finance", "finance.view_finance"]))
    clerk = UserFactory(roles=[role])
    url = reverse("finance:learner_bank", args=[world.learner.learner.pk])
    client = client_of(clerk)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="account_number"' not in page.content.decode()
    refused = client.post(
        url,
        {
            "holder": "Lerato",
            "bank_name": "Capitec Bank",
            "branch_code": "470010",
            "account_number": "62000012345",
            "account_type": "savings",
        },
    )
    assert refused.status_code == 404
    assert not BankAccountChange.objects.exists()
    assert AuditEvent.objects.filter(
        action="permission.denied",
        entity_id="view:finance.views.stipends.learner_bank_change",
        actor=clerk,
    ).exists()
