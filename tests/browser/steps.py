"""Moving through the session form's steps as a nurse would: Next and Back."""

from __future__ import annotations

from playwright.sync_api import Page


def reveal(page: Page, target) -> None:
    """Tap Next (or Back) through the form's steps until the target is on screen."""
    for _ in range(6):
        if target.is_visible():
            return
        step = int(page.locator("#session-form").get_attribute("data-current-step") or 0)
        wanted = page.locator("#session-form [data-step]").filter(has=target)
        order = page.locator("#session-form [data-step]").evaluate_all(
            "(steps, el) => steps.indexOf(el)", wanted.element_handle()
        )
        direction = "Back" if order < step else "Next"
        page.locator("#session-form [data-step]:visible .step-nav").get_by_role(
            "button", name=direction
        ).tap()
    raise AssertionError("could not reach the step holding the target")


def each_step(page: Page):
    """Yield once per step of the session form, tapping Next in between."""
    yield
    while True:
        following = page.locator("#session-form [data-step]:visible [data-next-step]")
        if not following.count():
            return
        following.tap()
        yield


def to_last_step(page: Page) -> None:
    """Tap Next until the step with Save."""
    for _ in each_step(page):
        pass
