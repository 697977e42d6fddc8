"""The shared tablet in a real browser: enrolment, switching nurse by PIN, revocation, the
lockout people can see and the first password of one's own."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from carelog.accounts import staff_accounts
from carelog.accounts.models import LoginSession, User
from carelog.accounts.roles import Role
from carelog.audit.actor import Actor
from carelog.database import utcnow
from carelog.extensions import db
from tests.browser.conftest import PASSWORDS, new_tablet, screenshot, sign_in, sign_out
from tests.browser.test_nurse_flow import fill_before, open_form

EXTRA = ("sam", "Sam Carter", "sam-long-password-1")


def add_nurse(server, username: str, full_name: str, password: str) -> None:
    """A nurse on the demo nurse's ward, made on the command line (no approval)."""
    with server.app.app_context():
        ward = db.session.scalar(select(User.ward_id).where(User.username == "nurse"))
        staff_accounts.create_user(
            Actor(None, "command-line"),
            username=username,
            full_name=full_name,
            role=Role.NURSE,
            password=password,
            ward_id=ward,
        )
    PASSWORDS.setdefault(username, password)


def add_rowan_nurse(server) -> None:
    """Sam, a second nurse on the demo nurse's ward."""
    add_nurse(server, *EXTRA)


def enrol(page: Page, server) -> None:
    """The care manager enrols this tablet to Rowan ward and signs out."""
    sign_in(page, server, "manager")
    page.get_by_role("link", name="Tablets").tap()
    page.fill("#name", "Rowan tablet 1")
    page.select_option("#ward_id", label="Rowan")
    page.get_by_role("button", name="Enrol this tablet").tap()
    expect(page.locator(".flash-success")).to_contain_text("enrolled as Rowan tablet 1")
    expect(page.get_by_text("This tablet", exact=True)).to_be_visible()
    screenshot(page, "40-tablets", both=False)
    sign_out(page)


def choose_pin(page: Page, server, username: str, pin: str) -> None:
    """A full sign-in on the tablet, then the nurse chooses her PIN."""
    sign_in(page, server, username)
    page.get_by_role("link", name="My PIN").tap()
    page.fill("#password", PASSWORDS[username])
    page.fill("#pin", pin)
    page.fill("#again", pin)
    page.get_by_role("button", name="Save my PIN").tap()
    expect(page.locator(".flash-success")).to_contain_text("Your PIN is set")


def who(page: Page):
    return page.locator(".who-name")


def test_switching_nurse_takes_two_taps_and_a_pin_and_nothing_passes_over(live_server, page):
    add_rowan_nurse(live_server)
    enrol(page, live_server)
    choose_pin(page, live_server, "sam", "90417")
    sign_out(page)
    choose_pin(page, live_server, "nurse", "4827")

    # Niamh starts a session and is interrupted with it half filled.
    open_form(page, "Peggy Hughes")
    fill_before(page)
    half_filled_url = page.url

    # Sam takes the tablet: Switch nurse, her name, her PIN.
    taps = 0
    page.get_by_role("link", name="Switch nurse").tap()
    taps += 1
    page.get_by_text("Sam Carter", exact=True).tap()
    taps += 1
    expect(page.locator("#pin")).to_be_focused()  # the PIN needs no tap of its own
    page.keyboard.type("90417")
    screenshot(page, "41-switch-nurse", both=False)
    page.keyboard.press("Enter")
    expect(who(page)).to_contain_text("Sam Carter")
    assert taps <= 2

    # Nothing of Niamh's: her draft is not offered, her form opens empty, and Back never
    # shows her pages.
    expect(page.locator("#draft-notice")).to_be_hidden()
    page.goto(half_filled_url)
    expect(page.locator(".draft-notice")).to_have_count(0)
    expect(page.locator("#precautions_confirmed")).not_to_be_checked()
    for _ in range(6):
        page.go_back()
        if page.url == "about:blank":
            break
        # every page Back reaches is drawn for Sam, and her form holds none of Niamh's answers
        expect(who(page)).to_contain_text("Sam Carter")
        expect(page.locator("#precautions_confirmed:checked")).to_have_count(0)
        expect(page.locator(".draft-notice")).to_have_count(0)
    with live_server.app.app_context():
        nurse = db.session.scalar(select(User.id).where(User.username == "nurse"))
        open_for_niamh = db.session.scalars(
            select(LoginSession).where(
                LoginSession.user_id == nurse, LoginSession.ended_at.is_(None)
            )
        ).all()
        assert open_for_niamh == []

    # Niamh switches back and finds her half-filled form kept for her.
    page.goto(live_server.url + "/tablet/switch")
    page.get_by_text("Niamh Byrne", exact=True).tap()
    page.keyboard.type("4827")
    page.keyboard.press("Enter")
    expect(who(page)).to_contain_text("Niamh Byrne")
    expect(page.locator("#draft-notice")).to_contain_text("Peggy Hughes")
    page.locator("#draft-notice").get_by_role("link", name="Peggy Hughes").tap()
    expect(page.locator(".draft-notice")).to_contain_text("Restored what you had entered")
    expect(page.locator("#precautions_confirmed")).to_be_checked()


def test_wrong_pins_expiry_and_revocation(live_server, page, browser):
    enrol(page, live_server)
    choose_pin(page, live_server, "nurse", "4827")
    sign_out(page)

    # After an idle sign-out the sign-in page offers the switch straight away.
    expect(page.get_by_role("heading", name="Switch nurse")).to_be_visible()
    for attempt in range(5):
        page.get_by_text("Niamh Byrne", exact=True).tap()
        page.keyboard.type("9137")
        page.keyboard.press("Enter")
        if attempt < 4:
            left = 4 - attempt
            words = "1 try left" if left == 1 else f"{left} tries left"
            expect(page.locator("#pin-error")).to_contain_text(words)
    expect(page.locator(".flash-error")).to_contain_text("Too many wrong PINs")
    expect(page.get_by_text("Niamh Byrne", exact=True)).to_have_count(0)

    # The password sets the PIN working again; twelve hours after it, the PIN stops.
    sign_in(page, live_server, "nurse")
    sign_out(page)
    expect(page.get_by_text("Niamh Byrne", exact=True)).to_be_visible()
    with live_server.app.app_context():
        db.session.execute(
            update(LoginSession).values(started_at=utcnow() - timedelta(hours=12, minutes=1))
        )
        db.session.commit()
    page.reload()
    expect(page.get_by_text("Niamh Byrne", exact=True)).to_have_count(0)

    # Signed in again; the manager revokes the tablet from her office: the nurse is out at once.
    sign_in(page, live_server, "nurse")
    office = new_tablet(browser)
    try:
        desk = office.new_page()
        sign_in(desk, live_server, "manager")
        desk.goto(live_server.url + "/tablets/")
        desk.fill("input[name=reason]", "Left on the bus")
        desk.get_by_role("button", name="Revoke").tap()
        expect(desk.locator(".flash-success")).to_contain_text("revoked")
        expect(desk.locator("table")).to_contain_text("Left on the bus")
    finally:
        office.close()
    page.get_by_role("link", name="Residents").tap()
    page.wait_for_url(re.compile(r"/auth/sign-in"))
    page.goto(live_server.url + "/tablet/switch")
    expect(page.locator(".flash-error")).to_contain_text("not an enrolled ward tablet")
    expect(page.get_by_role("link", name="Switch nurse")).to_have_count(0)


def test_a_locked_account_says_so_and_an_admin_unlocks_it(live_server, page, browser):
    page.goto(live_server.url + "/auth/sign-in")
    for _ in range(5):
        page.fill("#username", "nurse")
        page.fill("#password", "not-her-password")
        page.get_by_role("button", name="Sign in").tap()
        expect(page.locator(".flash-error")).to_contain_text("Sign-in failed")
    page.fill("#username", "nurse")
    page.fill("#password", PASSWORDS["nurse"])
    page.get_by_role("button", name="Sign in").tap()
    expect(page.locator(".flash-error")).to_contain_text(
        re.compile(r"locked until \d\d:\d\d.*ask a care manager or an admin to unlock it")
    )
    screenshot(page, "42-locked", both=False)

    office = new_tablet(browser)
    try:
        desk = office.new_page()
        sign_in(desk, live_server, "admin")
        desk.get_by_role("link", name="Staff").tap()
        row = desk.locator("tr", has_text="Niamh Byrne")
        expect(row).to_contain_text("Locked until")
        row.locator("input[name=reason]").fill("Forgot her password; identity checked")
        row.get_by_role("button", name="Unlock").tap()
        expect(desk.locator("tr", has_text="Niamh Byrne")).to_contain_text("Active")
    finally:
        office.close()
    sign_in(page, live_server, "nurse")
    expect(who(page)).to_contain_text("Niamh Byrne")


def test_a_password_an_admin_set_is_replaced_at_first_sign_in(live_server, page):
    with live_server.app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        nurse = db.session.scalar(select(User.id).where(User.username == "nurse"))
        staff_accounts.set_password(Actor(admin.id, "admin"), nurse, "typed-by-the-admin-1")
    PASSWORDS["nurse-reset"] = "typed-by-the-admin-1"
    page.goto(live_server.url + "/auth/sign-in")
    page.fill("#username", "nurse")
    page.fill("#password", "typed-by-the-admin-1")
    page.get_by_role("button", name="Sign in").tap()
    expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    page.goto(live_server.url + "/ward/")  # nothing else opens until she has
    expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    page.fill("#password", "password1234")
    page.fill("#again", "password1234")
    page.get_by_role("button", name="Save my password").tap()
    expect(page.locator("#password-error")).to_contain_text("commonly used")
    page.fill("#password", "lavender hand cream at four")
    page.fill("#again", "lavender hand cream at four")
    page.get_by_role("button", name="Save my password").tap()
    expect(page.locator(".flash-success")).to_contain_text("Only you know it")
    expect(page.locator("h1")).to_contain_text("Rowan")
