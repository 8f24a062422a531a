"""The accessibility audit that every browser test runs (AccessibilityAudit, through the `page`
fixture): it reports a serious violation on a page reached by a click, with the rule, the
element and the address, and it reports a page where axe-core did not run and one that loaded
but was never checked. The pages come from a small server on the loopback address, not from
the application."""

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.support import AccessibilityAudit

pytestmark = pytest.mark.browser

PAGES = {
    "clean.html": '<a href="broken.html">Next</a> <a href="clean2.html">Other</a>',
    "clean2.html": '<a href="clean.html">Back</a>',
    "broken.html": '<p>A button with no name:</p><button type="button"></button>',
    # Pages that stop the check: one takes axe-core away, one the way its results come back.
    "no-axe.html": "<script>window.axe = undefined</script>",
    "no-report.html": "<script>window.__axeReport = () => Promise.resolve()</script>",
}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def pages_url(tmp_path: Path) -> Iterator[str]:
    for name, body in PAGES.items():
        (tmp_path / name).write_text(
            '<!doctype html><html lang="en"><head><title>Audit</title></head>'
            f"<body><main><h1>{name}</h1>{body}</main></body></html>"
        )
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def audited(browser: Browser, monkeypatch) -> Iterator[tuple[AccessibilityAudit, object]]:
    audit = AccessibilityAudit()
    context = browser.new_context()
    audit.watch(context)
    audit.wrap_actions(monkeypatch)
    yield audit, context.new_page()
    context.close()


def test_a_violation_on_a_page_reached_by_a_click_fails_with_rule_element_and_address(
    audited, pages_url
):
    audit, page = audited
    page.goto(pages_url + "clean.html")
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_role("heading", name="broken.html")).to_be_visible()
    page.get_by_role("button").click()  # waits for the check; found before the test's end
    assert len(audit.problems) == 1
    assert audit.problems[0].startswith(
        f"{pages_url}broken.html: critical button-name (Buttons must have discernible text): "
        "button\n    first: Fix any of the following:"
    )
    assert len(audit.checked) == 2
    assert set(audit.loaded.values()) == {
        pages_url + "clean.html",
        pages_url + "broken.html",
    }
    with pytest.raises(AssertionError, match="critical button-name"):
        audit.assert_clean()


def test_clean_pages_pass_and_a_page_where_axe_cannot_run_fails(audited, pages_url):
    audit, page = audited
    page.goto(pages_url + "clean.html")
    page.get_by_role("link", name="Other").click()
    expect(page.get_by_role("heading", name="clean2.html")).to_be_visible()
    audit.assert_clean()

    page.goto(pages_url + "no-axe.html")
    with pytest.raises(AssertionError, match=r"no-axe\.html: axe-core did not run"):
        audit.assert_clean()


def test_a_page_whose_check_never_reports_fails_as_never_checked(audited, pages_url):
    audit, page = audited
    page.goto(pages_url + "no-report.html")
    with pytest.raises(AssertionError, match=r"no-report\.html: loaded but never checked"):
        audit.assert_clean()
