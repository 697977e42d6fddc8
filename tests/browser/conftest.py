"""Fixtures for browser tests: a real HTTP server on a fresh SQLite copy, and headless Chromium.

The server is werkzeug's, in a thread of the test process, serving the same app factory as
production; the tests can therefore read the database directly to check what was saved.
Browser tests run on SQLite only: the database behaviour is covered on both backends elsewhere.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from carelog import create_app
from carelog.accounts.models import LoginSession, User
from carelog.audit.actor import Actor
from carelog.care import recording
from carelog.care.models import CONTENT_FIELDS, CareSession, SessionContent
from carelog.extensions import db
from carelog.local_time import home_zone, local_today
from carelog.residents.models import Resident
from tests.conftest import PASSWORDS, app_config, build_template

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PORTRAIT = {"width": 800, "height": 1280}
LANDSCAPE = {"width": 1280, "height": 800}
SHOTS = Path("/tmp/carelog-shots")


@dataclass
class LiveServer:
    """A running carelog server and the app behind it, for reading the database."""

    url: str
    app: Flask

    def count_sessions(self, resident_id: int) -> int:
        """How many sessions the database holds for a resident."""
        with self.app.app_context():
            return db.session.scalar(
                select(func.count())
                .select_from(CareSession)
                .where(CareSession.resident_id == resident_id)
            )

    def resident_id(self, display_name: str) -> int:
        """A demo resident's id from the name the board shows."""
        with self.app.app_context():
            people = db.session.scalars(select(Resident)).all()
            return next(r.id for r in people if r.display_name == display_name)

    def age_sign_ins(self, username: str, minutes: int) -> None:
        """Pretend the user's open sign-ins were last used `minutes` ago (server-side idle)."""
        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.username == username))
            past = datetime.now(home_zone()) - timedelta(minutes=minutes)
            db.session.execute(
                update(LoginSession)
                .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                .values(last_seen_at=past)
            )
            db.session.commit()

    def given_session_yesterday(self, display_name: str, username: str = "nurse") -> int:
        """Record, through the use case, a completed session yesterday afternoon."""
        resident_id = self.resident_id(display_name)
        with self.app.app_context():
            nurse = db.session.scalar(select(User).where(User.username == username))
            actor = Actor(nurse.id, nurse.username, "127.0.0.1", "browser test")
            when = datetime.combine(local_today() - timedelta(days=1), time(14, 0), home_zone())
            content = {field: None for field in CONTENT_FIELDS}
            content.update(
                occurred_at=when,
                duration_minutes=10,
                given_by_id=nurse.id,
                precautions_confirmed=True,
                hands="both",
                pressure="light",
                product="Own fragrance-free emollient",
                assent="agreed",
                outcome="completed",
            )
            for name in ("relaxation_before", "relaxation_after", "sleep_before"):
                content.update({f"{name}_value": 5, f"{name}_status": "answered"})
                content[f"{name}_rater"] = "self"
            for name in ("mood_before", "mood_after"):
                content.update({f"{name}_value": 3, f"{name}_status": "answered"})
                content[f"{name}_rater"] = "self"
            key = str(uuid.uuid4())
            saved = recording.record_session(
                actor,
                resident_id,
                key,
                SessionContent.from_columns(content),
                {"test": key},
                now=when + timedelta(minutes=20),
            )
            return saved.session_id


@pytest.fixture(scope="session")
def browser_template(tmp_path_factory) -> Path:
    """A migrated SQLite database seeded with the demo home (no sessions), built once."""
    path = tmp_path_factory.mktemp("browser-template") / "template.sqlite"
    build_template(f"sqlite:///{path}")
    return path


def _serve(template: Path, folder: Path) -> Iterator[LiveServer]:
    copy = folder / "carelog.sqlite"
    shutil.copyfile(template, copy)
    app = create_app(app_config(f"sqlite:///{copy}"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def live_server(browser_template, tmp_path) -> Iterator[LiveServer]:
    """A server on a fresh copy of the demo home, for one test."""
    yield from _serve(browser_template, tmp_path)


@pytest.fixture(scope="module")
def module_server(browser_template, tmp_path_factory) -> Iterator[LiveServer]:
    """A server on a fresh copy of the demo home, shared by a module's read-only tests."""
    yield from _serve(browser_template, tmp_path_factory.mktemp("module-server"))


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """One Playwright per test process (a second in the same thread is refused)."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright cannot download its own browsers here)."""
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


TABLET_OPTIONS = {"viewport": PORTRAIT, "has_touch": True, "locale": "en-GB",
                  "timezone_id": "Europe/London"}  # fmt: skip


def persistent_tablet(playwright_driver: Playwright, profile: Path) -> BrowserContext:
    """A tablet whose browser keeps its profile on disk: closing and launching it again is a
    browser restart (cookies, storage, the service worker and its caches as a tablet keeps them)."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **TABLET_OPTIONS
    )
    context.set_default_timeout(10_000)
    return context


def new_tablet(browser: Browser, **options) -> BrowserContext:
    """A browser context shaped like a 10-inch ward tablet held upright."""
    context = browser.new_context(**TABLET_OPTIONS, **options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def tablet(browser) -> Iterator[BrowserContext]:
    """A fresh tablet (cookies and localStorage empty)."""
    context = new_tablet(browser)
    yield context
    context.close()


@pytest.fixture
def page(tablet) -> Page:
    """A tab on the tablet whose clock the test controls (installed before any navigation)."""
    tab = tablet.new_page()
    tab.clock.install()
    return tab


def sign_in(page: Page, server: LiveServer, username: str) -> None:
    """Sign in through the form by tapping, as staff do."""
    if not page.url.startswith(server.url + "/auth/sign-in"):
        page.goto(server.url + "/auth/sign-in")
    page.tap("#username")
    page.fill("#username", username)
    page.tap("#password")
    page.fill("#password", PASSWORDS[username])
    page.get_by_role("button", name="Sign in").tap()
    try:
        page.wait_for_url(lambda url: "/auth/sign-in" not in url)
    except PlaywrightTimeoutError as stuck:  # say what the page and the cookies were, for CI
        cookies = sorted(c["name"] for c in page.context.cookies())
        said = page.locator("main").inner_text(timeout=2000)[:300]
        raise AssertionError(
            f"{username} not signed in: {page.url}, cookies {cookies}: {said}"
        ) from stuck


def sign_out(page: Page) -> None:
    """Sign out with the button in the top bar."""
    page.get_by_role("button", name="Sign out").tap()
    page.wait_for_url("**/auth/sign-in")


def screenshot(page: Page, name: str, both: bool = True) -> None:
    """Save the whole page at tablet size upright and, unless told not to, on its side."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-portrait.png", full_page=True)
    if both:
        page.set_viewport_size(LANDSCAPE)
        page.screenshot(path=SHOTS / f"{name}-landscape.png", full_page=True)
        page.set_viewport_size(PORTRAIT)
