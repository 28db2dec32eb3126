"""A live server on 127.0.0.1 with the demo data, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORD = "browser-test-password"
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
                      "SIGN_IN_RATE_LIMIT": "1000 per minute"})
    with app.app_context(), session_scope(app) as session:
        load_demo(session=session, password=DEMO_PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["db_engine"].dispose()


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


def sign_in(page, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real form, by label, as a person would."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
