"""The auditor's main paths in a real browser, with axe-core on every page they visit."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from carelog.audit import chain
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from tests.browser.conftest import screenshot, sign_in, sign_out
from tests.browser.test_pages_a11y import describe, serious_violations


def accessible(page: Page, name: str) -> None:
    """No serious or critical axe violations on this page, and a screenshot to look at."""
    found = serious_violations(page)
    assert not found, f"{name}:\n{describe(found)}"
    screenshot(page, f"auditor-{name}", both=False)


def entry_count(server) -> int:
    """How many entries the trail holds now."""
    with server.app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_auditor_reviews_the_trail_checks_integrity_and_reads_a_record(live_server, page):
    """Trail, a filter, an entry's values, integrity with a checkpoint, a resident's readers."""
    peggy = live_server.resident_id("Peggy Hughes")
    sign_in(page, live_server, "nurse")  # someone reads Peggy's record before the audit
    page.goto(f"{live_server.url}/residents/{peggy}")
    sign_out(page)

    sign_in(page, live_server, "auditor")
    expect(page).to_have_url(re.compile(r"/audit/$"))
    expect(page.locator("h1")).to_have_text("Audit trail")
    newest = page.locator("table.audit tbody tr").first
    expect(newest).to_contain_text("auth.sign_in")
    expect(newest.locator("td.sentence")).to_have_text("Ines Inspector signed in")
    accessible(page, "trail")

    page.select_option("#action", "resident.view")
    page.get_by_role("button", name="Show entries").tap()
    page.wait_for_url(re.compile(r"action=resident\.view"))
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.sentence")).to_have_text(
        "Niamh Byrne opened the record of Peggy (Margaret Hughes) (details)"
    )
    rows.first.get_by_text("Values").tap()
    expect(rows.first.locator("dl")).to_contain_text("details")
    accessible(page, "trail-filtered")

    page.get_by_role("link", name="Check integrity").tap()
    expect(page.locator(".big-status")).to_have_text("Verified now: the chain is intact.")
    with live_server.app.app_context():
        digest, count = chain.head(db.session)
    expect(page.locator("dl.facts")).to_contain_text(digest)
    accessible(page, "integrity")

    page.fill("#checkpoint", f"{digest}:{count}")
    page.get_by_role("button", name="Check", exact=True).tap()
    expect(page.locator(".big-status")).to_have_text("Verified now: the chain is intact.")
    expect(page.locator("dl.facts")).to_contain_text(f"{digest}:{count}")
    page.fill("#checkpoint", f"{'0' * 64}:{count}")
    page.get_by_role("button", name="Check", exact=True).tap()
    expect(page.locator(".big-status")).to_contain_text("does NOT match that checkpoint")
    accessible(page, "integrity-wrong-checkpoint")

    page.goto(f"{live_server.url}/residents/{peggy}")
    page.get_by_role("link", name="Audit record").tap()
    readers = page.locator("section", has_text="Who viewed, printed or exported")
    expect(readers).to_contain_text("Niamh Byrne opened the record of Peggy (Margaret Hughes)")
    expect(readers).to_contain_text("Ines Inspector opened the record")
    accessible(page, "resident-record")

    before = entry_count(live_server)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export (CSV)").tap()
    exported = download.value.path().read_bytes().decode("utf-8-sig")
    assert exported.startswith("id,recorded_at,actor_id")
    assert "Margaret" not in exported.split("\n", 1)[0]
    assert entry_count(live_server) == before + 1  # the export is itself in the trail


def test_auditor_sees_no_way_to_change_anything(live_server, page):
    """No form on the auditor's pages posts anywhere but sign-out (and the report-file check,
    which only reads); reports only read."""
    sign_in(page, live_server, "auditor")
    peggy = live_server.resident_id("Peggy Hughes")
    for path in ("/audit/", "/audit/integrity", f"/residents/{peggy}", "/ward/", "/residents/"):
        page.goto(live_server.url + path)
        actions = page.locator("form[method=post]").evaluate_all(
            "forms => forms.map(f => new URL(f.action).pathname)"
        )
        # Checking a report file posts the file to be read; it changes nothing.
        assert set(actions) <= {"/auth/sign-out", "/audit/integrity/report"}, (path, actions)
    page.goto(f"{live_server.url}/reports/")
    accessible(page, "reports")
