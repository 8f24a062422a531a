"""What the browser tests share besides fixtures: the password, screen sizes, signing in and
waiting for e-mail."""

import time

from django.core import mail
from playwright.sync_api import Page

PASSWORD = "browser-test-Passw0rd!"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def sign_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    """Submit the sign-in form at `url` and wait for the page that answers."""
    page.goto(url)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def wait_for_mail(to: str, timeout: float = 20.0) -> mail.EmailMessage:
    """The first message to `to` that the worker has sent through the locmem backend."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(mail.outbox):
            if to in message.to:
                return message
        time.sleep(0.1)
    raise AssertionError(f"No e-mail to {to} within {timeout} s; sent: {mail.outbox!r}")
