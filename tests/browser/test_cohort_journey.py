"""A cohort from both sides, in Chromium: an admin creates a cohort, picks its required
documents, signs and activates it, imports a spreadsheet with some bad rows and confirms the good
ones; an invited student sets a password, fills in their details (one mistake corrected) and
uploads each document, draws her signature on her agreement and downloads it sealed; the admin
withdraws another student, who then no longer sees the cohort.
And a student cannot reach another student's enrolment, another institution's, or the admin
pages.

Each test has an institution of its own, committed for the live server and the Celery worker to
see. With SCREENSHOTS=1 every page passed through is saved under screenshots/ (git ignores it) at
desktop and phone widths:
`SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_cohort_journey.py -p no:xdist`.
"""

import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

import cohorts.tasks
from accounts.models import SystemRole
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from tests.browser.support import (
    PASSWORD,
    PageChecker,
    draw_signature,
    fill_in_details,
    sign_in,
    wait_for_mail,
)
from tests.factories import CohortFactory
from tests.files import PDF_BYTES, png_bytes

pytestmark = pytest.mark.browser

INVITATION_LINK = re.compile(r"http://\S+/accounts/invitation/[\w-]+/")

# South African ID numbers: valid ones, and the same with a wrong check digit.
THANDI_ID = "0003150120081"  # born 15 March 2000
THANDI_ID_TYPO = "0003150120082"
SIPHO_ID = "0109245800080"
BAD_ID = "9507065110088"


class Gate:
    """Holds a Celery task at its start until the test has seen the page that waits for it,
    so that the progress shown meanwhile is checked however fast the worker is."""

    def __init__(self, monkeypatch, name: str) -> None:
        self.opened = threading.Event()
        work = getattr(cohorts.tasks, name)

        def held(*args, **kwargs):
            self.opened.wait(timeout=30)
            return work(*args, **kwargs)

        monkeypatch.setattr(cohorts.tasks, name, held)

    def open(self) -> None:
        self.opened.set()


@pytest.fixture
def gates(monkeypatch, settings):
    """Imports checked and run by the worker, each held until the test lets it go."""
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_BYTES = 0
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_ROWS = 0
    parse = Gate(monkeypatch, "student_import_parse")
    run = Gate(monkeypatch, "student_import_run")
    yield parse, run
    parse.open()  # never leave the worker waiting
    run.open()


def students_csv(unique: str) -> tuple[bytes, dict[str, str]]:
    """Three good rows and three bad ones: an e-mail address without @, an address already on
    row 2, an ID number with a wrong check digit."""
    good = {
        "Thandi Mokoena": f"thandi-{unique}@example.org",
        "Sipho Dlamini": f"sipho-{unique}@example.org",
        "Lerato Nkosi": f"lerato-{unique}@example.org",
    }
    rows = [
        "full_name,email,id_number,gender",
        f"Thandi Mokoena,{good['Thandi Mokoena']},,",  # row 2
        f"Sipho Dlamini,{good['Sipho Dlamini']},{SIPHO_ID},Male",  # row 3
        f"Lerato Nkosi,{good['Lerato Nkosi']},,Female",  # row 4
        f"Lindiwe Zulu,lindiwe-{unique}.example.org,,",  # row 5: no @
        f"Thandi Again,{good['Thandi Mokoena'].upper()},,",  # row 6: row 2's address
        f"Kagiso Molefe,kagiso-{unique}@example.org,{BAD_ID},",  # row 7: check digit
    ]
    return ("\r\n".join(rows) + "\r\n").encode(), good


def _accept_invitation(page: Page, link: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()


def _expect_not_found(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 404, f"{url}: {response.status}"
    expect(page.get_by_role("heading", name="We couldn't find that page")).to_be_visible()


def test_admin_runs_a_cohort_and_a_student_enrols(
    page: Page,
    site,
    make_institution,
    make_person,
    celery_worker,
    media,
    gates,
    unique,
):
    parse_gate, run_gate = gates
    institution = make_institution("journey")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    url = lambda path="/": site.institution(institution.code, path)  # noqa: E731
    journey = PageChecker(page, "cohort", inline_styles=False)
    cohort_name = f"Electrical Learnership {unique}"

    # --- The admin creates a draft cohort asking for a CV and the matric certificate only.
    sign_in(page, url("/accounts/login/"), admin.email)
    page.get_by_role("navigation").get_by_role("link", name="Cohorts").click()
    expect(page.get_by_role("heading", name="Cohorts")).to_be_visible()
    journey.look("list-empty")
    page.get_by_role("link", name="New cohort").click()
    expect(page.get_by_role("heading", name="New cohort")).to_be_visible()
    page.get_by_role("textbox", name="Name", exact=False).fill(cohort_name)
    page.get_by_label("Programme type").select_option(label="Learnership")
    page.get_by_label("Start date").fill("2027-02-01")
    page.get_by_label("End date").fill("2027-11-30")
    # The identity documents are ticked for a new cohort; this one asks for others.
    required = page.get_by_role("group", name="Required documents")
    expect(required.get_by_label("South African ID or passport")).to_be_checked()
    required.get_by_label("South African ID or passport").uncheck()
    required.get_by_label("CV", exact=True).check()
    required.get_by_label("Matric certificate").check()
    journey.look("create")
    page.get_by_role("button", name="Create draft").click()

    expect(page.get_by_role("heading", name=cohort_name)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"Cohort “{cohort_name}” created as a draft")
    expect(page.get_by_text("Required documents: CV, Matric certificate")).to_be_visible()
    dashboard_url = page.url

    # --- Activating is refused until an admin has signed the main agreement.
    activate = page.get_by_role("button", name="Activate cohort")
    expect(activate).to_be_disabled()
    expect(page.locator("#activation-help")).to_have_text(
        "Cannot activate yet: the main agreement has not been signed by an admin."
    )
    journey.look("dashboard-draft")
    # A request sent anyway (a stale page, another tab) is refused by the server, with why.
    with page.expect_navigation():
        page.locator("form[action$='/activate/']").evaluate("form => form.submit()")
    expect(page.get_by_role("alert")).to_contain_text(
        "Cannot activate: the main agreement has not been signed by an admin."
    )
    expect(page.get_by_role("heading", name=cohort_name)).to_contain_text("Draft")

    # Signing goes through the signing pages: the admin types a signature and consents.
    dashboard_url = page.url
    page.get_by_role("link", name="Sign the main agreement").click()
    expect(page.get_by_role("button", name="Sign agreement")).to_be_visible()
    journey.look("sign")
    page.get_by_role("button", name="Sign agreement").click()
    expect(page.get_by_label("Your full name")).to_have_value("Ada Admin")
    page.get_by_label("Type it").check()
    page.get_by_label("Type your signature").fill("Ada Admin")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    # Back on the cohort page, told the agreement is complete.
    expect(page).to_have_url(dashboard_url)
    expect(page.get_by_role("alert")).to_contain_text("Every party has signed")
    expect(page.get_by_text("Signed by Ada Admin")).to_be_visible()
    expect(page.get_by_role("link", name="Signed agreement (PDF)")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())  # confirm.js asks first
    page.get_by_role("button", name="Activate cohort").click()
    expect(page.get_by_role("alert")).to_contain_text("The cohort is active.")
    expect(page.get_by_role("heading", name=cohort_name)).to_contain_text("Active")

    # --- Import: the worker checks the file while the page shows its progress.
    content, good = students_csv(unique)
    page.get_by_role("link", name="Import students").click()
    expect(page.get_by_role("heading", name="Import students")).to_be_visible()
    expect(page.get_by_role("link", name="CSV", exact=True)).to_be_visible()
    journey.look("import-upload")
    page.get_by_label("Spreadsheet").set_input_files(
        files=[{"name": "students.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="Import of students.csv")).to_be_visible()
    expect(page.locator("#import-progress").get_by_role("status")).to_contain_text(
        "Checking the rows"
    )
    expect(page.locator("#import-progress").get_by_role("progressbar")).to_be_visible()
    journey.look("import-checking")
    parse_gate.open()

    # htmx polls the progress and reloads the page once the rows are checked.
    expect(page.get_by_role("heading", name="Confirm the import")).to_be_visible()
    expect(page.locator(".stat-card").filter(has_text="row")).to_contain_text("6")
    expect(page.locator(".stat-card").filter(has_text="ready to import")).to_contain_text("3")
    expect(page.locator(".stat-card").filter(has_text="with problems")).to_contain_text("3")
    problems = page.locator("table").filter(has=page.get_by_role("columnheader", name="Problems"))
    expect(problems.locator("tbody tr")).to_have_count(3)
    for line, reason in [
        ("5", f"“lindiwe-{unique}.example.org” is not a valid e-mail address."),
        ("6", "Duplicate: the same e-mail address is on row 2."),
        ("7", "The ID number's check digit is wrong"),
    ]:
        row = problems.get_by_role("row").filter(has=page.get_by_text(line, exact=True))
        expect(row).to_contain_text(reason)
    ready = page.locator("table").filter(has=page.get_by_role("columnheader", name="ID number"))
    expect(ready.locator("tbody tr")).to_have_count(3)
    for name, email in good.items():
        expect(ready.get_by_role("row").filter(has_text=name)).to_contain_text(email)
    # The ID number is masked, as everywhere: the rows keep it sealed until they are imported.
    sipho = ready.get_by_role("row").filter(has_text="Sipho")
    expect(sipho).to_contain_text(f"•••• {SIPHO_ID[-4:]}")
    expect(sipho).not_to_contain_text(SIPHO_ID)
    journey.look("import-preview")

    # Nothing is fixed: the good rows are confirmed and the worker imports them.
    page.get_by_role("button", name="Import 3 students").click()
    expect(page.locator("#import-progress").get_by_role("status")).to_contain_text("Importing")
    journey.look("import-importing")
    run_gate.open()
    expect(page.get_by_role("status").filter(has_text="3 students enrolled")).to_be_visible()
    journey.look("import-done")
    page.get_by_role("link", name="Back to the cohort").click()

    students = page.locator("#students")
    expect(students.locator("tbody tr")).to_have_count(3)
    for name in good:
        row = students.get_by_role("row").filter(has_text=name)
        expect(row.get_by_text("Waiting", exact=True)).to_be_visible()
        expect(row).to_contain_text("not signed up yet")
    expect(students).not_to_contain_text("Kagiso")
    expect(students).not_to_contain_text("Lindiwe")
    journey.look("dashboard-imported")

    links = {}
    for name, email in good.items():
        invitation = wait_for_mail(email)
        links[name] = INVITATION_LINK.search(invitation.body).group(0)
        assert links[name].startswith(url("/accounts/invitation/")), links[name]

    # --- Thandi accepts her invitation and lands on her enrolment.
    page.context.clear_cookies()
    _accept_invitation(page, links["Thandi Mokoena"])
    expect(page).to_have_url(re.compile(re.escape(url("/my/")) + r"\d+/$"))
    expect(page.get_by_role("heading", name=cohort_name)).to_be_visible()
    expect(page.get_by_text("0 of 5 steps done")).to_be_visible()
    thandi_enrolment_url = page.url
    journey.look("portal-start")

    # Her details, with a typing mistake in the ID number first.
    page.get_by_role("link", name="Fill in your details").click()
    fill_in_details(page, THANDI_ID_TYPO)
    expect(page.get_by_text("The ID number's check digit is wrong")).to_be_visible()
    expect(page.get_by_label("City or town where you live")).to_have_value("Soweto")
    journey.look("details-mistake")
    page.get_by_label("South African ID number").fill(THANDI_ID)
    page.get_by_role("button", name="Save your details").click()
    expect(page.get_by_role("alert")).to_contain_text("Your details are saved.")
    expect(page.get_by_text("15 March 2000")).to_be_visible()
    expect(page.get_by_text("1 of 5 steps done")).to_be_visible()

    # Each required document, with the file picker.
    for document, file in [
        ("CV", {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}),
        ("Matric certificate", {"name": "matric.png", "mimeType": "image/png",
                                "buffer": png_bytes((320, 200))}),
    ]:  # fmt: skip
        card = page.locator("li.portal-step").filter(
            has=page.get_by_role("heading", name=document, exact=False)
        )
        card.get_by_label("Choose a file").set_input_files(files=[file])
        card.get_by_role("button", name="Upload", exact=True).click()
        expect(card.get_by_text("Uploaded. It is now waiting for review.")).to_be_visible()
        expect(card.get_by_text("Waiting for review", exact=True)).to_be_visible()
        expect(card.get_by_role("link", name=file["name"])).to_be_visible()
    journey.look("portal-uploaded")
    page.reload()
    expect(page.get_by_text("Waiting for review", exact=True)).to_have_count(2)

    # Her agreement was made for her when she joined the active cohort; she draws her signature.
    page.locator("#agreement").get_by_role("link", name="Read and sign").click()
    page.get_by_role("button", name="Sign the agreement").click()
    expect(page.get_by_label("Your full name")).to_have_value("Thandi Mokoena")
    draw_signature(page)
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    # Back in the portal: her part is done; the agreement waits for the institution.
    expect(page).to_have_url(thandi_enrolment_url)
    expect(page.locator("#agreement")).to_contain_text(
        "Signed by you. Not yet signed by the institution"
    )
    expect(page.get_by_text("1 of 5 steps done")).to_be_visible()
    _countersign_in_a_thread_of_its_own(institution, thandi_enrolment_url)
    page.goto(thandi_enrolment_url)
    expect(page.locator("#agreement")).to_contain_text(
        "Signed by every party: you signed as “Thandi Mokoena”"
    )
    expect(page.get_by_text("2 of 5 steps done")).to_be_visible()
    journey.look("portal-signed")
    page.locator("#agreement").get_by_role("link", name="Read the agreement").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the signed agreement (PDF)").click()
    assert download.value.suggested_filename == "signed-agreement.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    page.goto(thandi_enrolment_url)

    # --- Sipho accepts his invitation too, and sees the cohort.
    page.context.clear_cookies()
    _accept_invitation(page, links["Sipho Dlamini"])
    expect(page.get_by_role("heading", name=cohort_name)).to_be_visible()
    sipho_enrolment_url = page.url

    # --- The admin withdraws Sipho; a reason is required.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(dashboard_url)
    expect(students.get_by_role("row").filter(has_text="Thandi Mokoena")).to_contain_text(
        "In progress"
    )
    students.get_by_role("row").filter(has_text="Sipho Dlamini").get_by_role(
        "link", name="Withdraw…"
    ).click()
    expect(page.get_by_role("heading", name="Withdraw Sipho Dlamini")).to_be_visible()
    page.get_by_role("button", name="Withdraw student").click()
    expect(page.locator("#div_id_reason .invalid-feedback")).to_contain_text(
        "This field is required."
    )
    journey.look("withdraw-error")
    page.get_by_label("Reason").fill("Moved to another province and cannot attend.")
    page.get_by_role("button", name="Withdraw student").click()
    expect(page.get_by_role("alert")).to_contain_text("is withdrawn from the cohort.")
    sipho_row = students.get_by_role("row").filter(has_text="Sipho Dlamini")
    expect(sipho_row.get_by_text("Withdrawn", exact=True)).to_be_visible()
    expect(sipho_row.get_by_role("link", name="Withdraw…")).to_have_count(0)
    journey.look("dashboard-withdrawn")

    # --- Sipho, signing in again, no longer sees the cohort, nor reaches his old enrolment.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), good["Sipho Dlamini"])
    expect(page).to_have_url(url("/my/"))
    expect(page.get_by_text("You are not enrolled in a cohort")).to_be_visible()
    expect(page.get_by_text(cohort_name)).to_have_count(0)
    journey.look("portal-withdrawn")
    _expect_not_found(page, sipho_enrolment_url)

    journey.assert_clean()


def _countersign_in_a_thread_of_its_own(institution, enrolment_url: str) -> None:
    """The institution's signatory countersigns the student's agreement (as the countersign
    page's task does). Sealing runs an event loop of its own, which Playwright's, running in
    the test's thread, would refuse."""
    from django.db import connections

    from signing.selectors import submissions_for_subject
    from tests.signing.conftest import others_sign

    failures: list[BaseException] = []
    pk = int(enrolment_url.rstrip("/").rsplit("/", 1)[1])

    def countersign() -> None:
        try:
            with tenant_context(institution):
                enrollment = CohortEnrollment.objects.get(pk=pk)
                others_sign(submissions_for_subject(enrollment).first())
        except BaseException as error:  # reported in the test's thread
            failures.append(error)
        finally:
            connections.close_all()

    worker = threading.Thread(target=countersign)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "countersigning did not finish"
    if failures:
        raise failures[0]


@pytest.fixture
def two_institutions(make_institution, make_person, unique) -> dict:
    """Two students in a cohort of one institution; in another institution, enrolments whose
    ids the first does not have, one of them for the first student's own address."""
    home, other = make_institution("isohome"), make_institution("isoother")
    found: dict = {"home": home, "other": other}
    with tenant_context(home):
        admin = make_person(home, SystemRole.ADMIN, name="Ada Admin")
        cohort = CohortFactory(name=f"Home Learnership {unique}")
        for key, name in [("mine", "Thandi Mokoena"), ("theirs", "Sipho Dlamini")]:
            enrollment = enrollment_invite(
                cohort=cohort, actor=admin, email=f"{key}-{unique}@example.org", full_name=name
            )
            enrollment.user.set_password(PASSWORD)
            enrollment.user.save(update_fields=["password"])
            found[key] = enrollment
        home_ids = set(CohortEnrollment.objects.values_list("pk", flat=True))
        found["cohort"] = cohort.pk
        found["cohort_name"] = cohort.name
    with tenant_context(other):
        other_admin = make_person(other, SystemRole.ADMIN, name="Olu Admin")
        other_cohort = CohortFactory(name=f"Other Internship {unique}")
        for number in range(len(home_ids)):
            enrollment_invite(
                cohort=other_cohort, actor=other_admin,
                email=f"filler{number}-{unique}@example.org", full_name="Filler Student",
            )  # fmt: skip
        elsewhere = enrollment_invite(
            cohort=other_cohort, actor=other_admin, email=found["mine"].user.email,
            full_name="Thandi Mokoena",
        )  # fmt: skip
    assert elsewhere.pk not in home_ids, "the other institution's id must not exist at home"
    found["elsewhere"] = elsewhere
    return found


def test_a_student_reaches_only_their_own_enrolment(page: Page, site, two_institutions):
    home, other = two_institutions["home"], two_institutions["other"]
    mine, theirs = two_institutions["mine"], two_institutions["theirs"]
    elsewhere = two_institutions["elsewhere"]
    url: Callable[[str], str] = lambda path: site.institution(home.code, path)  # noqa: E731
    journey = PageChecker(page, "isolation", inline_styles=False)

    sign_in(page, url("/accounts/login/"), mine.user.email)
    expect(page).to_have_url(url(f"/my/{mine.pk}/"))
    expect(page.get_by_role("navigation").get_by_role("link", name="Cohorts")).to_have_count(0)

    # Another student's enrolment, and its pages.
    for path in [f"/my/{theirs.pk}/", f"/my/{theirs.pk}/details/", f"/my/{theirs.pk}/agreement/"]:
        _expect_not_found(page, url(path))
    journey.look("not-found")

    # An enrolment of another institution, though it is this student's address there.
    _expect_not_found(page, url(f"/my/{elsewhere.pk}/"))
    # There, this session means nothing: the other institution asks to sign in.
    page.goto(site.institution(other.code, f"/my/{elsewhere.pk}/"))
    other_login = site.institution(other.code, "/accounts/login/")
    expect(page).to_have_url(re.compile(re.escape(other_login)))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    # The admin pages.
    _expect_not_found(page, url("/cohorts/"))
    _expect_not_found(page, url(f"/cohorts/{two_institutions['cohort']}/"))

    # Their own enrolment still opens.
    page.goto(url(f"/my/{mine.pk}/"))
    expect(page.get_by_role("heading", name=two_institutions["cohort_name"])).to_be_visible()
    journey.assert_clean()
