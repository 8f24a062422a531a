"""What the browser tests share besides fixtures: the password, screen sizes, signing in,
drawing a signature, waiting for e-mail, a checker of each page passed through
and the accessibility audit of every page a test visits."""

import functools
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Keyboard,
    Locator,
    Mouse,
    Page,
    Response,
)

PASSWORD = "browser-test-Passw0rd!"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# With SCREENSHOTS=1, the pages checked are saved here (git ignores it).
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "screenshots"


def sign_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    """Submit the sign-in form at `url` and wait for the page that answers."""
    page.goto(url)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def fill_in_details(page: Page, id_number: str) -> None:
    """On a student's details page: the ID number given, the rest as for a student of Soweto
    whose home language is isiZulu; then save."""
    page.get_by_label("South African ID number").fill(id_number)
    page.get_by_label("Population group").select_option("african")
    page.get_by_label("Disability").select_option("none")
    page.get_by_label("City or town where you live").fill("Soweto")
    page.get_by_label("Home language").select_option("isizulu")
    page.get_by_label("Highest qualification").select_option("matric")
    page.get_by_role("button", name="Save your details").click()


def open_account_menu_item(page: Page, name: str) -> None:
    """Follow one of the links of the signed-in user's menu (Settings, Sync, Audit trail ...),
    at desktop width."""
    page.get_by_test_id("account-menu").click()
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def draw_signature(page: Page) -> None:
    """On a signing page: choose "Draw it" and draw a zigzag on the canvas with the mouse."""
    page.get_by_label("Draw it").check()
    canvas = page.locator("#signature-canvas")
    canvas.scroll_into_view_if_needed()  # the mouse only reaches what is on the screen
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(
            box["x"] + 20 + step * box["width"] / 14,
            box["y"] + box["height"] * (0.3 if step % 2 else 0.7),
            steps=3,
        )
    page.mouse.up()


def wait_for_mail(to: str, timeout: float = 20.0) -> mail.EmailMessage:
    """The first message to `to` that the worker has sent through the locmem backend."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(mail.outbox):
            if to in message.to:
                return message
        time.sleep(0.1)
    raise AssertionError(f"No e-mail to {to} within {timeout} s; sent: {mail.outbox!r}")


class PageChecker:
    """Watches a page for script errors and for what the Content Security Policy refuses, and
    looks at each page it is shown at desktop and phone widths: nothing scrolls sideways and,
    with `inline_styles`, no element has a style attribute. With `structure` also: one visible
    h1 heading, a title "Page · Site", no table that scrolls sideways, and no request for a
    script, style sheet or image that fails.

    With SCREENSHOTS=1 each page is saved as SCREENSHOT_DIR/<prefix>-<number>-<name>-<width>.png.
    """

    def __init__(
        self, page: Page, prefix: str, *, inline_styles: bool = True, structure: bool = False
    ) -> None:
        self.page = page
        self.prefix = prefix
        self.inline_styles = inline_styles
        self.structure = structure
        self.problems: list[str] = []
        self.count = 0
        self.save = bool(os.environ.get("SCREENSHOTS"))
        if self.save:
            SCREENSHOT_DIR.mkdir(exist_ok=True)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        if structure:
            page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        # A refused inline style or script shows here; error pages' own statuses are expected.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"{self.page.url}: console: {message.text}")

    def _response(self, response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            self.problems.append(f"{response.url}: {response.status}")

    def look(self, name: str) -> None:
        """Check the current page at both widths (and save it, with SCREENSHOTS=1), after it
        has finished loading. After a click that navigates, first expect something of the new
        page: the click returns before the navigation starts."""
        self.page.wait_for_load_state()
        self.count += 1
        for size_name, size in [("desktop", DESKTOP), ("phone", PHONE)]:
            self.page.set_viewport_size(size)
            where = f"{name} ({size_name})"
            layout = self.page.evaluate(
                """() => ({
                    pageWidth: document.documentElement.scrollWidth,
                    viewWidth: window.innerWidth,
                    headings: [...document.querySelectorAll('h1')]
                        .filter(h => h.offsetParent !== null).length,
                    wideTables: [...document.querySelectorAll('.table-responsive')]
                        .filter(t => t.scrollWidth > t.clientWidth + 1).length,
                    // Chart.js sizes its canvas through the CSSOM, which the policy allows.
                    inlineStyles: [...document.querySelectorAll("body [style]:not(canvas)")]
                        .filter(e => e.getAttribute("style").trim())
                        .map(e => e.outerHTML.slice(0, 120)),
                })"""
            )
            if layout["pageWidth"] > layout["viewWidth"]:
                self.problems.append(
                    f"{where}: page is {layout['pageWidth']} px wide in {layout['viewWidth']}"
                )
            if self.inline_styles and layout["inlineStyles"]:
                self.problems.append(f"{where}: inline style attributes {layout['inlineStyles']}")
            if self.structure:
                if layout["headings"] != 1:
                    self.problems.append(f"{where}: {layout['headings']} visible h1 headings")
                if layout["wideTables"]:
                    self.problems.append(f"{where}: a table scrolls sideways")
                if not re.search(r"\S · \S", self.page.title()):
                    self.problems.append(f"{where}: title {self.page.title()!r}")
            self._screenshot(f"{self.count:02d}-{name}-{size_name}")
        self.page.set_viewport_size(DESKTOP)

    def snap(self, name: str) -> None:
        """A screenshot of the page as it is now, for a state that resizing would undo."""
        self._screenshot(name)

    def _screenshot(self, name: str) -> None:
        if self.save:
            # caret="initial": hiding the caret injects a <style> that our CSP refuses.
            self.page.screenshot(
                path=SCREENSHOT_DIR / f"{self.prefix}-{name}.png", full_page=True, caret="initial"
            )

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# Added after axe-core to every document of a watched context (injected by the test, not
# served: the Content Security Policy does not apply to it). Each page of the site gets an id,
# says when it has loaded and is then checked; window.__axeAudit() checks it again as it is
# now. Every result goes to window.__axeReport, which answers once the test has recorded it.
AXE_RUNNER = """if (window.top === window && /^https?:$/.test(location.protocol)) {
    const id = Math.random().toString(36).slice(2);
    const audit = async () => {
        const results = await axe.run(document, {resultTypes: ["violations"]});
        return {
            document: id,
            url: location.href,
            engine: results.testEngine.name,
            rules: results.passes.length + results.violations.length
                + results.incomplete.length + results.inapplicable.length,
            violations: results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(" ")),
                summary: v.nodes[0].failureSummary,
            })),
        };
    };
    let last = null;
    let leaving = false;  // a check cut short by leaving the page is no check, nor an error
    window.addEventListener("pagehide", () => { leaving = true; });
    window.__axeAudit = () => {
        last = (last || Promise.resolve()).then(audit).then(
            report => window.__axeReport(report),
            error => leaving || window.__axeReport(
                {document: id, url: location.href, error: String(error)}
            ),
        );
        return last;
    };
    const loaded = new Promise(resolve => window.addEventListener("load", () => {
        window.__axeLoaded(id, location.href);
        resolve(window.__axeAudit());
    }));
    // The check that is running or done; before the page has loaded, the one that starts then.
    window.__axeLatest = () => last || Promise.race([
        loaded, new Promise(resolve => setTimeout(() => resolve("not loaded"), 15000)),
    ]);
}"""
FAILING_IMPACTS = {"serious", "critical"}
# What a test does that may leave a page (follow a link, post a form, open another URL): it
# waits for the page's check to finish first.
LEAVING_ACTIONS = {
    Locator: ["click", "dblclick", "tap", "press", "check", "set_checked", "select_option"],
    Page: ["goto", "reload", "go_back", "go_forward"],
    Keyboard: ["press"],
    Mouse: ["click", "dblclick"],
}


class AccessibilityAudit:
    """axe-core on every page that the watched browser contexts show: each page is checked
    when it has loaded (an action of the test that may leave it waits for that check, so a
    page reached by a click or a form post counts as much as one opened by URL) and, at the
    end of the test, as it is then. A serious or critical violation is a problem; so is a page
    that loaded but was never checked, or a check that did not run."""

    def __init__(self) -> None:
        self.script = AXE_SCRIPT.read_text() + ";\n" + AXE_RUNNER
        self.loaded: dict[str, str] = {}  # document id: address
        self.checked: set[str] = set()
        self.problems: list[str] = []
        self.pages: list[Page] = []
        self._seen: set[tuple[str, str]] = set()

    def watch(self, context: BrowserContext) -> None:
        context.expose_binding("__axeLoaded", self._loaded)
        context.expose_binding("__axeReport", self._report)
        context.add_init_script(self.script)
        context.on("page", lambda page: self.pages.append(page))
        self.pages.extend(context.pages)

    def _loaded(self, source: dict, document: str, url: str) -> None:
        self.loaded[document] = url

    def _report(self, source: dict, report: dict) -> None:
        url = report["url"]
        if report.get("error") or report["engine"] != "axe-core" or report["rules"] < 20:
            self.problems.append(f"{url}: axe-core did not run: {report!r}")
            return
        self.checked.add(report["document"])
        for violation in report["violations"]:
            key = (url, violation["id"])
            if violation["impact"] in FAILING_IMPACTS and key not in self._seen:
                self._seen.add(key)
                targets = ", ".join(violation["targets"][:3])
                more = len(violation["targets"]) - 3
                self.problems.append(
                    f"{url}: {violation['impact']} {violation['id']} ({violation['help']}): "
                    + targets
                    + (f" and {more} more" if more > 0 else "")
                    + "\n    first: "
                    + " ".join(violation["summary"].split())[:300]
                )

    def wrap_actions(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make the actions in LEAVING_ACTIONS wait for the page's check first, for this test."""
        for cls, names in LEAVING_ACTIONS.items():
            for name in names:
                monkeypatch.setattr(cls, name, self._checked_first(getattr(cls, name)))

    def _checked_first(self, action: Callable) -> Callable:
        @functools.wraps(action)
        def act(target: Page | Locator | Keyboard | Mouse, *args, **kwargs):
            if isinstance(target, Page | Locator):
                pages = [target if isinstance(target, Page) else target.page]
            else:  # the keyboard and the mouse do not say whose they are
                pages = self.pages
            for page in pages:
                if page in self.pages:
                    self.check(page, latest=True)
            return action(target, *args, **kwargs)

        return act

    def check(self, page: Page, *, latest: bool = False) -> None:
        """Check the page's current document, if it is one of the site's pages; with `latest`,
        only wait for the check that is running or done."""
        if page.is_closed() or not page.url.startswith("http"):
            return
        run = "window.__axeLatest" if latest else "window.__axeAudit"
        script = f"() => {run} ? {run}().then(done => done !== 'not loaded') : false"
        try:
            ran = page.evaluate(script)
        except Error as error:
            if "context was destroyed" not in error.message:
                raise
            page.wait_for_load_state()  # it navigated meanwhile: check the page it went to
            ran = page.evaluate(script)
        if not ran:
            self.problems.append(f"{page.url}: axe-core is not on the page, or it never loaded")

    def assert_clean(self) -> None:
        """Check each open page as it is now; fail on any problem found during the test."""
        for page in self.pages:
            self.check(page)
        unchecked = [url for document, url in self.loaded.items() if document not in self.checked]
        problems = self.problems + [f"{url}: loaded but never checked" for url in unchecked]
        assert not problems, "Accessibility (axe-core):\n" + "\n".join(problems)
