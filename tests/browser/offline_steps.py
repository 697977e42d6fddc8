"""Steps for the tablet with no connection: waiting until it can work offline, entries made on
the kept pages, and looking into what the tablet keeps."""

from __future__ import annotations

import re
import time

from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

WAITING = "[data-outbox-count]"
STORED = """async () => {
  const found = {localStorage: {}, indexedDB: {}, caches: {}};
  for (let i = 0; i < localStorage.length; i++) {
    const name = localStorage.key(i);
    found.localStorage[name] = localStorage.getItem(name);
  }
  for (const info of await indexedDB.databases()) {
    const db = await new Promise((ok, no) => {
      const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = no;
    });
    for (const store of db.objectStoreNames) {
      found.indexedDB[info.name + "/" + store] = await new Promise((ok) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => ok(JSON.stringify(r.result));
      });
    }
    db.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      found.caches[name + " " + request.url] = await (await cache.match(request)).text();
    }
  }
  return found;
}"""


def until(check, seconds: float = 10, what: str = "", page: Page | None = None) -> None:
    """Poll a check (a callable) until it is true. With a page, wait through it: Playwright
    runs route handlers only while the test is in one of its calls."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def ready_to_work_offline(page: Page) -> None:
    """The service worker looks after the page and the nurse's roster and key are kept."""
    until(
        lambda: page.evaluate(
            """async () => !!navigator.serviceWorker.controller
              && !!localStorage.getItem("carelog:roster:" + document.body.dataset.user)
              && (await new Promise((ok) => {
                   const r = indexedDB.open("carelog-offline");
                   r.onsuccess = () => { const s = r.result.transaction("keys").objectStore("keys")
                     .count(); s.onsuccess = () => { ok(s.result > 0); r.result.close(); }; };
                   r.onerror = () => ok(false);
                 }))"""
        ),
        what="ready to work offline",
    )


def entries_on_tablet(page: Page) -> list[dict]:
    """What the outbox keeps: key, nurse, state (the sealed content is not readable)."""
    return page.evaluate(
        """() => new Promise((ok) => {
             const r = indexedDB.open("carelog-offline");
             r.onsuccess = () => {
               const q = r.result.transaction("entries").objectStore("entries").getAll();
               q.onsuccess = () => { ok(q.result.map((e) => ({key: e.key, user: e.user,
                 state: e.state}))); r.result.close(); };
             };
           })"""
    )


def stored(page: Page) -> dict:
    """Everything the tablet keeps for the site: localStorage, IndexedDB and the caches."""
    return page.evaluate(STORED)


def open_on_board(page: Page, name: str) -> None:
    page.locator(".board-row").filter(has_text=name).first.locator(".board-link").tap()
    try:
        page.wait_for_url(re.compile(r"/residents/\d+/session$"))
    except PlaywrightTimeoutError as stuck:  # say where the tablet was, for the CI log
        state = page.evaluate(
            "() => ({title: document.title, online: navigator.onLine,"
            " sw: !!navigator.serviceWorker.controller,"
            " text: document.body.innerText.slice(0, 300)})"
        )
        raise AssertionError(f"tapping {name} opened nothing: {page.url} {state}") from stuck
    expect(page.locator("h1")).to_contain_text(name)


def decline(page: Page, name: str, note: str = "") -> None:
    """From the board: the resident, "Resident declined…", a note, save; back on the board."""
    open_on_board(page, name)
    page.get_by_text("Resident declined…").tap()
    if note:
        page.fill("#decline_note", note)
    page.get_by_role("button", name="Save: declined").tap()
    page.wait_for_url(re.compile(r"/ward/$"))


def not_done(page: Page, name: str, reason: str) -> None:
    """From the board: the resident, "Not done…", other, the reason, save."""
    open_on_board(page, name)
    details = page.locator("details").filter(has=page.locator("#not_done_reason-group"))
    if not details.evaluate("d => d.open"):  # open already for a resident not to be massaged
        page.get_by_text("Not done…").tap()
    page.locator("#not_done_reason-group").get_by_text("Other", exact=True).tap()
    page.fill("#other_reason", reason)
    page.get_by_role("button", name="Save: not done").tap()
    page.wait_for_url(re.compile(r"/ward/$"))


def go_offline(context: BrowserContext, page: Page) -> None:
    context.set_offline(True)
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/ward/")
    expect(page).to_have_title(re.compile("offline"))
