"""A door card scanned on the ward board, to the resident's session open (the aim: 2 seconds).

The demo home under gunicorn with carelog's production settings; a manager prints Rowan's cards
and the first page is rendered at 200 dpi, as a printer would put it on paper. Chromium's fake
camera then films the first card (a Y4M video made from that page), and a nurse taps "Scan a
door card" on the board; separately, a barcode scanner that types sends the card's address and
Enter with nothing focused. Each is timed from the tap (or the first key) to the session form
drawn, ROUNDS times.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import sync_playwright

from bench import Table, data, machine, percentile
from carelog.residents.cards import card_code
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PORTRAIT, sign_in
from tests.browser.test_door_cards import filmed, printed_sheet
from tests.server import running_server

ROUNDS = 10
AIM_SECONDS = 2.0
SESSION_PAGE = re.compile(r"/residents/\d+/session$")


def _times(page, base: str, resident_id: int) -> tuple[list[float], list[float]]:
    camera, typed = [], []
    for _ in range(ROUNDS):
        page.goto(f"{base}/ward/")
        began = time.perf_counter()
        page.get_by_role("button", name="Scan a door card").click()
        page.wait_for_url(SESSION_PAGE, timeout=20_000)
        page.locator("h1").wait_for()
        camera.append(time.perf_counter() - began)
        page.goto(f"{base}/ward/")
        began = time.perf_counter()
        page.keyboard.type(f"{base}/cards/{card_code(resident_id)}", delay=3)
        page.keyboard.press("Enter")
        page.wait_for_url(SESSION_PAGE)
        page.locator("h1").wait_for()
        typed.append(time.perf_counter() - began)
    return camera, typed


def main() -> Table:
    with data.database("sqlite", name="door-cards") as url, tempfile.TemporaryDirectory() as tmp:
        data.demo_home(url)
        folder = Path(tmp)
        with running_server(url, workers=2, production_config=True) as base, sync_playwright() as p:
            server = SimpleNamespace(url=base)
            plain = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            manager = plain.new_page(viewport=PORTRAIT, has_touch=True)
            manager.set_default_timeout(20_000)
            video = filmed(printed_sheet(manager, server, folder), folder / "card.y4m")
            plain.close()
            camera_args = [
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ]
            browser = p.chromium.launch(executable_path=CHROMIUM, args=camera_args)
            nurse = browser.new_page(viewport=PORTRAIT, has_touch=True)
            nurse.set_default_timeout(20_000)
            sign_in(nurse, server, "nurse")
            resident_id = int(
                re.search(
                    r"/residents/(\d+)", nurse.locator("li.board-row a").first.get_attribute("href")
                ).group(1)
            )
            camera, typed = _times(nurse, base, resident_id)
            browser.close()
    table = Table(
        f"A door card scanned to the session open ({ROUNDS} rounds; {machine()})",
        ["how", "median s", "p90 s", "max s", f"aim {AIM_SECONDS:.0f} s"],
    )
    for how, times in (("tablet camera (jsQR)", camera), ("scanner that types", typed)):
        table.rows.append(
            [how, round(statistics.median(times), 2), round(percentile(times, 0.9), 2),
             round(max(times), 2), "met" if max(times) <= AIM_SECONDS else "MISSED"]
        )  # fmt: skip
    table.notes.append(
        "The camera films the printed card from the moment the dialog opens; the typing "
        "scanner's time includes typing the 40-character address at 3 ms a key."
    )
    return table
