"""axe-core on every page of the nurse's flow and the main pages of each role; touch targets.

One server on a fresh copy of the demo home serves the whole module; each role signs in once
in its own browser context. Every page is also photographed at tablet size in both
orientations into /tmp/carelog-shots/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from sqlalchemy import select

from carelog.accounts.models import User, Ward
from carelog.extensions import db
from tests.browser.conftest import LANDSCAPE, PORTRAIT, new_tablet, screenshot, sign_in
from tests.browser.steps import each_step, reveal

BLOCKING_IMPACTS = {"serious", "critical"}
MIN_TARGET_PX = 44
_axe = Axe()


@dataclass(frozen=True)
class Screen:
    """A page to check: who looks at it, its address, and what to do there first."""

    role: str | None
    name: str
    path: str
    then: Callable[[Page], None] | None = None
    at_least: int = 0


def _next_unanswered(page: Page) -> None:
    page.locator("[data-step]:visible [data-next-step]").tap()  # step 1: precautions read
    page.locator("[data-step]:visible [data-next-step]").tap()  # step 2: nothing answered
    page.locator("[data-page-check]").first.wait_for()


def _follow_up_without_rater(page: Page) -> None:
    card = page.locator("section.panel", has_text="Edith Marsh")
    card.locator(".scale").get_by_text("7", exact=True).tap()
    card.get_by_role("button", name="Save sleep for Edith Marsh").tap()
    page.locator("section.panel.has-error .error").first.wait_for()


def _decline(page: Page) -> None:
    page.get_by_text("Resident declined…").tap()
    page.get_by_role("button", name="Save: declined").tap()
    page.get_by_text("Session saved.").wait_for()


def _restore_a_draft(page: Page) -> None:
    group = page.locator("#relaxation_before-group")
    reveal(page, group)
    group.locator(".scale").get_by_text("6", exact=True).tap()
    page.reload()
    page.locator(".draft-notice").wait_for()


def _leave_a_draft(page: Page) -> None:
    page.locator(".board-row").first.tap()
    group = page.locator("#relaxation_before-group")
    reveal(page, group)
    group.locator(".scale").get_by_text("6", exact=True).tap()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ward board").tap()
    page.locator("#draft-notice a").wait_for()


def _wrong_password(page: Page) -> None:
    page.fill("#username", "nurse")
    page.fill("#password", "not-the-password")
    page.get_by_role("button", name="Sign in").tap()
    page.locator(".flash-error").wait_for()


def _empty_consent(page: Page) -> None:
    page.get_by_role("button", name="Record consent").tap()
    page.locator(".error").first.wait_for()


def _enrol_this_tablet(page: Page) -> None:
    if page.locator("#name").count():
        page.fill("#name", "Rowan tablet 1")
        page.select_option("#ward_id", label="Rowan")
        page.get_by_role("button", name="Enrol this tablet").tap()
        page.locator(".flash-success").wait_for()


def _switch_nurse(page: Page) -> None:
    _enrol_this_tablet(page)
    page.get_by_role("link", name="Switch nurse").tap()
    page.get_by_role("heading", name="Switch nurse").wait_for()


SCREENS = [
    Screen(None, "sign-in", "/auth/sign-in"),
    Screen(None, "sign-in-failed", "/auth/sign-in", _wrong_password),
    Screen(None, "sign-in-after-idle", "/auth/sign-in?reason=idle"),
    Screen("nurse", "board", "/ward/"),
    Screen("nurse", "board-with-draft", "/ward/", _leave_a_draft),
    Screen("nurse", "session-form", "/residents/{peggy}/session"),
    Screen("nurse", "session-form-errors", "/residents/{peggy}/session", _next_unanswered),
    Screen("nurse", "session-form-stop", "/residents/{agnes}/session"),
    Screen("nurse", "session-form-restored", "/residents/{arthur}/session", _restore_a_draft),
    Screen("nurse", "session-form-precautions", "/residents/{zoe}/session"),
    Screen("nurse", "declined-saved", "/residents/{ngozi}/session", _decline),
    Screen("nurse", "session", "/sessions/{edith_session}"),
    Screen("nurse", "history", "/residents/{edith}/sessions"),
    Screen("nurse", "follow-ups", "/ward/follow-ups"),
    Screen("nurse", "follow-ups-error", "/ward/follow-ups", _follow_up_without_rater),
    Screen("nurse", "residents", "/residents/"),
    Screen("nurse", "resident", "/residents/{peggy}"),
    Screen("nurse", "not-found", "/residents/{willow_resident}"),
    Screen("manager", "overview", "/manager/"),
    Screen("manager", "board", "/ward/"),
    Screen("manager", "residents", "/residents/"),
    Screen("manager", "resident", "/residents/{zoe}"),
    Screen("manager", "consent-form", "/residents/{peggy}/consent"),
    Screen("manager", "consent-form-errors", "/residents/{peggy}/consent", _empty_consent),
    Screen("manager", "resident-form", "/residents/{zoe}/edit"),
    Screen("manager", "new-resident", "/residents/new"),
    Screen("manager", "departure-form", "/residents/{peggy}/departure"),
    Screen("auditor", "overview", "/manager/"),
    Screen("manager", "ward-charts", "/manager/wards/{rowan_id}/charts"),
    Screen("manager", "resident-year", "/residents/{peggy}?months=12"),
    Screen("manager", "ward-trends", "/manager/wards/{rowan_id}/trends"),
    Screen("nurse", "resident-trends", "/residents/{peggy}/trends"),
    Screen("manager", "plan-form", "/residents/{peggy}/plan"),
    Screen("auditor", "trail", "/audit/"),
    Screen("auditor", "record", "/audit/residents/{peggy}"),
    Screen("manager", "reports", "/reports/"),
    Screen("auditor", "residents", "/residents/"),
    Screen("auditor", "board", "/ward/"),
    Screen("auditor", "history", "/residents/{edith}/sessions"),
    Screen("admin", "users", "/admin/users"),
    Screen("admin", "new-user", "/admin/users/new"),
    Screen("admin", "edit-user", "/admin/users/{nurse_id}"),
    Screen("admin", "wards", "/admin/wards"),
    Screen("admin", "ward-form", "/admin/wards/{rowan_id}"),
    Screen("manager", "tablets", "/tablets/", _enrol_this_tablet),
    Screen("manager", "switch-nurse", "/tablets/", _switch_nurse),
    Screen("nurse", "pin-form", "/tablet/pin"),
    Screen("manager", "photo-form", "/residents/{peggy}/photo/edit"),
    Screen("nurse", "card-not-ours", "/cards/scan?code=not-a-card"),
]


@pytest.fixture(scope="module")
def places(module_server) -> dict:
    """Ids the screens' addresses need, and a session from yesterday to show."""
    server = module_server
    with server.app.app_context():
        nurse_id = db.session.scalar(select(User.id).where(User.username == "nurse"))
        rowan_id = db.session.scalar(select(Ward.id).where(Ward.name == "Rowan"))
    return {
        "peggy": server.resident_id("Peggy Hughes"),
        "arthur": server.resident_id("Arthur Pemberton"),
        "agnes": server.resident_id("Agnes Byrne"),
        "zoe": server.resident_id("Zoë Fairbanks"),
        "ngozi": server.resident_id("Ngozi Adeyemi"),
        "edith": server.resident_id("Edith Marsh"),
        "willow_resident": server.resident_id("Łucja Nowak"),
        "edith_session": server.given_session_yesterday("Edith Marsh"),
        "nurse_id": nurse_id,
        "rowan_id": rowan_id,
    }


@pytest.fixture(scope="module")
def tab_for(browser, module_server) -> Iterator[Callable[[str | None], Page]]:
    """One signed-in tab per role (or anonymous), opened the first time it is asked for."""
    tabs: dict[str | None, Page] = {}
    contexts = []

    def get(role: str | None) -> Page:
        if role not in tabs:
            context = new_tablet(browser)
            contexts.append(context)
            tabs[role] = context.new_page()
            if role:
                sign_in(tabs[role], module_server, role)
        tab = tabs[role]
        if tab.url.startswith(module_server.url):
            tab.evaluate("localStorage.clear()")  # no draft from an earlier screen
        return tab

    yield get
    for context in contexts:
        context.close()


def serious_violations(page: Page) -> list[dict]:
    """axe-core's violations with impact serious or critical."""
    results = _axe.run(page)
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    """Violation ids, impacts and the offending nodes, for a failure message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}: {node['html'][:160]}")
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"        {summary[:300]}")
    return "\n".join(lines)


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s.role or 'anonymous'}-{s.name}")
def test_no_serious_accessibility_violations(screen, module_server, places, tab_for):
    """No serious or critical axe-core violation, in portrait or landscape."""
    page = tab_for(screen.role)
    response = page.goto(module_server.url + screen.path.format(**places))
    expected_status = 404 if screen.name in ("not-found", "card-not-ours") else 200
    assert response.status == expected_status, page.url
    if screen.then:
        screen.then(page)
    found = {}
    for orientation, size in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
        page.set_viewport_size(size)
        found[orientation] = serious_violations(page)
    page.set_viewport_size(PORTRAIT)
    screenshot(page, f"a11y-{screen.role or 'anonymous'}-{screen.name}")
    report = "\n".join(
        f"[{orientation}] {describe(violations)}"
        for orientation, violations in found.items()
        if violations
    )
    if report:
        pytest.fail(f"axe-core on {screen.path}:\n{report}", pytrace=False)


SMALL_TARGETS_JS = """
(minimum) => {
  const small = [];
  let measured = 0;
  const controls = document.querySelectorAll(
    "a[href], button, input, select, textarea, summary, [role=button]");
  for (const el of controls) {
    if (el.type === "hidden") continue;
    // A visually hidden radio or checkbox is tapped through the label that wraps it.
    const label = el.matches("input") ? el.closest("label") : null;
    const target = label || el;
    const box = target.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not rendered (hidden)
    // Off the page until focused, like the skip link (boxes are relative to the viewport).
    if (box.right + window.scrollX <= 0 || box.bottom + window.scrollY <= 0) continue;
    measured += 1;
    if (box.width >= minimum && box.height >= minimum) continue;
    const name = el.id ? "#" + el.id : el.name ? `[name=${el.name}]` : "";
    const value = el.value && el.matches("input") ? `=${el.value}` : "";
    small.push({
      element: el.tagName.toLowerCase() + name + value,
      measured: label ? "its label" : "itself",
      text: (target.innerText || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 60),
      className: target.className,
      width: Math.round(box.width),
      height: Math.round(box.height),
    });
  }
  return {small, measured};
}
"""

TOUCH_SCREENS = [
    Screen("nurse", "board", "/ward/", at_least=12),
    Screen("nurse", "board-with-draft", "/ward/", _leave_a_draft, at_least=13),
    Screen("nurse", "session-form", "/residents/{zoe}/session", at_least=90),
    Screen("nurse", "session-form-errors", "/residents/{zoe}/session", _next_unanswered, 90),
]


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
@pytest.mark.parametrize("screen", TOUCH_SCREENS, ids=lambda s: s.name)
def test_touch_targets_are_big_enough_for_gloves(
    screen, orientation, module_server, places, tab_for
):
    """Every button, link and input on the board and the session form is at least 44x44 px."""
    page = tab_for(screen.role)
    page.set_viewport_size(PORTRAIT if orientation == "portrait" else LANDSCAPE)
    try:
        page.goto(module_server.url + screen.path.format(**places))
        if screen.then:
            screen.then(page)
        found = {"small": [], "measured": 0}
        for _ in each_step(page):  # the session form shows one step at a time
            # The timer's Pause and Stop appear once it runs: measure them too.
            if page.locator("[data-timer-start]").is_visible():
                page.locator("[data-timer-start]").tap()
            step = page.evaluate(SMALL_TARGETS_JS, MIN_TARGET_PX)
            found["small"] += step["small"]
            found["measured"] += step["measured"]
    finally:
        page.set_viewport_size(PORTRAIT)
    assert found["measured"] >= screen.at_least, found  # the check looked at the page
    small = found["small"]
    if small:
        lines = [
            f"  {s['element']} (measured {s['measured']}, class {s['className']!r}) "
            f"{s['width']}x{s['height']}: {s['text']!r}"
            for s in small
        ]
        pytest.fail(
            f"{len(small)} targets under {MIN_TARGET_PX}x{MIN_TARGET_PX} px on {screen.path}:\n"
            + "\n".join(lines),
            pytrace=False,
        )


TABLE_SCREENS = [
    Screen("nurse", "history", "/residents/{edith}/sessions"),
    Screen("admin", "users", "/admin/users"),
    Screen("admin", "wards", "/admin/wards"),
]


@pytest.mark.parametrize("screen", TABLE_SCREENS, ids=lambda s: f"{s.role}-{s.name}")
def test_pages_with_tables_do_not_scroll_sideways(screen, module_server, places, tab_for):
    """A wide table may scroll inside itself; the page around it must fit the tablet."""
    page = tab_for(screen.role)
    page.goto(module_server.url + screen.path.format(**places))
    widths = {}
    try:
        for orientation, size in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
            page.set_viewport_size(size)
            widths[orientation] = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
    finally:
        page.set_viewport_size(PORTRAIT)
    too_wide = {o: w for o, w in widths.items() if w[0] > w[1]}
    assert not too_wide, f"page width > viewport width on {screen.path}: {too_wide}"
