"""A live server on 127.0.0.1 with the demo data, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORD = "browser-test-password"
WEBHOOK_SECRET = "whsec_browser_tests"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Serve the app with the demo data on a free 127.0.0.1 port."""
    from werkzeug.serving import make_server

    from brokerage import create_app
    from brokerage.db import session_scope
    from brokerage.demo.services import load_demo
    from brokerage.migrate import upgrade

    database = f"sqlite:///{Path(tmp_path_factory.mktemp('live')) / 'live.sqlite'}"
    upgrade("head", url=database)
    # The per-address sign-in limit's default comes from CAREPOOL_ENV, not ENV_MODE: every browser signs in from 127.0.0.1.
    app = create_app({"ENV_MODE": "testing", "SECRET_KEY": "browser-test-secret-key-123456", "DATABASE_URL": database, "REDIS_URL": None,
                      "SIGN_IN_RATE_LIMIT": "1000 per minute", "TEMPLATES_REFUSE_NONE": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # Stripe: the demo's own local server, in a process of its own (the other tests' in-process server is emptied
    # before each of them), delivering signed events to this live server as Stripe would.
    stripe_port = _free_port()
    stripe = subprocess.Popen(
        [sys.executable, "-m", "brokerage.cli", "payments", "local-stripe", "--port", str(stripe_port),
         "--webhook", f"{url}/stripe/webhook", "--webhook-secret", WEBHOOK_SECRET],
        env={**os.environ, "CAREPOOL_ENV": "testing"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _wait_for_port(stripe_port, stripe)
    app.config.update(STRIPE_SECRET_KEY="sk_test_local", STRIPE_API_BASE=f"http://127.0.0.1:{stripe_port}", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    with app.app_context(), session_scope(app) as session:
        load_demo(session=session, password=DEMO_PASSWORD, stripe_config=app.config)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=5)
    stripe.terminate()
    stripe.wait(timeout=10)
    stripe.stderr.close()
    app.extensions["db_engine"].dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    """Wait until the local Stripe server listens, or fail with what it printed."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local Stripe server stopped: {process.stderr.read().decode()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the local Stripe server did not start within 60 s")


@pytest.fixture(scope="session")
def browser():
    """Launch Debian's headless Chromium (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    """Open a fresh browser context and page."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def click_and_wait(target, **click_options) -> None:
    """Click a link or button that loads a new page, and return only once that page has loaded.

    Every page here comes from the server, so a link or a form's button replaces the document. Read straight
    after the click, the page may still be the one being left (its text, its counts, its address), or a document
    half replaced (axe then finds no documentElement): on a loaded machine the new page can come seconds later.
    Waiting for the navigation the click starts, begun before the click, cannot miss it.
    """
    with target.page.expect_navigation():
        target.click(**click_options)


def flash(page):
    """The heading of the page's notification banner (what the last action did), for `expect`, which waits for it."""
    return page.locator(".govuk-notification-banner__heading").first


def sign_in(page, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real form, by label, as a person would; return once the page it leads to has loaded."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    click_and_wait(page.get_by_role("button", name="Sign in"))
