"""Records that stand as they were: a report prints the facts in force during its month, a month
in progress says so, a departure cannot precede recorded sessions, and a printout can be proven
to be exactly what carelog made."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select

from carelog.audit.models import AuditEntry
from carelog.extensions import db
from carelog.reports.month import Month
from carelog.residents import records
from tests.helpers.pages import text
from tests.helpers.records import (
    actor,
    admit_consenting,
    local_time,
    no_session_content,
    nurse_ward,
    record,
    record_given,
    refuses_from,
    today,
    user_id,
    ward_id,
)
from tests.test_reports_data import flat, pdf_pages, qpdf_check


def _this_and_last_month(app) -> tuple[Month, Month]:
    now = today(app)
    last = now.replace(day=1) - timedelta(days=1)
    return Month(now.year, now.month), Month(last.year, last.month)


def _pdf(client, resident_id: int, month: Month):
    return client.get(f"/reports/resident.pdf?month={month}&resident_id={resident_id}")


def _admit_with_history(app) -> int:
    """Admitted 60 days ago to Rowan, room R03, target 3, consenting; changed today to Willow,
    room R10, light pressure only, target 2, allergy, and a new decision: does not consent."""
    manager = actor(app, "manager")
    admitted = today(app) - timedelta(days=60)
    resident_id = admit_consenting(app, "Edith", "Asof", "R03", admitted)
    with app.app_context():
        records.update(
            manager, resident_id,
            {"room": "R10", "ward_id": ward_id(app, "Willow"), "light_pressure_only": True,
             "sessions_per_week": 2, "allergies": "Nut oil"},
            "Moved after a fall; GP advised light pressure",
        )  # fmt: skip
    refuses_from(app, resident_id, today(app))
    return resident_id


def test_a_past_month_prints_the_facts_in_force_then(app, signed_in, tmp_path):
    """Last month's report, printed today after room, ward, precautions, target and consent
    changed: the old facts, not today's."""
    resident_id = _admit_with_history(app)
    this_month, last_month = _this_and_last_month(app)
    response = _pdf(signed_in("manager"), resident_id, last_month)
    assert response.status_code == 200, text(response)
    qpdf_check(response.data, tmp_path)
    first = flat(pdf_pages(response.data)[0])
    assert flat("Room R03") in first or flat("RoomR03") in first
    assert "R10" not in first and "Willow" not in first
    assert flat("Light pressure only") not in first and "Nutoil" not in first
    assert flat("3 a week") in first
    assert "DOESNOTCONSENT" not in first
    assert flat(f"Admitted {(today(app) - timedelta(days=60)):%-d %b %Y}") in first


def test_this_month_lists_the_changes_with_their_date_and_reason(app, signed_in):
    """The month the changes happened in shows the record as the month began, then each change
    with its date and reason; the consent decision too."""
    resident_id = _admit_with_history(app)
    this_month, _ = _this_and_last_month(app)
    response = _pdf(signed_in("manager"), resident_id, this_month)
    assert response.status_code == 200
    first = flat(pdf_pages(response.data)[0])
    assert flat("Changes during the month") in first
    assert flat("Room: R03 → R10") in first
    assert flat("Light pressure only: no → yes") in first
    assert flat("Weekly target: 3 → 2") in first
    assert flat("Why: Moved after a fall; GP advised light pressure") in first
    # In the header on the 1st, else among the changes; a refusal is not printed as a scope.
    assert flat("DOES NOT CONSENT to hand massage") in first
    assert flat("Scope: DOES NOT") not in first


def test_a_month_in_progress_is_labelled_and_a_future_month_refused(app, signed_in):
    resident_id = _admit_with_history(app)
    this_month, _ = _this_and_last_month(app)
    manager = signed_in("manager")
    pages = pdf_pages(_pdf(manager, resident_id, this_month).data)
    now = today(app)
    assert all(f"figures to {now.day} {now:%b} (month in progress)" in page for page in pages)
    following = Month.parse(f"{(now.replace(day=28) + timedelta(days=5)):%Y-%m}")
    refused = _pdf(manager, resident_id, following)
    assert refused.status_code == 400
    assert "That month has not begun yet" in text(refused)


def test_a_departure_before_recorded_sessions_is_refused_naming_them(app, signed_in):
    """Leaving on a day before sessions that are recorded is refused, naming the sessions; the
    resident stays in the home."""
    resident_id = _admit_with_history(app)
    when = local_time(app, today(app) - timedelta(days=3))
    record_given(app, resident_id, when)
    manager = signed_in("manager")
    response = manager.submit(
        f"/residents/{resident_id}/departure",
        {"departed_on": (today(app) - timedelta(days=10)).isoformat(),
         "departure_reason": "Moved to hospital"},
    )  # fmt: skip
    assert response.status_code == 200
    page = text(response)
    assert "Sessions are recorded after this date" in page
    assert f"{when:%-d %b %Y}" in page
    with app.app_context():
        from carelog.residents.models import Resident

        assert db.session.get(Resident, resident_id).departed_on is None


def _report_entries(app, report_id: str) -> list[AuditEntry]:
    with app.app_context():
        found = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "report.download", AuditEntry.entity_id == report_id
            )
        ).all()
        db.session.expunge_all()
        return list(found)


def _report_id(pdf: bytes) -> str:
    import re

    found = re.search(r"Report ([0-9a-f-]{36})", pdf_pages(pdf)[0])
    assert found, "the report id is printed"
    return found[1]


def test_a_printout_is_proven_and_a_changed_byte_is_not(app, signed_in, tmp_path):
    """The download's entry holds the report id, month, residents and the PDF's SHA-256; the
    integrity page and verify-report accept the file, and refuse it with one byte changed."""
    import hashlib

    from tests.test_reports_data import cli

    resident_id = _admit_with_history(app)
    _, last_month = _this_and_last_month(app)
    pdf = _pdf(signed_in("manager"), resident_id, last_month).data
    report_id = _report_id(pdf)
    [entry] = _report_entries(app, report_id)
    assert entry.new["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert (entry.new["month"], entry.resident_id) == (str(last_month), resident_id)
    assert entry.new["checkpoint"] in flat(pdf_pages(pdf)[0])

    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(pdf)
    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    bad.write_bytes(bytes(changed))
    accepted = cli(app, "audit", "verify-report", str(good))
    assert accepted.exit_code == 0, accepted.output
    assert f"MADE BY CARELOG: report {report_id}" in accepted.output
    assert "The trail still holds" in accepted.output
    refused = cli(app, "audit", "verify-report", str(bad))
    assert refused.exit_code == 1 and "NOT FOUND" in refused.output

    auditor = signed_in("auditor")
    unknown = "carelog has no record of making exactly this file"
    for data, words in ((pdf, "carelog made exactly this file"), (bytes(changed), unknown)):
        page = auditor.submit(
            "/audit/integrity/report",
            {"pdf": (io.BytesIO(data), "report.pdf")},
            page="/audit/integrity",
            content_type="multipart/form-data",
        )
        assert page.status_code == 200
        assert words in text(page)


def _qr_codes(pdf: bytes, tmp_path) -> list[str]:
    """What a phone reads from the QR codes on the first page (zbarimg on a 300 dpi render)."""
    import shutil
    import subprocess

    assert shutil.which("zbarimg"), "zbar-tools is needed: run `make system-packages`"
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-png",
                    str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)  # fmt: skip
    [png] = tmp_path.glob("page*.png")
    found = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
    return found.stdout.split()


def test_the_qr_code_opens_the_integrity_page_with_the_report(app, signed_in, tmp_path):
    """The printed QR code reads as an address holding the report id and the checkpoint (in
    capitals: a smaller code); it opens the integrity page with both filled in, and that page
    says who made the report and checks the checkpoint."""
    from urllib.parse import parse_qs, urlsplit

    resident_id = _admit_with_history(app)
    _, last_month = _this_and_last_month(app)
    pdf = _pdf(signed_in("manager"), resident_id, last_month).data
    report_id = _report_id(pdf)
    [entry] = _report_entries(app, report_id)
    [link] = _qr_codes(pdf, tmp_path)
    checkpoint = entry.new["checkpoint"]
    assert link == f"http://localhost/audit/qr/{report_id.upper()}/{checkpoint.upper()}"
    auditor = signed_in("auditor")
    opened = auditor.get(urlsplit(link).path)
    assert opened.status_code == 302
    integrity = urlsplit(opened.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(integrity.query).items()}
    assert integrity.path == "/audit/integrity"
    assert query == {"report": report_id, "checkpoint": checkpoint}
    page = text(auditor.get(integrity.path, query_string=query))
    assert f"Report {report_id}" in page and "Verified now: the chain is intact." in page


def test_a_mistyped_checkpoint_is_called_a_typing_slip_first(app, signed_in):
    with app.app_context():
        last = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        digest, count = last.hash, last.id
    slip = ("0" if digest[5] != "0" else "1").join((digest[:5], digest[6:]))
    page = text(signed_in("auditor").get(f"/audit/integrity?checkpoint={slip}:{count}"))
    assert "This does not match: check the typing." in page


def test_a_batch_download_is_in_each_residents_who_viewed_list(app, signed_in):
    """One entry per resident included, each naming the batch report."""
    import time

    manager = signed_in("manager")
    _, last_month = _this_and_last_month(app)
    response = manager.submit(
        "/reports/batch", {"month": str(last_month), "ward_id": str(nurse_ward(app))},
        page="/reports/",
    )  # fmt: skip
    job_url = response.headers["Location"]
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]
    for _ in range(300):
        if "Download" in text(manager.get(job_url)):
            break
        time.sleep(0.1)
    download = manager.get(f"{job_url}/download")
    assert download.status_code == 200
    entries = _report_entries(app, job_id)
    from carelog.reports import gather

    with app.app_context():
        expected = gather.resident_ids(last_month, nurse_ward(app))
    assert sorted(e.resident_id for e in entries) == sorted(expected) and expected
    assert {e.new["kind"] for e in entries} == {"batch"}
    assert _report_id(download.data) == job_id


def _admitted_on(app, admitted: date) -> int:
    return admit_consenting(app, "Nora", "Nights", "N1", admitted)


def _months_back(app, count: int) -> Month:
    day = today(app).replace(day=1)
    for _ in range(count):
        day = (day - timedelta(days=1)).replace(day=1)
    return Month(day.year, day.month)


def _report(app, resident_id: int, month: Month):
    from carelog.reports import gather
    from carelog.reports.pdf.render import render_resident_report

    with app.app_context():
        [report] = gather.build(month, "Test", resident_id=resident_id)
        return report, render_resident_report(report)


def _rated_after(value: int) -> dict:
    return {"sleep_after_value": value, "sleep_after_status": "answered",
            "sleep_after_rater": "self"}  # fmt: skip


def test_a_night_rated_twice_differently_shows_the_conflict_and_the_lower_counts(app):
    month = _months_back(app, 1)
    resident_id = _admitted_on(app, month.first_day)
    day = month.first_day + timedelta(days=9)
    record_given(app, resident_id, local_time(app, day), **_rated_after(9))
    record_given(app, resident_id, local_time(app, day).replace(hour=15), **_rated_after(2))
    report, pdf = _report(app, resident_id, month)
    [night] = [n for n in report.sleep_nights if n.night_of == day]
    assert (night.value, sorted(night.conflict)) == (2, [2, 9])
    text_of_pdf = flat(" ".join(pdf_pages(pdf)))
    assert flat("Nights rated more than once, differently") in text_of_pdf
    assert flat("2 counts") in text_of_pdf
    assert flat("the lowest counts") in text_of_pdf


def test_the_before_sleep_of_the_1st_counts_for_the_month_before(app):
    """A session on the 1st rates, before it, the last night of the previous month."""
    earlier, later = _months_back(app, 2), _months_back(app, 1)
    resident_id = _admitted_on(app, earlier.first_day)
    record_given(app, resident_id, local_time(app, later.first_day), sleep_before_value=4)
    report, _ = _report(app, resident_id, earlier)
    assert report.sleep_nights[-1].night_of == earlier.last_day
    assert report.sleep_nights[-1].value == 4


def test_each_session_row_shows_an_override_the_product_and_who_recorded_it(app):
    month = _months_back(app, 1)
    resident_id = _admitted_on(app, month.first_day)
    record_given(
        app, resident_id, local_time(app, month.first_day + timedelta(days=3)),
        override_reason="Asked for it herself; light pressure", username="manager",
        product="Sweet almond oil",
    )  # fmt: skip
    record_given(app, resident_id, local_time(app, month.first_day + timedelta(days=5)))
    _, pdf = _report(app, resident_id, month)
    pages = [flat(page) for page in pdf_pages(pdf)]
    table = "".join(pages)
    assert flat("GIVEN DESPITE A WARNING: Asked for it herself; light pressure") in table
    assert flat("product: Sweet almond oil") in table, "a product other than the usual one"
    assert table.count(flat("product: Own fragrance-free emollient")) == 1, "the usual: once"
    assert flat("product: Own fragrance-free emollient") in pages[0], "in the header"


def test_a_correction_moving_a_session_out_of_a_month_is_listed_in_that_month(app):
    from carelog.care import amendments
    from carelog.care.vocabulary import VersionKind

    earlier, later = _months_back(app, 2), _months_back(app, 1)
    resident_id = _admitted_on(app, earlier.first_day)
    session_id = record_given(app, resident_id, local_time(app, earlier.last_day))
    moved_to = local_time(app, later.first_day + timedelta(days=1))
    with app.app_context():
        amendments.add_version(
            actor(app, "manager"), session_id, "move-1", VersionKind.CORRECTION,
            {"occurred_at": moved_to}, "Entered on the wrong day", 1,
        )  # fmt: skip
    report, pdf = _report(app, resident_id, earlier)
    assert not report.sessions, "the session now belongs to the next month"
    assert [c.reason for c in report.corrections] == ["Entered on the wrong day"]
    assert flat("Entered on the wrong day") in flat(" ".join(pdf_pages(pdf)))


def test_planned_leaves_out_days_without_consent_and_everything_adds_up(app):
    """Consent until the 15th, refused from then: only the days before count; given, declined,
    not done and missed are shares of the planned sessions adding up to 100 %."""
    from tests.helpers.records import no_session_content, record, user_id

    month = _months_back(app, 1)
    resident_id = _admitted_on(app, month.first_day)
    refused_on = month.first_day + timedelta(days=14)
    refuses_from(app, resident_id, refused_on)
    for offset in (1, 3, 5):
        record_given(app, resident_id, local_time(app, month.first_day + timedelta(days=offset)))
    nurse = user_id(app, "nurse")
    for offset, outcome in ((7, "declined"), (9, "not_done")):
        when = local_time(app, month.first_day + timedelta(days=offset))
        record(app, resident_id, no_session_content(nurse, when, outcome))
    report, pdf = _report(app, resident_id, month)
    assert report.planned_sessions == round(3 * 14 / 7) == 6
    assert dict(report.excluded_days) == {"no valid consent": month.days - 14}
    from carelog.reports.summary import summarise

    s = summarise(report)
    assert (s.given, s.declined, s.not_done, s.missed) == (3, 1, 1, 1)
    assert sum(s.shares.values()) == 100
    page = flat(pdf_pages(pdf)[0])
    assert flat(f"Not planned: {month.days - 14} days with no valid consent") in page
    assert flat("Missed") in page


def test_shares_always_add_up_to_100():
    from hypothesis import given
    from hypothesis import strategies as st

    from carelog.reports.stats import paired_summary, sleep_comparison
    from carelog.reports.summary import ResidentSummary

    @given(st.integers(0, 40), st.integers(0, 20), st.integers(0, 20), st.integers(0, 20))
    def check(planned, given_count, declined, not_done):
        summary = ResidentSummary(
            planned=planned, given=given_count, completed=given_count, stopped_early=0,
            declined=declined, not_done=not_done, not_done_reasons=(), voided=0,
            relaxation=paired_summary([]), mood=paired_summary([]),
            sleep=sleep_comparison([]), observations=0, recorders=(),
        )  # fmt: skip
        total = given_count + declined + not_done + summary.missed
        assert sum(summary.shares.values()) == (100 if total else 0)

    check()


def test_a_ward_batch_holds_the_residents_of_that_ward_in_that_month(app):
    """Moved to Willow today: last month's Rowan batch still holds her, Willow's does not; this
    month's batches of both wards hold her."""
    from carelog.reports import gather

    resident_id = _admit_with_history(app)
    this_month, last_month = _this_and_last_month(app)
    rowan, willow = nurse_ward(app), ward_id(app, "Willow")
    with app.app_context():
        assert resident_id in gather.resident_ids(last_month, rowan)
        assert resident_id not in gather.resident_ids(last_month, willow)
        assert resident_id in gather.resident_ids(this_month, rowan)
        assert resident_id in gather.resident_ids(this_month, willow)


def test_the_demo_trail_carries_the_times_of_the_events_it_records(app):
    """The demo home is laid down in time order: its trail never goes back in time, each
    admission is recorded on its admission day, each session when it was recorded."""
    import random

    from carelog.care.models import CareSession
    from carelog.local_time import local
    from carelog.ops.demo_sessions import seed_sessions
    from carelog.residents.models import Resident

    with app.app_context():
        seed_sessions(random.Random(7), days=21)  # the template home has residents; add weeks
        trail = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        times = [entry.recorded_at_utc for entry in trail]
        assert times == sorted(times), "the demo trail goes back in time"
        admitted = {r.id: r.admitted_on for r in db.session.scalars(select(Resident))}
        admissions = [e for e in trail if e.action == "resident.admit"]
        assert len(admissions) == len(admitted)
        for entry in admissions:
            assert local(entry.recorded_at_utc).date() == admitted[int(entry.entity_id)]
        recorded = {s.id: s.recorded_at for s in db.session.scalars(select(CareSession))}
        sessions = [e for e in trail if e.action == "session.record"]
        assert len(sessions) == len(recorded) > 100
        assert all(e.recorded_at_utc == recorded[int(e.entity_id)] for e in sessions)


def test_a_session_not_given_prints_no_rating_rather_than_missing(app, signed_in):
    """A decline asks for no ratings: its row reads "– → –" (the key's "no rating"), not
    "missing → missing", which an inspector would read as a gap in the record."""
    _, last_month = _this_and_last_month(app)
    person = admit_consenting(app, "Nora", "Declines", "R04", today(app) - timedelta(days=60))
    when = local_time(app, last_month.first_day + timedelta(days=3))
    record(app, person, no_session_content(user_id(app, "nurse"), when, "declined"))
    record_given(app, person, when + timedelta(days=1))
    pages = pdf_pages(_pdf(signed_in("manager"), person, last_month).data)
    table = " ".join(pages).split("Sessions", 1)[1].split("Ratings read before", 1)[0]
    assert "missing" not in table
    assert flat("– → – – → – – → –") in flat(table)
