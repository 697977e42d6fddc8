"""The nurse's flow on a ward tablet, driven by tapping in headless Chromium.

Each test gets its own server on a fresh copy of the demo home and a fresh browser context
(800x1280, touch). The page clock is Playwright's fake clock, so the 10-minute timer and the
15-minute idle sign-out run in milliseconds.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from carelog.accounts.models import LoginSession
from carelog.care.models import CareSession
from carelog.extensions import db
from tests.browser.conftest import screenshot, sign_in, sign_out
from tests.browser.steps import reveal

SAVED = "Session saved."
REPLAYED = "This session was already saved; nothing was added twice."


def board_row(page: Page, name: str):
    """A resident's line on the ward board."""
    return page.locator("li.board-row", has_text=name)


def open_form(page: Page, name: str) -> None:
    """Tap a resident on the board and wait for their session form."""
    board_row(page, name).tap()
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    expect(page.locator("h1")).to_contain_text(name)


def rate(page: Page, field: str, answer: str, rater: str | None = None) -> None:
    """Tap a rating's big button (or a reason for none) and, if given, who rated it."""
    group = page.locator(f"#{field}-group")
    reveal(page, group)
    group.locator(".scale, .no-rating").get_by_text(answer, exact=True).tap()
    if rater:
        group.locator(".rater").get_by_text(rater, exact=True).tap()


def choose(page: Page, field: str, label: str) -> None:
    """Tap one of a choice group's big buttons."""
    group = page.locator(f"#{field}-group")
    reveal(page, group)
    group.get_by_text(label, exact=True).tap()


def checked(page: Page, field: str, value: str):
    """The radio input behind a big button, to assert on."""
    return page.locator(f"input[name='{field}'][value='{value}']")


def fill_before(page: Page) -> None:
    """Confirm the precautions and give the before ratings."""
    page.get_by_text("I have read the precautions and consent above").tap()
    rate(page, "relaxation_before", "4", "The resident")
    rate(page, "mood_before", "Okay", "The resident")
    rate(page, "sleep_before", "Unable to answer")


def fill_after(page: Page) -> None:
    """The duration if the timer has not set it, the after ratings and the rest."""
    duration = page.locator("#duration_minutes")
    reveal(page, duration)
    if not duration.input_value():
        page.get_by_role("button", name="10 minutes").tap()
    rate(page, "relaxation_after", "7", "Staff observing")
    rate(page, "mood_after", "Good", "The resident")
    choose(page, "hands", "Both")
    choose(page, "pressure", "Light")
    choose(page, "assent", "Agreed")
    choose(page, "outcome", "Completed")


def save(page: Page) -> None:
    """Tap Save and wait for the saved session's page."""
    button = page.get_by_role("button", name="Save session")
    reveal(page, button)
    button.tap()
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))


def answer_lost(page: Page, route) -> int:
    """Send a held request to the server, but let nothing of its answer reach the browser.

    route.fetch() shares the context's cookie jar, so the cookies are put back as they were:
    a lost answer sets no cookie (and so carries no "Session saved." message).
    """
    cookies = page.context.cookies()
    status = route.fetch(max_redirects=0).status
    page.context.clear_cookies()
    page.context.add_cookies(cookies)
    return status


def wait_until(page: Page, condition, seconds: float = 10) -> None:
    """Let the browser (and route handlers) run until the condition holds."""
    for _ in range(int(seconds * 50)):
        if condition():
            return
        page.wait_for_timeout(20)
    raise AssertionError("timed out waiting for the browser")


def save_but_lose_the_answer(page: Page) -> list[int]:
    """Tap Save; the server saves and answers, but the tablet never hears back."""
    dropped: list[int] = []

    def lose_the_answer(route):
        if route.request.method != "POST" or dropped:
            route.continue_()
            return
        dropped.append(answer_lost(page, route))
        route.abort("connectionreset")

    page.route(re.compile(r"/residents/\d+/session$"), lose_the_answer)
    page.get_by_role("button", name="Save session").tap()
    wait_until(page, lambda: dropped and page.url.startswith("chrome-error://"))
    return dropped


def draft_keys(page: Page) -> list[str]:
    """The form drafts kept in this browser's localStorage."""
    return page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('carelog:draft:')).sort()"
    )


def test_full_session_with_the_timer(live_server, page):
    """Sign in, tap a resident, log a whole session by tapping; the board then says given."""
    sign_in(page, live_server, "nurse")
    expect(page).to_have_url(re.compile(r"/ward/$"))
    expect(page.locator("h1")).to_contain_text("Rowan")
    expect(page.locator("li.board-row")).to_have_count(12)
    expect(board_row(page, "Łucja Nowak")).to_have_count(0)  # Willow is not her ward
    expect(board_row(page, "Peggy Hughes").locator(".today")).to_have_text("Not yet today")
    screenshot(page, "01-nurse-board")

    open_form(page, "Peggy Hughes")
    precautions = page.locator("section.precautions")
    expect(precautions).to_contain_text("Before you start")
    expect(precautions).to_contain_text("Consent: yes")
    form = page.locator("#session-form")
    assert precautions.bounding_box()["y"] < form.bounding_box()["y"]
    expect(page.locator(".step-indicator")).to_have_text("Step 1 of 4")
    expect(page.locator("#relaxation_before-group")).to_be_hidden()  # one step at a time
    screenshot(page, "02-session-form-empty")

    fill_before(page)
    expect(page.locator("#precautions_confirmed")).to_be_checked()
    expect(checked(page, "relaxation_before", "4")).to_be_checked()
    expect(checked(page, "relaxation_before_rater", "self")).to_be_checked()
    expect(checked(page, "sleep_before", "unable")).to_be_checked()

    reveal(page, page.locator("#duration_minutes"))
    page.fill("#duration_minutes", "")  # so that only the timer can fill it in
    timer = page.locator("[data-timer]")
    timer.get_by_role("button", name="Start timer").tap()
    page.clock.fast_forward("04:00")
    expect(timer.locator(".timer-display")).to_have_text("06:00")
    timer.get_by_role("button", name="Pause").tap()
    page.clock.fast_forward("05:00")  # a pause does not count
    expect(timer.locator(".timer-display")).to_have_text("06:00")
    timer.get_by_role("button", name="Resume").tap()
    page.clock.fast_forward("03:00")
    expect(timer.locator(".timer-display")).to_have_text("03:00")
    timer.scroll_into_view_if_needed()
    screenshot(page, "03-session-timer-running", both=False)
    page.clock.fast_forward("03:00")
    expect(timer.locator(".timer-display")).to_have_text("+00:00")
    expect(timer.locator(".timer-status")).to_contain_text("10 minutes are up")
    timer.get_by_role("button", name="Stop").tap()
    expect(page.locator("#duration_minutes")).to_have_value("10")
    # The fake clock also runs on in real time between steps: a slow machine adds a second or two.
    expect(timer.locator(".timer-status")).to_have_text(
        re.compile(r"^Stopped after 10:0\d: duration 10 minutes\.$")
    )
    expect(timer.locator(".timer-display")).to_have_text(re.compile(r"^10:0\d$"))  # as recorded

    fill_after(page)
    expect(page.locator("#product")).to_have_value("Own fragrance-free emollient")
    screenshot(page, "04-session-form-filled")
    save(page)
    expect(page.locator(".flash-success")).to_have_text(SAVED)
    summary = page.locator("dl.facts")
    expect(summary).to_contain_text("10 minutes")
    expect(summary).to_contain_text("4 → 7 (observer)")
    expect(summary).to_contain_text("okay → good")
    expect(summary).to_contain_text("night before: unable")
    screenshot(page, "05-session-saved")
    assert live_server.count_sessions(live_server.resident_id("Peggy Hughes")) == 1

    page.get_by_role("link", name="Back to the board").tap()
    page.wait_for_url(re.compile(r"/ward/$"))
    expect(board_row(page, "Peggy Hughes").locator(".today")).to_have_text("Given today")
    expect(board_row(page, "Peggy Hughes").locator(".week")).to_contain_text("1 of")
    screenshot(page, "06-nurse-board-after-session")


def test_resident_declined_in_two_taps(live_server, page):
    """A decline is saved from the form's quick buttons (two taps) and shows on the board."""
    sign_in(page, live_server, "nurse")
    open_form(page, "Ngozi Adeyemi")
    page.get_by_text("Resident declined…").tap()
    page.get_by_role("button", name="Save: declined").tap()
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))
    expect(page.locator(".flash-success")).to_have_text(SAVED)
    expect(page.locator("p.outcome")).to_contain_text("Declined")
    screenshot(page, "07-declined-saved")
    assert live_server.count_sessions(live_server.resident_id("Ngozi Adeyemi")) == 1
    page.get_by_role("link", name="Back to the board").tap()
    expect(board_row(page, "Ngozi Adeyemi").locator(".today")).to_have_text("Declined today")
    expect(board_row(page, "Peggy Hughes").locator(".today")).to_have_text("Not yet today")


def test_next_morning_sleep_follow_up(live_server, page):
    """Yesterday's session waits on the follow-up list until its night-after sleep is saved."""
    session_id = live_server.given_session_yesterday("Edith Marsh")
    sign_in(page, live_server, "nurse")
    expect(page.locator("main")).to_contain_text("1 resident to ask how they slept")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sleep follow-ups").tap()
    page.wait_for_url(re.compile(r"/ward/follow-ups$"))
    section = page.locator("section.panel", has_text="Edith Marsh")
    expect(section).to_have_count(1)
    screenshot(page, "08-follow-ups")
    section.locator(".scale").get_by_text("7", exact=True).tap()
    section.locator(".rater").get_by_text("The resident", exact=True).tap()
    section.get_by_role("button", name="Save sleep for Edith Marsh").tap()
    expect(page.locator(".flash-success")).to_have_text("Sleep recorded for Edith Marsh.")
    expect(page.locator("section.panel", has_text="Edith Marsh")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Nothing to follow up")
    screenshot(page, "09-follow-ups-done")
    with live_server.app.app_context():
        care_session = db.session.get(CareSession, session_id)
        assert care_session.current_version == 2
        assert care_session.current.sleep_after_value == 7
        assert care_session.current.sleep_after_rater == "self"
        assert care_session.versions[0].sleep_after_status is None  # added, not overwritten


def test_reload_mid_form_restores_the_answers(live_server, page):
    """A reload keeps what was entered (and the form's key); saving clears the draft."""
    sign_in(page, live_server, "nurse")
    open_form(page, "Arthur Pemberton")
    key = page.input_value("#session-form input[name=submission_key]")
    fill_before(page)
    reveal(page, page.locator("#note"))
    page.fill("#note", "Enjoyed the hand cream's texture.")
    page.reload()
    notice = page.locator(".draft-notice")
    expect(notice).to_contain_text("Restored what you had entered")
    expect(page.locator("#precautions_confirmed")).to_be_checked()
    expect(checked(page, "relaxation_before", "4")).to_be_checked()
    expect(checked(page, "mood_before", "3")).to_be_checked()
    expect(checked(page, "sleep_before", "unable")).to_be_checked()
    expect(page.locator("#note")).to_have_value("Enjoyed the hand cream's texture.")
    assert page.input_value("#session-form input[name=submission_key]") == key
    screenshot(page, "10-session-form-restored")

    fill_after(page)
    save(page)
    expect(page.locator(".flash-success")).to_have_text(SAVED)
    expect(page.locator("dl.facts")).to_contain_text("Enjoyed the hand cream's texture.")
    assert draft_keys(page) == []
    page.get_by_role("link", name="Back to the board").tap()
    open_form(page, "Arthur Pemberton")
    expect(page.locator(".draft-notice")).to_have_count(0)
    expect(checked(page, "relaxation_before", "4")).not_to_be_checked()
    expect(page.locator("#note")).to_have_value("")
    assert page.input_value("#session-form input[name=submission_key]") != key


def test_idle_sign_out_keeps_the_form_for_the_same_nurse_only(live_server, page):
    """Idle sign-out keeps the draft for its nurse, hides it from others; signing out clears it."""
    sign_in(page, live_server, "nurse")
    resident_id = live_server.resident_id("Peggy Hughes")
    open_form(page, "Peggy Hughes")
    fill_before(page)
    assert len(draft_keys(page)) == 1

    live_server.age_sign_ins("nurse", minutes=20)  # the server agrees the tablet sat idle
    page.clock.fast_forward("16:00")
    page.wait_for_url(re.compile(r"/auth/sign-in\?reason=idle$"))
    expect(page.locator(".flash-info")).to_contain_text("signed out because the tablet")
    screenshot(page, "11-idle-signed-out")
    with live_server.app.app_context():
        ended = db.session.scalars(select(LoginSession.end_reason)).all()
        assert "idle" in ended
    assert len(draft_keys(page)) == 1

    # Another nurse on the same tablet sees nothing of it, and her sign-out leaves it alone.
    sign_in(page, live_server, "nurse2")
    expect(page.locator("h1")).to_contain_text("Willow")
    expect(page.locator("#draft-notice")).to_be_hidden()
    sign_out(page)
    assert len(draft_keys(page)) == 1

    # Nor does the care manager opening the very same resident's form.
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/residents/{resident_id}/session")
    expect(page.locator(".draft-notice")).to_have_count(0)
    expect(checked(page, "relaxation_before", "4")).not_to_be_checked()
    sign_out(page)

    # The same nurse gets it back.
    sign_in(page, live_server, "nurse")
    drafts = page.locator("#draft-notice")
    expect(drafts).to_be_visible()
    expect(drafts).to_contain_text("Not saved yet: Peggy Hughes")
    screenshot(page, "12-board-with-unsaved-draft")
    drafts.get_by_role("link", name="Peggy Hughes").tap()
    expect(page.locator(".draft-notice")).to_contain_text("Restored what you had entered")
    expect(checked(page, "relaxation_before", "4")).to_be_checked()
    expect(checked(page, "mood_before", "3")).to_be_checked()
    expect(page.locator("#precautions_confirmed")).to_be_checked()

    # Signing out with the button clears her drafts from the tablet.
    sign_out(page)
    assert draft_keys(page) == []
    sign_in(page, live_server, "nurse")
    expect(page.locator("#draft-notice")).to_be_hidden()
    open_form(page, "Peggy Hughes")
    expect(page.locator(".draft-notice")).to_have_count(0)
    expect(checked(page, "relaxation_before", "4")).not_to_be_checked()


def test_double_tap_on_save_records_one_session(live_server, page):
    """On slow Wi-Fi the first Save is still on its way when Save is tapped again: one session."""
    sign_in(page, live_server, "nurse")
    resident_id = live_server.resident_id("Dmitri Volkov")
    open_form(page, "Dmitri Volkov")
    fill_before(page)
    fill_after(page)
    held = []
    passed = []

    def slow_wifi(route):
        if route.request.method != "POST":
            route.continue_()
        elif not held:
            held.append(route)  # the first tap's request: the answer is slow to come
        else:
            passed.append(route.request.post_data)
            route.continue_()

    page.route(re.compile(r"/residents/\d+/session$"), slow_wifi)
    save_button = page.get_by_role("button", name="Save session")
    save_button.scroll_into_view_if_needed()
    box = save_button.bounding_box()
    save_button.tap()
    wait_until(page, lambda: held)
    first = held[0]
    assert answer_lost(page, first) == 303  # the server has saved it...
    assert live_server.count_sessions(resident_id) == 1
    # ...but the tablet still shows the form, so the nurse taps the same spot again.
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # Poll the address: wait_for_url can trip over the first tap's navigation being cancelled.
    wait_until(page, lambda: re.search(r"/sessions/\d+\?saved=", page.url))
    page.wait_for_load_state()
    assert passed == [first.request.post_data]  # the same form, key and all, went twice
    expect(page.locator(".flash")).to_have_text([REPLAYED])
    assert live_server.count_sessions(resident_id) == 1
    first.abort()  # the first tap's navigation was cancelled; nothing is left pending


def test_resubmitting_after_a_dropped_connection_records_one_session(live_server, page):
    """The answer to Save is lost; back on the form the draft brings the same key; no double."""
    sign_in(page, live_server, "nurse")
    resident_id = live_server.resident_id("Dmitri Volkov")
    open_form(page, "Dmitri Volkov")
    fill_before(page)
    fill_after(page)
    dropped = save_but_lose_the_answer(page)
    assert dropped == [303]
    assert live_server.count_sessions(resident_id) == 1
    # The tablet shows "This site can't be reached".

    # The nurse opens the form again: the draft brings back the same key, so Save is a replay.
    page.goto(f"{live_server.url}/residents/{resident_id}/session")
    expect(page.locator(".draft-notice")).to_contain_text("Restored what you had entered")
    expect(checked(page, "outcome", "completed")).to_be_checked()
    save(page)
    expect(page.locator(".flash-info").first).to_have_text(REPLAYED)
    assert live_server.count_sessions(resident_id) == 1
    assert draft_keys(page) == []


def test_the_board_drops_a_draft_that_was_saved_after_all(live_server, page):
    """A save whose answer was lost does not linger on the board as "not saved yet"."""
    sign_in(page, live_server, "nurse")
    resident_id = live_server.resident_id("Dmitri Volkov")
    open_form(page, "Dmitri Volkov")
    fill_before(page)
    fill_after(page)
    save_but_lose_the_answer(page)
    page.goto(f"{live_server.url}/residents/{resident_id}/sessions")  # any page but the board
    assert len(draft_keys(page)) == 1
    page.goto(f"{live_server.url}/ward/")
    expect(board_row(page, "Dmitri Volkov").locator(".today")).to_have_text("Given today")
    expect(page.locator("#draft-notice")).to_be_hidden()
    screenshot(page, "13-board-after-dropped-save", both=False)
    assert draft_keys(page) == []
    assert live_server.count_sessions(resident_id) == 1
