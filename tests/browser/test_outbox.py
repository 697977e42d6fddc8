"""Saving with no connection: the entry waits on the tablet, sealed, and is sent exactly once when
the server can be reached; a refusal is listed with the server's words; a busy server is waited
out; a server that is down is no different from Wi-Fi that is."""

from __future__ import annotations

import contextlib
import re
import time

from playwright.sync_api import expect
from sqlalchemy import select

from carelog.accounts.models import User
from carelog.care.models import CareSession, CareSessionVersion
from carelog.extensions import db
from tests.browser.conftest import screenshot, sign_in
from tests.browser.offline_steps import (
    WAITING,
    decline,
    entries_on_tablet,
    go_offline,
    ready_to_work_offline,
    until,
)
from tests.browser.steps import reveal
from tests.browser.test_nurse_flow import fill_after, fill_before, open_form
from tests.helpers.records import refuses_from, today


def sessions_soon(server, resident_id: int, expected: int, seconds: float = 10, page=None) -> int:
    """The resident's sessions once `expected` have arrived (or the count at the deadline)."""
    with contextlib.suppress(AssertionError):
        until(lambda: server.count_sessions(resident_id) >= expected, seconds, page=page)
    return server.count_sessions(resident_id)


def signed_in_ready(page, server, username: str = "nurse") -> None:
    sign_in(page, server, username)
    page.goto(f"{server.url}/ward/")
    ready_to_work_offline(page)


def test_a_decline_saved_offline_is_sent_once_when_the_connection_returns(
    live_server, page, tablet
):
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    expect(page.locator(WAITING)).to_have_text("Offline. Nothing waiting to send")

    decline(page, "Ngozi Adeyemi", note="Wanted to rest")
    expect(page.locator(".outbox-notice")).to_contain_text("Declined for Ngozi Adeyemi saved")
    expect(page.locator(WAITING)).to_have_text("Offline. 1 entry waiting to send")
    screenshot(page, "45-saved-offline", both=False)
    assert live_server.count_sessions(ngozi) == 0

    tablet.set_offline(False)
    assert sessions_soon(live_server, ngozi, 1) == 1
    expect(page.locator(WAITING)).to_contain_text("Nothing waiting to send")
    time.sleep(1)
    assert live_server.count_sessions(ngozi) == 1  # and no second one later
    assert entries_on_tablet(page) == []  # deleted once the server confirmed it
    with live_server.app.app_context():
        version = db.session.scalar(
            select(CareSessionVersion).join(CareSession).where(CareSession.resident_id == ngozi)
        )
        nurse = db.session.scalar(select(User.id).where(User.username == "nurse"))
        assert version.created_by_id == nurse and version.note == "Wanted to rest"
        assert version.saved_on_tablet_at is not None


def test_a_double_tap_on_save_keeps_one_entry(live_server, page, tablet):
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    page.locator(".board-row").filter(has_text="Ngozi Adeyemi").locator(".board-link").tap()
    page.get_by_text("Resident declined…").tap()
    page.get_by_role("button", name="Save: declined").evaluate("b => { b.click(); b.click(); }")
    page.wait_for_url("**/ward/")
    expect(page.locator(WAITING)).to_have_text("Offline. 1 entry waiting to send")
    assert len(entries_on_tablet(page)) == 1


def _hold_sends(tablet, held: list) -> None:
    tablet.route("**/offline/entries", lambda route: held.append(route))


def test_two_tabs_and_a_double_send_now_record_it_once(live_server, page, tablet):
    """Two tabs sending, and Send now tapped twice: one session."""
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    decline(page, "Ngozi Adeyemi")

    held: list = []
    _hold_sends(tablet, held)
    tablet.set_offline(False)  # the first tab sends as the connection returns
    send_now = page.get_by_role("button", name="Send now")
    send_now.evaluate("b => { b.click(); b.click(); }")
    second = tablet.new_page()
    second.goto(f"{live_server.url}/ward/")  # the second sends as its page loads
    second.get_by_role("button", name="Send now").evaluate("b => b.click()")
    until(lambda: len(held) >= 1, what="a send", page=page)
    page.wait_for_timeout(500)
    for route in list(held):
        route.continue_()
    tablet.unroute("**/offline/entries")
    assert sessions_soon(live_server, ngozi, 1, page=page) == 1
    page.wait_for_timeout(1500)
    assert live_server.count_sessions(ngozi) == 1
    second.reload()
    expect(second.locator(WAITING)).to_have_text("Online. Nothing waiting to send")


def test_two_tabs_sending_at_once_without_web_locks_record_it_once(live_server, page, tablet):
    """Where the browser has no Web Locks, both tabs send together: the server's one-time
    key answers the second as a replay."""
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    tablet.add_init_script("Object.defineProperty(navigator, 'locks', {value: undefined})")
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    decline(page, "Ngozi Adeyemi")

    held: list = []
    _hold_sends(tablet, held)
    second = tablet.new_page()
    tablet.set_offline(False)
    second.goto(f"{live_server.url}/ward/")
    until(lambda: len(held) >= 2, what="both tabs sending", page=page)
    for route in held:
        route.continue_()
    tablet.unroute("**/offline/entries")
    assert sessions_soon(live_server, ngozi, 1, page=page) == 1
    page.wait_for_timeout(1500)
    assert live_server.count_sessions(ngozi) == 1


def test_a_session_refused_when_it_arrives_needs_attention(live_server, page, tablet):
    peggy = live_server.resident_id("Peggy Hughes")
    signed_in_ready(page, live_server)
    open_form(page, "Peggy Hughes")
    fill_before(page)
    for _ in range(2):
        page.locator("[data-step]:visible [data-next-step]").tap()
    fill_after(page)
    tablet.set_offline(True)
    button = page.get_by_role("button", name="Save session")
    reveal(page, button)
    button.tap()
    page.wait_for_url("**/ward/")
    expect(page.locator(WAITING)).to_contain_text("1 entry waiting to send")

    # Meanwhile the care manager records that Peggy no longer consents.
    refuses_from(live_server.app, peggy, today(live_server.app))
    tablet.set_offline(False)
    attention = page.locator("[data-outbox-attention] li")
    expect(attention).to_contain_text("Peggy Hughes")
    expect(attention).to_contain_text("consent")
    screenshot(page, "46-needs-attention", both=False)
    assert live_server.count_sessions(peggy) == 0
    attention.get_by_role("link", name="Open and fix").tap()
    # Her form opens as it now must: closed to a massage, open to "declined" or "not done".
    expect(page.locator("main")).to_contain_text("The session form is closed while")
    expect(page.locator("[data-outbox-attention] li")).to_have_count(0)
    assert entries_on_tablet(page) == []


def test_a_busy_server_is_waited_out_as_it_asks(live_server, page, tablet):
    """503 with Retry-After: 2, twice: the tablet tries again no sooner than asked."""
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    decline(page, "Ngozi Adeyemi")

    tries: list[float] = []

    def busy_twice(route):
        tries.append(time.monotonic())
        if len(tries) <= 2:
            route.fulfill(status=503, headers={"Retry-After": "2"}, json={"error": "Busy"})
        else:
            route.continue_()

    tablet.route("**/offline/entries", busy_twice)
    tablet.set_offline(False)
    assert sessions_soon(live_server, ngozi, 1, seconds=15, page=page) == 1
    assert len(tries) == 3
    assert tries[1] - tries[0] >= 1.9 and tries[2] - tries[1] >= 1.9


def test_an_entry_waits_out_a_server_that_is_down_and_a_sign_in_that_ended(
    live_server, page, tablet
):
    """The server unreachable (the Wi-Fi is fine), then her sign-in ended before it came back:
    the entry waits, and is sent by the sign-in page, under her name, once."""
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    decline(page, "Ngozi Adeyemi")

    tablet.route("**/offline/entries", lambda route: route.abort("connectionrefused"))
    tablet.set_offline(False)  # the Wi-Fi is back, the server is not
    page.get_by_role("button", name="Send now").tap()
    expect(page.locator(WAITING)).to_contain_text("1 entry waiting to send")
    assert live_server.count_sessions(ngozi) == 0

    live_server.age_sign_ins("nurse", minutes=20)  # her sign-in ends while she waits
    tablet.unroute("**/offline/entries")
    page.goto(f"{live_server.url}/ward/")
    page.wait_for_url("**/auth/sign-in**")
    assert sessions_soon(live_server, ngozi, 1) == 1  # sent from the sign-in page
    with live_server.app.app_context():
        saved = db.session.scalar(select(CareSession).where(CareSession.resident_id == ngozi))
        nurse = db.session.scalar(select(User.id).where(User.username == "nurse"))
        assert saved.recorded_by_id == nurse


def test_next_morning_sleep_is_asked_and_kept_offline(live_server, page, tablet):
    session_id = live_server.given_session_yesterday("Ngozi Adeyemi")
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    page.get_by_role("link", name="1 resident to ask how they slept after a massage").tap()
    page.wait_for_url("**/ward/follow-ups")
    card = page.locator("section.panel").filter(has_text="Ngozi Adeyemi")
    card.locator(".scale").get_by_text("7", exact=True).tap()
    card.locator(".rater").get_by_text("The resident", exact=True).tap()
    card.get_by_role("button", name="Save sleep for Ngozi Adeyemi").tap()
    expect(page.locator(".outbox-notice")).to_contain_text("Sleep for Ngozi Adeyemi saved")
    expect(page.get_by_text("Nothing to follow up on this tablet.")).to_be_visible()
    expect(page.locator(WAITING)).to_have_text("Offline. 1 entry waiting to send")

    tablet.set_offline(False)
    with live_server.app.app_context():

        def sleep_recorded():
            db.session.rollback()  # a new read: SQLite shows a transaction its first snapshot
            return db.session.get(CareSession, session_id).current_version == 2

        until(sleep_recorded, what="the follow-up version", page=page)
        version = db.session.scalar(
            select(CareSessionVersion).where(
                CareSessionVersion.session_id == session_id, CareSessionVersion.version_no == 2
            )
        )
        assert version.sleep_after_value == 7 and version.saved_on_tablet_at is not None


def test_an_answer_that_is_not_carelogs_deletes_nothing(live_server, page, tablet):
    """A Wi-Fi sign-up page (a captive portal) answers 200 with its own HTML: the entry waits."""
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    decline(page, "Ngozi Adeyemi")
    portal = []

    def captive(route):
        portal.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>Accept the terms</h1>")

    tablet.route("**/offline/entries", captive)
    tablet.set_offline(False)
    until(lambda: len(portal) >= 1, what="a send to the portal", page=page)
    page.wait_for_timeout(500)
    assert [e["state"] for e in entries_on_tablet(page)] == ["waiting"]
    tablet.unroute("**/offline/entries")
    page.locator("[data-outbox-send]").evaluate("button => button.click()")
    assert sessions_soon(live_server, ngozi, 1, page=page) == 1


def test_a_kept_page_reopened_after_she_walked_away_signs_her_out(live_server, page, tablet):
    """Offline, the browser reopened (or the page reloaded) after the idle time: her roster and
    key are forgotten at once, and nobody can record in her name."""
    signed_in_ready(page, live_server)
    go_offline(tablet, page)
    user = page.evaluate("() => document.body.dataset.user")
    page.evaluate(
        "(user) => localStorage.setItem('carelog:active:' + user, String(Date.now() - 16 * 60000))",
        user,
    )
    page.reload()
    expect(page.locator("[data-roster-missing]")).to_be_visible()
    assert page.evaluate("(user) => localStorage.getItem('carelog:roster:' + user)", user) is None
    until(lambda: page.evaluate(
        """() => new Promise((ok) => { const r = indexedDB.open("carelog-offline");
             r.onsuccess = () => { const q = r.result.transaction("keys").objectStore("keys")
               .count(); q.onsuccess = () => { ok(q.result === 0); r.result.close(); }; }; })"""
    ), what="her key forgotten", page=page)  # fmt: skip


def test_wifi_that_carries_nothing_opens_the_kept_board_after_a_few_seconds(
    live_server, page, tablet
):
    """Connected but answering nothing (the request hangs, as on weak ward Wi-Fi): the board
    the tablet keeps opens after the service worker's few seconds of patience, not minutes."""
    signed_in_ready(page, live_server)
    hanging: list = []
    tablet.route("**/ward/", lambda route: hanging.append(route))
    began = time.monotonic()
    page.goto(f"{live_server.url}/ward/", wait_until="commit", timeout=20_000)
    expect(page).to_have_title(re.compile("offline"), timeout=15_000)
    waited = time.monotonic() - began
    assert hanging, "the board's request reached the network and hung there"
    assert 3 <= waited <= 15, waited
    expect(page.locator(".board-row").first).to_be_visible()
    tablet.unroute("**/ward/")
    for route in hanging:
        with contextlib.suppress(Exception):
            route.abort()
