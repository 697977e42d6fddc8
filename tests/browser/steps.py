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
        if direction == "Next":
            answer_visible_step(page)  # Next checks the step: answer what is still empty
        page.locator("#session-form [data-step]:visible .step-nav").get_by_role(
            "button", name=direction
        ).tap()
    raise AssertionError("could not reach the step holding the target")


def answer_visible_step(page: Page) -> None:
    """Answer what the visible step requires with its first choices, so that Next moves on."""
    step = page.locator("#session-form [data-step]:visible")
    for rating in step.locator("fieldset[data-rating]").all():
        if not rating.locator(".scale input:checked, .no-rating input:checked").count():
            rating.locator(".scale label").first.tap()
        if not rating.locator(".rater input:checked").count():
            rating.locator(".rater label").first.tap()
    duration = step.locator("#duration_minutes")
    if duration.count() and not duration.input_value():
        step.get_by_role("button", name="10 minutes").tap()


def each_step(page: Page):
    """Yield once per step of the session form, answering it and tapping Next in between."""
    yield
    while True:
        following = page.locator("#session-form [data-step]:visible [data-next-step]")
        if not following.count():
            return
        before = page.locator("#session-form").get_attribute("data-current-step")
        answer_visible_step(page)
        following.tap()
        after = page.locator("#session-form").get_attribute("data-current-step")
        assert after != before, "Next did not move on: the step still has something to answer"
        yield


def to_last_step(page: Page) -> None:
    """Tap Next until the step with Save."""
    for _ in each_step(page):
        pass
