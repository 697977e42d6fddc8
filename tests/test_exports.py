"""The sessions CSV: documented columns, UTF-8 with a BOM, a row per session, filters, times."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from carelog.accounts.models import User, Ward
from carelog.audit.models import AuditEntry
from carelog.care import recording
from carelog.care.models import CONTENT_FIELDS, SessionContent
from carelog.care.vocabulary import RATINGS
from carelog.extensions import db
from carelog.reports.month import Month
from carelog.reports.sessions_csv import COLUMNS
from carelog.residents import records
from carelog.residents.models import Resident
from tests.conftest import StaffClient
from tests.test_reports_data import (
    HOSTILE_NOTE,
    MONTH,
    Seeded,
    actor_for,
    current_rows,
    seeded_home,
    user_by_name,
)

README = Path(__file__).resolve().parent.parent / "README.md"
ACCENTED = (("Łucja", "Nowak"), ("Zoë", "Fairbanks"), ("Siobhán", "O'Connor"))
BOM = b"\xef\xbb\xbf"


def seed_accented(app) -> dict[str, tuple[int, str]]:
    """A declined session in October 2026 for each of three demo residents with accented names."""
    zone = ZoneInfo(app.config["CARELOG_TIMEZONE"])
    ids = {}
    with app.app_context():
        nurse2, manager = user_by_name("nurse2"), user_by_name("manager")
        for day, (given, family) in enumerate(ACCENTED, start=2):
            person = db.session.scalar(
                select(Resident).where(Resident.given_name == given, Resident.family_name == family)
            )
            resident_id = person.id
            if person.admitted_on > date(2026, 10, 1):  # the demo admits relative to today
                records.update(
                    actor_for(manager), resident_id, {"admitted_on": date(2024, 1, 1)}, "test"
                )
            when = datetime.combine(date(2026, 10, day), time(15, 5), tzinfo=zone)
            content = {name: None for name in CONTENT_FIELDS}
            content.update(
                occurred_at=when,
                given_by_id=nurse2.id,
                precautions_confirmed=False,
                outcome="declined",
                assent="declined",
            )
            recording.record_session(
                actor_for(nurse2),
                resident_id,
                str(uuid.uuid4()),
                SessionContent.from_columns(content),
                content,
                now=when,
            )
            ids[f"{given} {family}"] = (resident_id, when.date().isoformat())
    return ids


@pytest.fixture(scope="module")
def home(backend, template_database, tmp_path_factory, request) -> Iterator[Seeded]:
    with seeded_home(backend, template_database, tmp_path_factory, request) as seeded:
        seeded.extra["accented"] = seed_accented(seeded.app)
        yield seeded


@pytest.fixture(scope="module")
def manager(home) -> StaffClient:
    client = StaffClient(home.app.test_client())
    assert client.sign_in("manager").status_code == 303
    return client


def download(client: StaffClient, query: str = "") -> bytes:
    """GET the CSV export and return its bytes."""
    response = client.get(f"/reports/sessions.csv{query}")
    try:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        return response.get_data()
    finally:
        response.close()


def parse(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows, read as Excel and LibreOffice read a BOM-marked file."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def documented_columns() -> list[str]:
    """The column list as the README's "Sessions (CSV)" paragraph spells it out."""
    readme = README.read_text(encoding="utf-8")
    paragraph = re.search(r"\*\*Sessions \(CSV\):\*\*(.*?)(?:\n\s*\n)", readme, re.S)
    assert paragraph, "the README has no Sessions (CSV) paragraph"
    columns = paragraph.group(1).split("Columns:", 1)[1]
    leading = re.match(r"\s*`([^`]+)`", columns).group(1)
    ratings = re.search(r"for each of\s+`([^`]+)`", columns).group(1)
    template = re.search(r"`(<rating>[^`]*)`", columns).group(1)
    trailing = re.search(r"then\s+`([^`]+)`[^`]*$", columns).group(1)

    def names(text: str) -> list[str]:
        return [n for n in re.split(r"[\s,]+", text) if n]

    per_rating = [
        column
        for rating in names(ratings)
        for column in (rating, template.replace("<rating>", rating))
    ]
    return names(leading) + per_rating + names(trailing)


def session_ids(rows: list[dict[str, str]]) -> list[int]:
    return [int(r["session_id"]) for r in rows]


def expected_ids(app, month: Month | None, **where) -> set[int]:
    """Sessions in the database matching the filters, from the tables."""
    rows = current_rows(app, month=month)
    with app.app_context():
        wards = dict(db.session.execute(select(Resident.id, Resident.ward_id)).all())
    return {
        r["session_id"]
        for r in rows
        if ("ward_id" not in where or wards[r["resident_id"]] == where["ward_id"])
        and ("resident_id" not in where or r["resident_id"] == where["resident_id"])
    }


# ----- the file -----------------------------------------------------------------------------


def test_header_is_the_documented_column_list(home, manager):
    """The header equals exports.COLUMNS and the README's list; the file starts with a BOM."""
    data = download(manager, "?month=2026-10")
    assert data.startswith(BOM)
    assert not data[3:].startswith(BOM)
    header, _ = parse(data)
    assert header == list(COLUMNS) == documented_columns()


def test_one_row_per_session_with_its_current_version(home, manager):
    """Every October session once (voided ones too), as its current version says."""
    _, rows = parse(download(manager, "?month=2026-10"))
    ids = session_ids(rows)
    assert len(ids) == len(set(ids))
    db_rows = {r["session_id"]: r for r in current_rows(home.app)}
    assert set(ids) == set(db_rows)
    with home.app.app_context():
        names = dict(db.session.execute(select(User.id, User.full_name)).all())
    for row in rows:
        stored = db_rows[int(row["session_id"])]
        assert int(row["version"]) == stored["current_version"] == stored["version_no"]
        assert row["outcome"] == stored["outcome"]
        assert row["given_by"] == names[stored["given_by_id"]]
        assert row["recorded_by"] == names[stored["recorded_by_id"]]
        for rating in RATINGS:
            value, status = stored[f"{rating}_value"], stored[f"{rating}_status"]
            if value is not None:
                assert (row[rating], row[f"{rating}_rater"]) == (
                    str(value),
                    stored[f"{rating}_rater"],
                )
            else:
                assert (row[rating], row[f"{rating}_rater"]) == (status or "", "")
        assert row["voided"] == ("yes" if stored["kind"] == "void" else "no")
        assert row["late"] == ("yes" if stored["late"] else "no")


def test_voided_and_corrected_sessions_are_flagged(home, manager):
    """The void says voided=yes; the correction says corrected=yes and shows the new value."""
    _, rows = parse(download(manager, f"?month=2026-10&resident_id={home.resident_id}"))
    by_id = {int(r["session_id"]): r for r in rows}
    voided, corrected = by_id[home.ids["S12"]], by_id[home.ids["S10"]]
    assert (voided["voided"], voided["corrected"], voided["version"]) == ("yes", "no", "2")
    assert (corrected["corrected"], corrected["voided"], corrected["version"]) == ("yes", "no", "2")
    assert (corrected["relaxation_after"], corrected["relaxation_after_rater"]) == ("5", "self")
    followed_up = by_id[home.ids["S1"]]
    assert (followed_up["corrected"], followed_up["version"], followed_up["sleep_after"]) == (
        "no",
        "2",
        "7",
    )
    others = [r for i, r in by_id.items() if i not in (home.ids["S12"], home.ids["S10"])]
    assert all(r["voided"] == "no" and r["corrected"] == "no" for r in others)


def test_times_are_local_across_the_clock_change(home, manager):
    """00:30 on 1 October (BST, 23:30 UTC the day before) and 23:30 on the 31st (GMT) are
    printed as the home's wall clock; 30 September 23:30 is in September's export."""
    _, rows = parse(download(manager, f"?month=2026-10&resident_id={home.resident_id}"))
    by_id = {int(r["session_id"]): r for r in rows}
    first, last = by_id[home.ids["S1"]], by_id[home.ids["S22"]]
    assert (first["date"], first["start_time"], first["recorded_at"]) == (
        "2026-10-01",
        "00:30",
        "2026-10-01 00:45",
    )
    assert (last["date"], last["start_time"]) == ("2026-10-31", "23:30")
    assert home.ids["before"] not in by_id and home.ids["after"] not in by_id
    _, september = parse(download(manager, f"?month=2026-09&resident_id={home.resident_id}"))
    assert [(r["session_id"], r["date"], r["start_time"]) for r in september] == [
        (str(home.ids["before"]), "2026-09-30", "23:30")
    ]


def test_filters_by_month_ward_and_resident(home, manager):
    """Each filter gives exactly the sessions the tables hold for it."""
    with home.app.app_context():
        willow = db.session.scalar(select(Ward.id).where(Ward.name == "Willow"))
    cases = [
        ("?month=2026-10", expected_ids(home.app, MONTH)),
        ("", expected_ids(home.app, None)),
        (
            f"?month=2026-10&ward_id={home.ward_id}",
            expected_ids(home.app, MONTH, ward_id=home.ward_id),
        ),
        (f"?month=2026-10&ward_id={willow}", expected_ids(home.app, MONTH, ward_id=willow)),
        (
            f"?resident_id={home.resident_id}",
            expected_ids(home.app, None, resident_id=home.resident_id),
        ),
    ]
    for query, wanted in cases:
        _, rows = parse(download(manager, query))
        assert set(session_ids(rows)) == wanted, query
        assert len(rows) == len(wanted), query
    _, rowan = parse(download(manager, f"?month=2026-10&ward_id={home.ward_id}"))
    assert {r["ward"] for r in rowan} == {"Rowan"}
    _, everything = parse(download(manager))
    assert home.ids["after"] in session_ids(everything)  # 1 November, only without a month
    assert len(expected_ids(home.app, MONTH, ward_id=willow)) == 2  # Łucja and Siobhán


def test_accents_survive(home, manager):
    """Łucja, Zoë and Siobhán (and Tomasz Wiśniewski, who recorded) read back exactly."""
    data = download(manager, "?month=2026-10")
    assert "Łucja".encode() in data  # UTF-8, not a legacy code page
    _, rows = parse(data)
    by_resident = {int(r["resident_id"]): r for r in rows}
    for name, (resident_id, day) in home.extra["accented"].items():
        row = by_resident[resident_id]
        assert row["resident"] == name
        assert row["given_by"] == row["recorded_by"] == "Tomasz Wiśniewski"
        assert (row["outcome"], row["date"], row["start_time"]) == ("declined", day, "15:05")
    notes = [r["note"] for r in rows if r["note"]]
    assert HOSTILE_NOTE in notes
    opens_in_libreoffice(data)


def opens_in_libreoffice(data: bytes) -> None:
    """LibreOffice Calc reads the file back with every accented name unchanged."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is needed for this check: run `make system-packages`"
    work = Path(f"/tmp/carelog-soffice-{uuid.uuid4().hex[:8]}")
    (work / "out").mkdir(parents=True)
    try:
        (work / "sessions.csv").write_bytes(data)
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{work}/profile",
                "--headless",
                # Comma, double quote, Unicode (UTF-8): the import dialog's choice for this file.
                "--infilter=CSV:44,34,76,1",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76",
                "--outdir",
                str(work / "out"),
                str(work / "sessions.csv"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        text = (work / "out" / "sessions.csv").read_text(encoding="utf-8")
        assert text.startswith("session_id,"), "the byte-order mark leaked into the first cell"
        for given, family in ACCENTED:
            assert f"{given} {family}" in text
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_export_is_recorded_with_its_filters(home, manager):
    """Each CSV download adds an export.download entry naming the resident, month and ward."""
    with home.app.app_context():
        before = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    download(manager, f"?month=2026-10&resident_id={home.resident_id}")
    download(manager, f"?month=2026-10&ward_id={home.ward_id}")
    with home.app.app_context():
        added = list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)
            )
        )
        manager_id = user_by_name("manager").id
    exports = [e for e in added if e.action == "export.download"]
    assert len(exports) == 2
    assert all(e.actor_id == manager_id for e in exports)
    assert exports[0].resident_id == home.resident_id
    assert exports[0].new["month"] == "2026-10"
    assert exports[1].resident_id is None and exports[1].new["ward_id"] == home.ward_id


@pytest.mark.parametrize("param", ["resident_id", "ward_id"])
def test_unknown_resident_or_ward_is_not_blamed_on_the_month(home, manager, param):
    """A correct month with an id that does not exist: 404, not "Give the month as YYYY-MM"."""
    response = manager.get(f"/reports/sessions.csv?month=2026-10&{param}=987654")
    try:
        assert "YYYY-MM" not in response.get_data(as_text=True)
        assert response.status_code == 404
    finally:
        response.close()
