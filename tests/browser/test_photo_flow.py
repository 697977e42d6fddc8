"""A care manager adds a resident's photo from the tablet; nurses see it on the board and on
the first screen of the session."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in, sign_out


def a_camera_photo() -> bytes:
    image = Image.new("RGB", (1200, 1600), (90, 120, 160))
    image.paste((230, 200, 180), (400, 300, 800, 800))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def loaded(img) -> bool:
    return img.evaluate("img => img.complete && img.naturalWidth > 0")


def test_a_photo_added_by_the_manager_shows_on_the_board_and_the_form(live_server, page):
    arthur = live_server.resident_id("Arthur Pemberton")
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/residents/{arthur}")
    page.get_by_role("link", name="Add a photo").tap()
    page.set_input_files("#photo", files=[
        {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": a_camera_photo()}
    ])  # fmt: skip
    page.get_by_text("Their representative", exact=True).tap()
    page.get_by_text("They agreed to this photo being kept").tap()
    page.fill("#reason", "Agreed with his son at the care review")
    page.get_by_role("button", name="Save the photo").tap()
    expect(page.locator(".flash-success")).to_contain_text("photo of Arthur Pemberton is saved")
    expect(page.locator("h1 img.resident-photo")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, "nurse")
    row = page.locator("li.board-row", has_text="Arthur Pemberton")
    photo = row.locator("img.resident-photo")
    expect(photo).to_be_visible()
    assert loaded(photo)
    assert page.locator("li.board-row", has_text="Edith Marsh").locator("img").count() == 0
    screenshot(page, "44-board-with-photos", both=False)
    row.tap()
    form_photo = page.locator("h1 img.resident-photo")
    expect(form_photo).to_be_visible()
    assert loaded(form_photo)
    assert form_photo.get_attribute("alt") == "Photo of Arthur Pemberton"

    # A file that is not a photo is refused in words, and the photo shown stays.
    sign_out(page)
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/residents/{arthur}/photo/edit")
    page.set_input_files("#photo", files=[
        {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 hello"}
    ])  # fmt: skip
    page.get_by_text("The resident", exact=True).tap()
    page.get_by_text("They agreed to this photo being kept").tap()
    page.fill("#reason", "A better one")
    page.get_by_role("button", name="Save the photo").tap()
    expect(page.locator("#photo-error")).to_contain_text("not a photo carelog can read")
    assert loaded(page.locator("img.resident-photo"))
