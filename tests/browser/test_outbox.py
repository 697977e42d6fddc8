"""Saving while the Wi-Fi is down: the entry waits on the tablet and is sent exactly once when
the connection returns; a refusal is listed with the server's words."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlalchemy import select

from carelog.accounts.models import User
from carelog.extensions import db
from tests.browser.conftest import screenshot, sign_in
from tests.browser.steps import reveal
from tests.browser.test_nurse_flow import fill_after, fill_before, open_form
from tests.helpers.records import refuses_from, today

WAITING = "[data-outbox-count]"


def sessions_soon(server, resident_id: int, expected: int, seconds: float = 10) -> int:
    """The resident's sessions once `expected` have arrived (or the count at the deadline)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = server.count_sessions(resident_id)
        if found >= expected:
            return found
        time.sleep(0.1)
    return server.count_sessions(resident_id)


def decline_saved_offline(page, tablet, server) -> None:
    """The nurse taps "declined" for Ngozi and saves it with the Wi-Fi down."""
    sign_in(page, server, "nurse")
    open_form(page, "Ngozi Adeyemi")
    page.get_by_text("Resident declined…").tap()
    tablet.set_offline(True)
    page.get_by_role("button", name="Save: declined").tap()
    expect(page.locator(WAITING)).to_contain_text("1 entry waiting to send")


def test_a_decline_saved_offline_is_sent_once_when_the_connection_returns(
    live_server, page, tablet
):
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    decline_saved_offline(page, tablet, live_server)
    expect(page.locator(".outbox-notice")).to_contain_text("waiting to send")
    expect(page.locator(WAITING)).to_have_text("Offline. 1 entry waiting to send")
    page.get_by_role("button", name="Save: declined").tap()  # tapped again: still one entry
    expect(page.locator(WAITING)).to_have_text("Offline. 1 entry waiting to send")
    screenshot(page, "45-saved-offline", both=False)
    assert live_server.count_sessions(ngozi) == 0

    tablet.set_offline(False)
    expect(page.locator("[data-outbox]")).to_be_hidden()
    assert sessions_soon(live_server, ngozi, 1) == 1
    time.sleep(1)
    assert live_server.count_sessions(ngozi) == 1  # and no second one later


def test_two_tabs_sending_the_same_entry_record_it_once(live_server, page, tablet):
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    decline_saved_offline(page, tablet, live_server)

    # Hold every send until both tabs have sent the entry, then let them through together.
    held = []
    tablet.route("**/session/declined", lambda route: held.append(route))
    tablet.set_offline(False)  # the first tab sends as the connection returns
    second = tablet.new_page()
    second.goto(f"{live_server.url}/ward/")  # the second sends as its page loads
    deadline = time.monotonic() + 10
    while len(held) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(held) == 2
    for route in held:
        route.continue_()
    expect(page.locator("[data-outbox]")).to_be_hidden()
    assert sessions_soon(live_server, ngozi, 1) == 1
    time.sleep(1)
    assert live_server.count_sessions(ngozi) == 1
    second.reload()
    expect(second.locator("[data-outbox]")).to_be_hidden()


def test_a_session_refused_after_the_connection_returns_needs_attention(live_server, page, tablet):
    peggy = live_server.resident_id("Peggy Hughes")
    sign_in(page, live_server, "nurse")
    open_form(page, "Peggy Hughes")
    fill_before(page)
    for _ in range(2):
        page.locator("[data-step]:visible [data-next-step]").tap()
    fill_after(page)
    tablet.set_offline(True)
    button = page.get_by_role("button", name="Save session")
    reveal(page, button)
    button.tap()
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


def test_an_entry_waits_out_a_server_that_is_down_and_a_sign_in_that_ended(
    live_server, page, tablet
):
    """The server unreachable, then her sign-in ended (idle) before it came back: the entry
    waits, and is sent when she signs in again, under her name, once."""
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    decline_saved_offline(page, tablet, live_server)

    tablet.route("**/session/declined", lambda route: route.abort("connectionrefused"))
    tablet.set_offline(False)  # the Wi-Fi is back, the server is not
    page.get_by_role("button", name="Send now").tap()
    expect(page.locator(WAITING)).to_have_text("1 entry waiting to send")
    assert live_server.count_sessions(ngozi) == 0

    live_server.age_sign_ins("nurse", minutes=20)  # her sign-in ends while she waits
    tablet.unroute("**/session/declined")
    page.goto(f"{live_server.url}/ward/")
    page.wait_for_url("**/auth/sign-in**")
    sign_in(page, live_server, "nurse")
    expect(page.locator("[data-outbox]")).to_be_hidden()
    assert sessions_soon(live_server, ngozi, 1) == 1
    with live_server.app.app_context():
        from carelog.care.models import CareSession

        saved = db.session.scalar(select(CareSession).where(CareSession.resident_id == ngozi))
        nurse = db.session.scalar(select(User.id).where(User.username == "nurse"))
        assert saved.recorded_by_id == nurse
