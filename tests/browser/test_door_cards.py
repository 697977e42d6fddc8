"""A printed door card scanned on the board: by the tablet's camera (a fake camera that films
the card as printed) and by a barcode scanner that types."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PORTRAIT, screenshot, sign_in

CARD_LEFT_TOP = (0.05, 0.05)  # where the first card sits on the page, as shares of its size


def printed_sheet(page, server, tmp_path: Path) -> Path:
    """The manager's sheet of Rowan's door cards, as printed: the PDF's first page at 200 dpi."""
    sign_in(page, server, "manager")
    page.get_by_role("link", name="Ward board").tap()
    page.get_by_role("navigation", name="Wards").get_by_role("link", name="Rowan").tap()
    with page.expect_download() as download:
        page.get_by_role("link", name="Print door cards").click()
    pdf = tmp_path / "cards.pdf"
    download.value.save_as(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "sheet")],
        check=True,
    )
    return next(tmp_path.glob("sheet*.png"))


def filmed(picture: Path, out: Path, frames: int = 20) -> Path:
    """The first card on the sheet as a camera would film it: a Y4M video of the card held
    still, for Chromium's fake camera."""
    sheet = Image.open(picture).convert("RGB")
    width, height = sheet.size
    card = sheet.crop((0, 0, width // 2, height // 4))  # the top left card and its margin
    card = card.resize((640, 480))
    y, cb, cr = card.convert("YCbCr").split()
    chroma = (320, 240)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(chroma).tobytes() + cr.resize(chroma).tobytes()
    out.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + frame * frames)
    return out


def test_a_printed_card_filmed_by_the_camera_opens_the_session(
    live_server, page, browser, tmp_path
):
    sheet = printed_sheet(page, live_server, tmp_path)
    video = filmed(sheet, tmp_path / "card.y4m")
    # A second Chromium, whose fake camera films the printed card.
    camera_args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with_camera = browser.browser_type.launch(executable_path=CHROMIUM, args=camera_args)
    try:
        context = with_camera.new_context(viewport=PORTRAIT, has_touch=True, locale="en-GB")
        context.set_default_timeout(15_000)
        tablet = context.new_page()
        sign_in(tablet, live_server, "nurse")
        tablet.get_by_role("button", name="Scan a door card").tap()
        expect(tablet.locator("#camera-scan")).to_be_visible()
        # the first card is the lowest room on the ward: R01, Peggy Hughes
        tablet.wait_for_url(re.compile(r"/residents/\d+/session$"), timeout=15_000)
        expect(tablet.locator("h1")).to_contain_text("Peggy Hughes")
        screenshot(tablet, "43-opened-by-door-card", both=False)
    finally:
        with_camera.close()


def test_a_scanner_that_types_opens_the_session_and_a_foreign_card_says_why(live_server, page):
    from carelog.residents.cards import card_code

    sign_in(page, live_server, "nurse")
    arthur = live_server.resident_id("Arthur Pemberton")
    # A keyboard-wedge scanner types the card's address and Enter, fast, with nothing focused.
    page.keyboard.type(f"{live_server.url}/cards/{card_code(arthur)}", delay=5)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/residents/{arthur}/session$"))
    expect(page.locator("h1")).to_contain_text("Arthur Pemberton")

    page.get_by_role("link", name="Ward board").tap()
    willow = live_server.resident_id("Łucja Nowak")
    page.fill("#board-search", card_code(willow))
    page.press("#board-search", "Enter")
    expect(page.locator(".flash-error")).to_contain_text("a resident of Willow ward, not Rowan")
