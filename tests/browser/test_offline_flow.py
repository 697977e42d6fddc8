"""A ward tablet through a shift without Wi-Fi, in Debian's Chromium: three nurses take turns and
make 200 entries offline, with a reload, browser restarts, an idle sign-out and a switch; every
entry arrives once, as its nurse's. Also: nothing readable after sign-out, the server stopped
rather than the Wi-Fi, and the same run without the outbox losing what was entered."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import threading
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from carelog import create_app
from carelog.accounts.models import User
from carelog.audit import chain
from carelog.care.models import CareSession, CareSessionVersion
from carelog.extensions import db
from carelog.residents.models import Resident
from tests.browser.conftest import (
    LiveServer,
    new_tablet,
    persistent_tablet,
    screenshot,
    sign_in,
    sign_out,
)
from tests.browser.offline_steps import (
    WAITING,
    decline,
    entries_on_tablet,
    go_offline,
    not_done,
    ready_to_work_offline,
    stored,
    until,
)
from tests.browser.test_tablet_flow import add_nurse, choose_pin, enrol, who
from tests.conftest import app_config

NURSES = {
    "sam": ("Sam Carter", "sam-long-password-1"),
    "kit": ("Kit Moreno", "kit-long-password-1"),
}


def _add_nurses(server) -> None:
    """Sam and Kit, two more nurses on Niamh's ward."""
    for username, (full_name, password) in NURSES.items():
        add_nurse(server, username, full_name, password)


def _ward_names(server) -> list[str]:
    with server.app.app_context():
        ward = db.session.scalar(select(User.ward_id).where(User.username == "nurse"))
        people = db.session.scalars(
            select(Resident).where(Resident.ward_id == ward, Resident.departed_on.is_(None))
        ).all()
        return sorted(p.display_name for p in people)


def _sessions(server) -> int:
    with server.app.app_context():
        return db.session.scalar(select(func.count()).select_from(CareSession))


def _first_page(context):
    page = context.pages[0] if context.pages else context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "save another?" on the tablet: yes
    return page


def _make(page, made: list, username: str, names: list[str], how_many: int) -> None:
    """Entries on the board kept offline: mostly declines, every third a not-done; each with
    its own marker in its note or reason, to find it in the database."""
    for _ in range(how_many):
        marker = f"E{len(made) + 1:03d}"
        name = names[len(made) % len(names)]
        if len(made) % 3 == 2:
            not_done(page, name, marker)
            made.append((marker, username, name, "not_done"))
        else:
            decline(page, name, marker)
            made.append((marker, username, name, "declined"))


@pytest.mark.longest
def test_three_nurses_make_200_entries_offline_and_each_arrives_once_as_theirs(
    live_server, playwright_driver, tmp_path
):
    server = live_server
    _add_nurses(server)
    names = _ward_names(server)
    niamh_residents, sam_residents, kit_residents = names[0:4], names[4:8], names[8:12]
    profile = tmp_path / "tablet-profile"
    made: list[tuple[str, str, str, str]] = []

    context = persistent_tablet(playwright_driver, profile)
    page = _first_page(context)
    enrol(page, server)
    choose_pin(page, server, "sam", "90417")  # Sam signed in on this tablet earlier
    sign_out(page)

    # Niamh: 50 entries offline, the page reloaded halfway.
    sign_in(page, server, "nurse")
    page.goto(server.url + "/ward/")
    ready_to_work_offline(page)
    go_offline(context, page)
    _make(page, made, "nurse", niamh_residents, 25)
    page.reload()
    expect(page.locator(WAITING)).to_have_text("Offline. 25 entries waiting to send")
    _make(page, made, "nurse", niamh_residents, 25)
    assert len(entries_on_tablet(page)) == 50

    # Back online, Sam switches in by PIN; Niamh's entries go while Sam is signed in.
    held: list = []
    released = []
    context.route(
        "**/offline/entries",
        lambda route: route.continue_() if released else held.append(route),
    )
    context.set_offline(False)
    page.goto(server.url + "/tablet/switch")
    page.get_by_text("Sam Carter", exact=True).tap()
    page.keyboard.type("90417")
    page.keyboard.press("Enter")
    expect(who(page)).to_contain_text("Sam Carter")
    assert held, "Niamh's entries waited for Sam's sign-in"
    released.append(True)
    for route in held:
        with contextlib.suppress(PlaywrightError):  # its page may have moved on meanwhile
            route.continue_()
    until(lambda: _sessions(server) == 50, 60, "Niamh's 50", page=page)

    # Sam: 40 entries offline, the browser closed and opened again, 35 more, then idle.
    page.goto(server.url + "/ward/")
    ready_to_work_offline(page)
    go_offline(context, page)
    _make(page, made, "sam", sam_residents, 40)
    context.close()
    context = persistent_tablet(playwright_driver, profile)
    page = _first_page(context)
    page.clock.install()
    _start_service_worker_then_go_offline(context, page, server)
    page.goto(server.url + "/ward/")
    expect(page.locator(WAITING)).to_have_text("Offline. 40 entries waiting to send")
    _make(page, made, "sam", sam_residents, 35)
    page.clock.fast_forward("16:00")  # she walks away: the idle sign-out, with no connection
    expect(page.locator("[data-roster-missing]")).to_be_visible()
    expect(page.locator(WAITING)).to_contain_text("75 entries waiting to send")
    context.close()

    # The browser again; online. Sam's sign-in has ended: her entries go from the sign-in page.
    context = persistent_tablet(playwright_driver, profile)
    page = _first_page(context)
    server.age_sign_ins("sam", minutes=20)
    page.goto(server.url + "/auth/sign-in")
    until(lambda: _sessions(server) == 125, 60, "Sam's 75", page=page)

    # Kit: 75 entries offline; then the connection returns for good.
    sign_in(page, server, "kit")
    page.goto(server.url + "/ward/")
    ready_to_work_offline(page)
    go_offline(context, page)
    _make(page, made, "kit", kit_residents, 75)
    assert len(entries_on_tablet(page)) == 75
    screenshot(page, "47-offline-board", both=False)
    back = time.monotonic()
    context.set_offline(False)
    until(lambda: _sessions(server) == 200, 60, "all 200", page=page)
    print(f"\nKit's 75 entries confirmed {time.monotonic() - back:.1f} s after reconnecting")
    page.wait_for_timeout(1000)
    assert entries_on_tablet(page) == []
    context.close()

    assert len(made) == 200
    _compare_with_database(server, made)


def _start_service_worker_then_go_offline(context, page, server) -> None:
    """Chromium applies the test's offline switch to a service worker only if it was running
    when the switch was thrown: a real tablet's Wi-Fi has no such gap. So the kept page with no
    one's data is opened first (sending held back meanwhile), then the connection is cut."""
    context.route("**/offline/entries", lambda route: route.abort("connectionrefused"))
    page.goto(server.url + "/offline/unavailable")
    until(lambda: page.evaluate("() => !!navigator.serviceWorker.controller"), page=page)
    context.set_offline(True)
    context.unroute("**/offline/entries")


def _compare_with_database(server, made) -> None:
    """Each entry made is in the database exactly once, as what was entered, by its nurse."""
    with server.app.app_context():
        people = {r.id: r.display_name for r in db.session.scalars(select(Resident))}
        users = {u.id: u.username for u in db.session.scalars(select(User))}
        rows = db.session.execute(
            select(CareSessionVersion, CareSession.resident_id).join(CareSession)
        ).all()
        found: dict[str, list] = {}
        for version, resident_id in rows:
            marker = version.note if version.outcome == "declined" else version.outcome_reason
            found.setdefault(marker, []).append(
                (marker, users[version.created_by_id], people[resident_id], version.outcome)
            )
            assert version.given_by_id == version.created_by_id
            assert version.saved_on_tablet_at is not None
            assert version.saved_on_tablet_at <= version.created_at
        assert len(rows) == 200
        for entry in made:
            assert found.get(entry[0]) == [entry], entry
        assert chain.verify(db.session).ok


def test_after_sign_out_nothing_readable_remains_on_the_tablet(live_server, page, tablet):
    server = live_server
    names = _ward_names(server)
    sign_in(page, server, "nurse")
    page.goto(server.url + "/ward/")
    ready_to_work_offline(page)
    go_offline(tablet, page)
    decline(page, "Ngozi Adeyemi", "PRIVATE-NOTE-1")
    not_done(page, "Peggy Hughes", "PRIVATE-REASON-2")
    # Back online with the server refusing connections: the entries stay unsent.
    tablet.route("**/offline/entries", lambda route: route.abort("connectionrefused"))
    tablet.set_offline(False)
    page.goto(server.url + "/ward/")
    expect(page.locator(WAITING)).to_contain_text("2 entries waiting to send")
    page.locator(".board-row").filter(has_text="Edith Marsh").locator(".board-link").tap()
    page.get_by_text("I have read the precautions and consent above").tap()  # a draft
    before = stored(page)
    assert "Ngozi Adeyemi" in json.dumps(before)  # the inspection sees what is there
    assert [k for k in before["localStorage"] if k.startswith("carelog:draft:")]

    sign_out(page)
    kept = stored(page)
    everything = json.dumps(kept)
    for name in names:
        assert name not in everything, name
    for secret in ("PRIVATE-NOTE-1", "PRIVATE-REASON-2", "Niamh", "Byrne"):
        assert secret not in everything, secret
    assert not [k for k in kept["localStorage"] if k.startswith("carelog:")]
    assert json.loads(kept["indexedDB"]["carelog-offline/keys"]) == []
    sealed = json.loads(kept["indexedDB"]["carelog-offline/entries"])
    assert len(sealed) == 2 and all(set(e["sealed"]) == {"epk", "iv", "data"} for e in sealed)
    assert kept["caches"], "the service worker's cache was looked into"


def test_the_server_stopped_rather_than_the_wifi(browser_template, tmp_path, browser):
    """The tablet is online but the server is not running: the kept pages open, entries wait,
    and they arrive once when it runs again."""
    copy = tmp_path / "carelog.sqlite"
    shutil.copyfile(browser_template, copy)
    app = create_app(app_config(f"sqlite:///{copy}"))
    running = _Running(app)
    server = LiveServer(url=running.url, app=app)
    tablet = new_tablet(browser)
    page = _first_page(tablet)
    try:
        sign_in(page, server, "nurse")
        page.goto(server.url + "/ward/")
        ready_to_work_offline(page)
        page.locator(".board-row").filter(has_text="Ngozi Adeyemi").locator(".board-link").tap()
        page.get_by_text("Resident declined…").tap()

        running.stop()
        page.get_by_role("button", name="Save: declined").tap()  # the server's own page
        page.wait_for_url(re.compile(r"/ward/$"))
        expect(page).to_have_title(re.compile("offline"))
        decline(page, "Peggy Hughes", "while the server was down")
        expect(page.locator(WAITING)).to_have_text(
            "No answer from the server. 2 entries waiting to send"
        )
        assert _sessions(server) == 0

        running.start()
        page.locator("[data-outbox-send]").evaluate("button => button.click()")  # Send now
        until(lambda: _sessions(server) == 2, 30, "both entries", page=page)
        page.wait_for_timeout(1000)
        assert _sessions(server) == 2
    finally:
        tablet.close()
        running.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("outbox", [True, False], ids=["with-outbox", "without-outbox"])
def test_without_the_outbox_the_same_offline_run_loses_entries(live_server, browser, outbox):
    """The control: the same five declines saved with the Wi-Fi down, once with carelog's
    outbox and service worker, once with both blocked. Without them, all five are lost."""
    tablet = new_tablet(browser, service_workers="allow" if outbox else "block")
    if not outbox:
        tablet.route("**/static/outbox.js", lambda route: route.abort())
    page = _first_page(tablet)
    names = _ward_names(live_server)[:5]
    try:
        sign_in(page, live_server, "nurse")
        page.goto(live_server.url + "/ward/")
        if outbox:
            ready_to_work_offline(page)
        for name in names:
            tablet.set_offline(False)
            page.goto(live_server.url + "/ward/")
            page.locator(".board-row").filter(has_text=name).locator(".board-link").tap()
            page.get_by_text("Resident declined…").tap()
            tablet.set_offline(True)
            page.get_by_role("button", name="Save: declined").tap()
            if outbox:
                expect(page.locator(".outbox-notice")).to_contain_text("waiting to send")
            else:
                page.wait_for_timeout(1000)  # the browser's own "no internet" page
        tablet.set_offline(False)
        page.goto(live_server.url + "/ward/")
        expected = len(names) if outbox else 0
        # Sent as the page loads; should that first try meet the network still coming back,
        # the outbox tries again within its 30 s, as it does on the ward.
        until(lambda: _sessions(live_server) >= expected, 45, "entries", page=page)
        page.wait_for_timeout(1000)
        assert _sessions(live_server) == expected
    finally:
        tablet.close()


class _Running:
    """A server that can be stopped and started again on the same port."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._run()

    def _run(self) -> None:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        self.server = None

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._run()


def test_the_pages_kept_for_offline_are_accessible(live_server, page, tablet):
    """axe-core on the board, session form and sleep follow-ups drawn on the tablet offline."""
    from tests.browser.test_pages_a11y import describe, serious_violations

    live_server.given_session_yesterday("Edith Marsh")
    sign_in(page, live_server, "nurse")
    page.goto(live_server.url + "/ward/")
    ready_to_work_offline(page)
    go_offline(tablet, page)
    peggy = live_server.resident_id("Peggy Hughes")
    agnes = live_server.resident_id("Agnes Byrne")
    for name, path in (
        ("board", "/ward/"),
        ("session-form", f"/residents/{peggy}/session"),
        ("session-form-stop", f"/residents/{agnes}/session"),
        ("follow-ups", "/ward/follow-ups"),
    ):
        page.goto(live_server.url + path)
        expect(page).to_have_title(re.compile("offline|Session ·"))
        expect(page.locator("main [data-roster-only]")).to_be_visible()
        violations = serious_violations(page)
        screenshot(page, f"offline-{name}", both=False)
        assert not violations, f"{path}:\n{describe(violations)}"
