"""The bedside flow in Chromium, as a nurse uses it on an upright 10-inch tablet: nothing twice
from Back, forward or reload; who must not be massaged; errors on Next; the follow-up night; the
timer's signal; the tap budget; the action bar in view on its side."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from carelog.accounts.models import User
from carelog.audit.actor import Actor
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.residents import records
from tests.browser.conftest import LANDSCAPE, screenshot, sign_in
from tests.browser.steps import answer_visible_step

SIGNALS = """
window.__signals = {play: 0, vibrate: [], wake: 0, released: 0};
HTMLMediaElement.prototype.play = function () {
  window.__signals.play += 1; window.__signals.src = this.src; return Promise.resolve();
};
navigator.vibrate = function (pattern) { window.__signals.vibrate.push(pattern); return true; };
Object.defineProperty(navigator, "wakeLock", {configurable: true, value: {request: function () {
  window.__signals.wake += 1;
  var lock = new EventTarget();
  lock.release = function () { window.__signals.released += 1; return Promise.resolve(); };
  return Promise.resolve(lock);
}}});
"""


class Taps:
    """Taps a nurse makes, counted: the tap budget is measured, not estimated."""

    def __init__(self, page: Page):
        self.page = page
        self.count = 0

    def __call__(self, locator) -> None:
        locator.tap()
        self.count += 1

    def next(self) -> None:
        self(self.page.locator("#session-form [data-step]:visible [data-next-step]"))


def manager_change(server, change) -> None:
    """Make a change as the care manager, through the use cases."""
    with server.app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        change(Actor(manager.id, manager.username, "127.0.0.1", "browser test"))


def board_row(page: Page, name: str):
    return page.locator("li.board-row", has_text=name)


def log_a_full_session(page: Page, name: str) -> int:
    """From the board, log a session with every rating answered by the resident; the taps."""
    tap = Taps(page)
    tap(board_row(page, name))
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    tap.next()  # "I have read them: next"
    step = page.locator("#session-form [data-step]:visible")
    tap(step.locator("[data-step-rater]").get_by_text("The resident", exact=True))
    tap(page.locator("#relaxation_before-group .scale").get_by_text("4", exact=True))
    tap(page.locator("#mood_before-group .scale").get_by_text("Okay", exact=True))
    tap(page.locator("#sleep_before-group .scale").get_by_text("6", exact=True))
    tap.next()
    tap(page.get_by_role("button", name="10 minutes"))
    tap.next()
    step = page.locator("#session-form [data-step]:visible")
    tap(step.locator("[data-step-rater]").get_by_text("The resident", exact=True))
    tap(page.locator("#relaxation_after-group .scale").get_by_text("8", exact=True))
    tap(page.locator("#mood_after-group .scale").get_by_text("Good", exact=True))
    tap(page.locator("#assent-group").get_by_text("Agreed", exact=True))
    tap(page.get_by_role("button", name="Save session"))
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))
    return tap.count


def test_the_tap_budget_for_a_session_a_decline_and_a_not_done(live_server, page):
    """A full session in at most 14 taps from the board, a decline in 3, a not-done in 4."""
    sign_in(page, live_server, "nurse")
    taps = log_a_full_session(page, "Peggy Hughes")
    assert taps <= 14, taps
    expect(page.locator("dl.facts")).to_contain_text("10 minutes")
    peggy = live_server.resident_id("Peggy Hughes")
    assert live_server.count_sessions(peggy) == 1
    with live_server.app.app_context():
        from carelog.care.models import CareSession

        saved = db.session.scalars(select(CareSession).where(CareSession.resident_id == peggy))
        version = next(iter(saved)).current
        assert (version.hands, version.pressure, version.outcome) == ("both", "normal", "completed")
        assert version.relaxation_after_rater == version.mood_before_rater == "self"

    page.get_by_role("link", name="Back to the board").tap()
    tap = Taps(page)
    tap(board_row(page, "Ngozi Adeyemi"))
    tap(page.get_by_text("Resident declined…"))
    tap(page.get_by_role("button", name="Save: declined"))
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))
    assert tap.count <= 3, tap.count

    page.get_by_role("link", name="Back to the board").tap()
    tap = Taps(page)
    tap(board_row(page, "Edith Marsh"))
    tap(page.get_by_text("Not done…"))
    tap(page.locator("#not_done_reason-group").get_by_text("Asleep", exact=True))
    tap(page.get_by_role("button", name="Save: not done"))
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))
    assert tap.count <= 4, tap.count


def save_whatever_the_form_holds(page: Page) -> None:
    """Step through the form as it came back, answering only what is still empty, and Save."""
    while page.locator("#session-form [data-step]:visible [data-next-step]").count():
        answer_visible_step(page)
        page.locator("#session-form [data-step]:visible [data-next-step]").tap()
    assent = page.locator("#assent-group")
    if not assent.locator("input:checked").count():
        assent.get_by_text("Agreed", exact=True).tap()
    answer_visible_step(page)
    page.get_by_role("button", name="Save session").tap()


def test_back_forward_and_reload_after_saving_record_nothing_more(live_server, page):
    """After Save: reload, Back, forward and Back again add nothing; saving the form that came
    back asks "already recorded ... record another?" and saves nothing; the same for a decline."""
    sign_in(page, live_server, "nurse")
    log_a_full_session(page, "Peggy Hughes")
    peggy = live_server.resident_id("Peggy Hughes")
    saved_at = page.url
    page.reload()
    page.go_back()
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    page.go_forward()
    page.wait_for_url(saved_at)
    page.go_back()
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    assert live_server.count_sessions(peggy) == 1
    save_whatever_the_form_holds(page)
    question = page.locator(".repeat-ask")
    expect(question).to_contain_text("A session was already recorded at")
    expect(question).to_contain_text("by you: record another?")
    assert live_server.count_sessions(peggy) == 1
    screenshot(page, "bedside-repeat-question")

    page.goto(live_server.url + "/ward/")
    board_row(page, "Ngozi Adeyemi").tap()
    page.get_by_text("Resident declined…").tap()
    page.get_by_role("button", name="Save: declined").tap()
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))
    ngozi = live_server.resident_id("Ngozi Adeyemi")
    page.go_back()
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    page.get_by_text("Resident declined…").tap()
    page.get_by_role("button", name="Save: declined").tap()
    expect(page.locator(".repeat-ask")).to_contain_text("A decline was already recorded at")
    assert live_server.count_sessions(ngozi) == 1
    page.get_by_text("Yes, this is another one: record it").tap()
    page.get_by_role("button", name="Save: declined").tap()
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))
    expect(page.locator("dl.facts")).to_contain_text("the nurse confirmed it is another one")
    assert live_server.count_sessions(ngozi) == 2


def test_a_refusing_resident_cannot_be_massaged_by_a_nurse(live_server, page):
    """The board says do not massage; the form's first screen says why and offers only a
    decline or a not-done, with 'deferred' already chosen."""
    sign_in(page, live_server, "nurse")
    row = board_row(page, "Agnes Byrne")
    expect(row.locator(".board-state")).to_have_text("Do not massage")
    row.tap()
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    expect(page.locator(".stop-banner")).to_contain_text("Do not give a hand massage")
    assert page.locator(".stop-banner").bounding_box()["y"] < 1280
    expect(page.locator("#session-form")).to_have_count(0)
    expect(page.locator("input[name=not_done_reason][value=deferred]")).to_be_checked()
    screenshot(page, "bedside-stop")
    page.get_by_role("button", name="Save: not done").tap()
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))
    expect(page.locator("p.outcome")).to_contain_text("Not done: deferred")


def test_the_board_shows_deferred_overdue_and_a_departed_resident_gone(live_server, page):
    """Deferred with its reason and end, overdue first, a departure gone the same day, search."""
    with live_server.app.app_context():
        today = local_today()
    peggy = live_server.resident_id("Peggy Hughes")
    edith = live_server.resident_id("Edith Marsh")
    manager_change(
        live_server,
        lambda manager: records.update(
            manager,
            peggy,
            {
                "defer_sessions": True,
                "defer_reason": "Chest infection",
                "defer_until": today + timedelta(days=2),
            },
            "GP visit",
        ),
    )
    manager_change(
        live_server,
        lambda manager: records.record_departure(manager, edith, today, "Moved to hospital"),
    )
    sign_in(page, live_server, "nurse")
    row = board_row(page, "Peggy Hughes")
    expect(row.locator(".board-state")).to_have_text("Deferred")
    expect(row).to_contain_text("(Chest infection) until")
    expect(board_row(page, "Edith Marsh")).to_have_count(0)
    states = page.locator("li.board-row .board-state").all_inner_texts()
    assert "Overdue" in states
    first_other = next(i for i, s in enumerate(states) if s not in ("Overdue", "Due"))
    assert all(s not in ("Overdue", "Due") for s in states[first_other:]), states
    # At least ten residents on one upright screen, every line a big target.
    rows = page.locator("li.board-row")
    fully_shown = page.evaluate(
        "Array.from(document.querySelectorAll('li.board-row'))"
        ".filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert fully_shown >= 10, fully_shown
    assert all(box["height"] >= 48 for box in (r.bounding_box() for r in rows.all()))
    screenshot(page, "bedside-board")
    page.locator("#board-search").fill("r11")
    expect(page.locator("li.board-row:visible")).to_have_count(1)
    expect(page.locator("li.board-row:visible")).to_contain_text("Room R11")
    page.locator("#board-search").fill("zzz")
    expect(page.locator("#board-no-match")).to_be_visible()


def test_next_checks_the_step_and_save_never_sends_the_nurse_back(live_server, page):
    """Next on an unanswered step shows each problem beside it and stays; one 'Rated by' tap
    covers the step; a rating answered with a number but no rater is named."""
    sign_in(page, live_server, "nurse")
    board_row(page, "Arthur Pemberton").tap()
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    page.locator("[data-step]:visible [data-next-step]").tap()
    expect(page.locator(".step-indicator")).to_have_text("Step 2 of 4")
    page.locator("[data-step]:visible [data-next-step]").tap()
    expect(page.locator(".step-indicator")).to_have_text("Step 2 of 4")
    errors = page.locator("[data-step]:visible [data-page-check]")
    expect(errors).to_have_count(3)
    expect(errors.first).to_have_text("Choose a rating, or say why there is none.")
    screenshot(page, "bedside-next-errors", both=False)
    page.locator("#relaxation_before-group .scale").get_by_text("5", exact=True).tap()
    page.locator("#mood_before-group .scale").get_by_text("Good", exact=True).tap()
    page.locator("#sleep_before-group .no-rating").get_by_text("Not assessed").tap()
    page.locator("[data-step]:visible [data-next-step]").tap()
    expect(page.locator("[data-step]:visible [data-page-check]")).to_have_text(
        ["Say who gave this rating.", "Say who gave this rating."]
    )
    page.locator("[data-step-rater]:visible").get_by_text("Staff observing").tap()
    expect(page.locator("input[name=relaxation_before_rater][value=observer]")).to_be_checked()
    expect(page.locator("input[name=mood_before_rater][value=observer]")).to_be_checked()
    page.locator("#mood_before-group .rater").get_by_text("The resident").tap()  # per rating
    page.locator("[data-step]:visible [data-next-step]").tap()
    expect(page.locator(".step-indicator")).to_have_text("Step 3 of 4")
    page.locator("[data-step]:visible [data-next-step]").tap()  # no duration yet
    expect(page.locator("#duration_minutes-group [data-page-check]")).to_have_text(
        "Give the duration in minutes."
    )
    page.get_by_role("button", name="15 minutes").tap()
    page.locator("[data-step]:visible [data-next-step]").tap()
    page.locator("[data-step-rater]:visible").get_by_text("The resident").tap()
    page.locator("#relaxation_after-group .scale").get_by_text("8", exact=True).tap()
    page.locator("#mood_after-group .scale").get_by_text("Good", exact=True).tap()
    page.get_by_role("button", name="Save session").tap()  # assent not chosen
    expect(page.locator(".step-indicator")).to_have_text("Step 4 of 4")
    expect(page.locator("#assent-group [data-page-check]")).to_have_text(
        "Choose how the resident took part."
    )
    page.locator("#assent-group").get_by_text("Accepted without words").tap()
    page.get_by_role("button", name="Save session").tap()
    page.wait_for_url(re.compile(r"/sessions/\d+\?saved="))
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("15 minutes")
    expect(facts).to_contain_text("accepted without words")
    expect(facts).to_contain_text("5 (observer) → 8")


@pytest.mark.parametrize("size", [LANDSCAPE], ids=["landscape"])
def test_the_main_button_stays_in_view_on_its_side(live_server, page, size):
    """At 1280x800 each step's Next (and Save) is on screen without scrolling."""
    page.set_viewport_size(size)
    sign_in(page, live_server, "nurse")
    board_row(page, "Frank Doyle").tap()
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    for _ in range(4):
        step = page.locator("#session-form [data-step]:visible")
        button = step.locator("[data-next-step]")
        if not button.count():
            button = page.get_by_role("button", name="Save session")
        box = button.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= size["height"], box
        if not step.locator("[data-next-step]").count():
            break
        for rating in step.locator("fieldset[data-rating]").all():
            rating.locator(".scale label").first.tap()
            rating.locator(".rater label").first.tap()
        if step.locator("#duration_minutes").count():
            page.get_by_role("button", name="10 minutes").tap()
        page.evaluate("window.scrollTo(0, 0)")
        button.tap()
    screenshot(page, "bedside-landscape-last-step", both=False)


def test_the_timer_signals_at_ten_minutes_and_keeps_the_screen_awake(live_server, page):
    """With the page's clock under the test's control: the chime, a vibration and a visible
    change at 10:00, the screen kept awake while it runs; stopped at 4 s, display and duration
    agree."""
    page.add_init_script(SIGNALS)
    sign_in(page, live_server, "nurse")
    board_row(page, "Frank Doyle").tap()
    page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    page.locator("[data-step]:visible [data-next-step]").tap()
    for rating in page.locator("#session-form [data-step]:visible fieldset[data-rating]").all():
        rating.locator(".scale label").first.tap()
        rating.locator(".rater label").first.tap()
    page.locator("[data-step]:visible [data-next-step]").tap()
    timer = page.locator("[data-timer]")
    timer.get_by_role("button", name="Start timer").tap()
    page.clock.fast_forward("00:04")
    timer.get_by_role("button", name="Stop and set duration").tap()
    # The fake clock also runs on in real time between steps: a slow machine adds a second or two.
    expect(timer.locator(".timer-display")).to_have_text(re.compile(r"^00:0[4-9]$"))
    expect(page.locator("#duration_minutes")).to_have_value("1")
    expect(timer.locator(".timer-status")).to_contain_text(
        re.compile(r"Stopped after 00:0[4-9]: duration 1 minute")
    )
    signals = page.evaluate("window.__signals")
    assert signals["wake"] == 1 and signals["released"] == 1, signals
    assert signals["play"] == 0 and signals["vibrate"] == []

    timer.get_by_role("button", name="Restart timer").tap()
    page.clock.fast_forward("09:50")  # ten seconds to spare for a slow machine's real time
    assert page.evaluate("window.__signals.play") == 0
    page.clock.fast_forward("00:11")
    expect(timer).to_have_attribute("data-signalled", "yes")
    expect(timer.locator(".timer-status")).to_contain_text("10 minutes are up")
    signals = page.evaluate("window.__signals")
    assert signals["play"] == 1 and signals["src"].endswith("/static/chime.wav"), signals
    assert signals["vibrate"] == [[300, 150, 300]], signals
    page.clock.fast_forward("01:00")
    assert page.evaluate("window.__signals.play") == 1  # once, not every tick
    timer.get_by_role("button", name="Stop and set duration").tap()
    expect(page.locator("#duration_minutes")).to_have_value("11")
    expect(timer.locator(".timer-display")).to_have_text(re.compile(r"^11:0\d$"))
    chime = page.request.get(live_server.url + "/static/chime.wav")
    assert chime.ok and chime.headers["content-type"].startswith("audio/")


def test_the_follow_up_names_the_night_and_keeps_the_rating_on_error(live_server, page):
    """Yesterday's massage is asked about as 'the night of <weekday date>'; a missing rater
    is shown on that card with the rating still chosen."""
    live_server.given_session_yesterday("Edith Marsh")
    sign_in(page, live_server, "nurse")
    page.goto(live_server.url + "/ward/follow-ups")
    with live_server.app.app_context():
        night = local_today() - timedelta(days=1)
    card = page.locator("section.panel", has_text="Edith Marsh")
    expect(card).to_contain_text(f"the night of {night:%A %-d %B}")
    card.locator(".scale").get_by_text("7", exact=True).tap()
    card.get_by_role("button", name="Save sleep for Edith Marsh").tap()
    card = page.locator("section.panel", has_text="Edith Marsh")
    expect(card.locator(".error")).to_have_text("Say who gave this rating.")
    expect(card.locator("input[value='7']")).to_be_checked()
    expect(card.locator("input[name$='sleep_after_rater']").first).to_be_focused()
    screenshot(page, "bedside-follow-up-error")
    card.locator(".rater").get_by_text("The resident", exact=True).tap()
    card.get_by_role("button", name="Save sleep for Edith Marsh").tap()
    expect(page.locator(".flash-success")).to_have_text("Sleep recorded for Edith Marsh.")
