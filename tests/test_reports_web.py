"""Reports from the web: who may download them, what they answer to bad input, and ward batches.

Every download is read back (pypdf), checked with qpdf and found in the audit trail.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from carelog.accounts.models import User, Ward
from carelog.audit import chain
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from carelog.reports.models import ReportJob
from carelog.residents.models import Resident
from tests.conftest import StaffClient
from tests.helpers.pages import text
from tests.test_reports_data import (
    MONTH,
    Seeded,
    admit_resident,
    cli,
    expected_figures,
    flat,
    pdf_pages,
    qpdf_check,
    scale_row,
    seeded_home,
    signed,
    sleep_row,
)

BATCH_TIME_LIMIT = 60  # seconds; a 13-resident ward takes about one
BOARD_LIMIT = 3.0  # seconds: a nurse's board that takes longer than this is not responsive


@pytest.fixture(scope="module")
def home(backend, template_database, tmp_path_factory, request) -> Iterator[Seeded]:
    with seeded_home(backend, template_database, tmp_path_factory, request) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def staff(home):
    """A client signed in through the form for each demo account, made once per module."""
    made: dict[str, StaffClient] = {}

    def get(username: str) -> StaffClient:
        if username not in made:
            client = StaffClient(home.app.test_client())
            assert client.sign_in(username).status_code == 303
            made[username] = client
        return made[username]

    return get


def pdf_url(resident_id, month="2026-10") -> str:
    return f"/reports/resident.pdf?resident_id={resident_id}&month={month}"


def entries(app, action: str) -> list[AuditEntry]:
    """Audit entries of one action, oldest first."""
    with app.app_context():
        found = list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )
        db.session.expunge_all()
        return found


def head(app) -> tuple[str, int]:
    with app.app_context():
        return chain.head(db.session)


def ward_names(app, ward_id: int, month=MONTH) -> list[str]:
    """Residents of a ward present at some time during the month, from the table."""
    with app.app_context():
        people = db.session.scalars(select(Resident).where(Resident.ward_id == ward_id))
        return [
            p.full_name
            for p in people
            if p.admitted_on <= month.last_day
            and (p.departed_on is None or p.departed_on >= month.first_day)
        ]


# ----- one resident's month -----------------------------------------------------------------


@pytest.mark.parametrize("username", ["manager", "auditor"])
def test_readers_download_a_resident_pdf_that_is_recorded(home, staff, username, tmp_path):
    """A valid PDF with the month's figures and the audit head; the download is in the trail."""
    client = staff(username)
    before_head = head(home.app)
    downloads = len(entries(home.app, "report.download"))
    response = client.get(pdf_url(home.resident_id))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    with home.app.app_context():
        person = db.session.get(Resident, home.resident_id)
        slug = f"{person.preferred_name or person.given_name} {person.family_name}"
    plain = unicodedata.normalize("NFKD", slug).encode("ascii", "ignore").decode()
    wanted = "-".join(plain.lower().split()) + "-2026-10.pdf"  # "Éamonn Ó" -> eamonn-o
    assert response.headers["Content-Disposition"] == f"attachment; filename={wanted}"
    data = response.get_data()
    qpdf_check(data, tmp_path)
    pages = pdf_pages(data)
    text = flat(pages[0])
    e = expected_figures(home.app, home.resident_id)
    assert scale_row("Relaxation0–10", e.scales["relaxation"]) in text
    assert sleep_row(e.sleep) in text
    printed = re.search(r"Audit checkpoint.*?: (([0-9a-f]{64}):(\d+))", pages[-1])
    assert printed, "the checkpoint is printed as HASH:COUNT, the form the checkers accept"
    integrity = staff("auditor").get("/audit/integrity", query_string={"checkpoint": printed[1]})
    checked = integrity.get_data(as_text=True)
    assert "Verified now: the chain is intact." in checked and "Checked against" in checked
    printed = (printed[0], printed[2], printed[3])
    assert printed and (printed[1], int(printed[2])) == before_head
    found = entries(home.app, "report.download")
    assert len(found) == downloads + 1
    entry = found[-1]
    assert entry.resident_id == home.resident_id
    assert entry.new["month"] == "2026-10"
    with home.app.app_context():
        assert entry.actor_id == db.session.scalar(select(User.id).where(User.username == username))
    # The checkpoint printed on the download still verifies once the trail has grown.
    result = cli(home.app, "audit", "verify", "--expect", f"{printed[1]}:{printed[2]}")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("username", ["nurse", "nurse2", "admin"])
def test_other_roles_are_refused_and_nothing_is_recorded(home, staff, username):
    """Nurses and admins get 403 for the PDF, the CSV and the batch; no download is recorded."""
    downloads = len(entries(home.app, "report.download"))
    exports = len(entries(home.app, "export.download"))
    client = staff(username)
    assert client.get(pdf_url(home.resident_id)).status_code == 403
    assert client.get("/reports/sessions.csv?month=2026-10").status_code == 403
    assert client.get("/reports/").status_code == 403
    assert len(entries(home.app, "report.download")) == downloads
    assert len(entries(home.app, "export.download")) == exports


def test_anonymous_visitor_is_sent_to_sign_in(home):
    """Nobody signed in: a redirect to the sign-in page, no PDF."""
    response = home.app.test_client().get(pdf_url(home.resident_id))
    assert response.status_code in (302, 303)
    assert urlsplit(response.headers["Location"]).path == "/auth/sign-in"


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "Give the month as YYYY-MM, for example 2026-10."),
        ("abc", "Give the month as YYYY-MM, for example 2026-10."),
        ("2026-00", "Give the month as YYYY-MM, for example 2026-10."),
        ("26-10", "Give the month as YYYY-MM, for example 2026-10."),
        ("", "Month: Choose a month."),
    ],
)
def test_bad_month_answers_400_with_a_clear_message(home, staff, month, message):
    """The manager is told how to write the month; nothing is recorded."""
    downloads = len(entries(home.app, "report.download"))
    response = staff("manager").get(pdf_url(home.resident_id, month))
    assert response.status_code == 400
    assert message in text(response)
    assert len(entries(home.app, "report.download")) == downloads


def test_unknown_resident_answers_404(home, staff):
    """A resident id that does not exist is not found."""
    with home.app.app_context():
        unknown = (db.session.scalar(select(Resident.id).order_by(Resident.id.desc())) or 0) + 100
    assert staff("manager").get(pdf_url(unknown)).status_code == 404


def test_resident_not_present_that_month_answers_404(home, staff):
    """Admitted after October, or gone before it: no October report, and nothing recorded."""
    later = admit_resident(home.app, "Łucja", "Nowicka", date(2026, 11, 2))
    gone = admit_resident(
        home.app, "Harold", "Leftearly", date(2024, 1, 1), departed_on=date(2026, 9, 30)
    )
    downloads = len(entries(home.app, "report.download"))
    for resident_id in (later, gone):
        assert staff("auditor").get(pdf_url(resident_id)).status_code == 404
    assert staff("auditor").get(pdf_url(later, "2026-11")).status_code == 200
    assert len(entries(home.app, "report.download")) == downloads + 1


# ----- the ward batch -------------------------------------------------------------------------


def job_row(app, job_id: str) -> ReportJob:
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        db.session.expunge(job)
        return job


def start_batch(client: StaffClient, ward_id: int, month: str = "2026-10") -> str:
    """POST the batch form; return the job id from the 303's Location."""
    response = client.submit(
        "/reports/batch", {"month": month, "ward_id": str(ward_id)}, page="/reports/"
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    match = re.fullmatch(
        r"/reports/jobs/([0-9a-f-]{36})", urlsplit(response.headers["Location"]).path
    )
    assert match, response.headers["Location"]
    return match.group(1)


def wait_until_ready(client: StaffClient, job_id: str) -> list[str]:
    """Poll the job page as the browser's refresh would, until it says Ready; return the texts."""
    seen = []
    deadline = time.monotonic() + BATCH_TIME_LIMIT
    while time.monotonic() < deadline:
        page = client.get(f"/reports/jobs/{job_id}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        seen.append(body)
        if "Ready:" in body:
            assert 'http-equiv="refresh"' not in body
            return seen
        assert "could not be made" not in body, body
        assert 'http-equiv="refresh"' in body, "a page still working must refresh itself"
        time.sleep(0.1)
    raise AssertionError(f"the batch was not ready within {BATCH_TIME_LIMIT} s")


class BoardWatcher:
    """A nurse opening the ward board over and over in another thread, timing each answer."""

    def __init__(self, client: StaffClient):
        self.client = client
        self.samples: list[tuple[datetime, datetime, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started, clock = datetime.now(UTC), time.perf_counter()
            status = self.client.get("/ward/").status_code
            self.samples.append((started, datetime.now(UTC), time.perf_counter() - clock, status))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)


def test_ward_batch_runs_in_the_background_while_nurses_keep_working(home, staff, capsys):
    """303 to a job page that refreshes until Ready; progress ends at total; meanwhile the
    nurse's ward board keeps answering 200, quickly."""
    manager, nurse = staff("manager"), staff("nurse")
    idle = []
    for _ in range(3):
        clock = time.perf_counter()
        assert nurse.get("/ward/").status_code == 200
        idle.append(time.perf_counter() - clock)
    with BoardWatcher(nurse) as watcher:
        job_id = start_batch(manager, home.ward_id)
        answered = datetime.now(UTC)
        pages_seen = wait_until_ready(manager, job_id)
    job = job_row(home.app, job_id)
    assert answered < job.finished_at, "the POST waited for the batch instead of answering"
    names = ward_names(home.app, home.ward_id)
    assert job.status == "done"
    assert job.done == job.total == len(names)
    assert f"Ready: {len(names)} residents." in text(pages_seen[-1])
    progress = [
        (int(m[0]), int(m[1]))
        for body in pages_seen
        for m in re.findall(r"Making the reports: (\d+) of (\d+) residents", body)
    ]
    assert all(total == len(names) for _, total in progress)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)

    during = [s for s in watcher.samples if s[0] >= job.created_at and s[1] <= job.finished_at]
    assert watcher.samples and all(status == 200 for *_, status in watcher.samples)
    assert during, "no board request fell inside the batch"
    latencies = [seconds for _, _, seconds, _ in during]
    assert max(latencies) < BOARD_LIMIT
    took = (job.finished_at - job.created_at).total_seconds()
    with capsys.disabled():
        print(
            f"\n[{home.app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}] batch of "
            f"{job.total} residents took {took:.2f} s;"
            f" /ward/ idle median {statistics.median(idle) * 1000:.0f} ms; during the batch "
            f"{len(during)} requests, median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms; progress seen on the job page {progress}"
        )


def test_ward_batch_download_has_a_cover_and_a_new_page_per_resident(home, staff, tmp_path):
    """One valid PDF: a cover listing every resident present that month, then each resident's
    report from the top of a new page; the download is recorded."""
    manager = staff("manager")
    job_id = start_batch(manager, home.ward_id)
    wait_until_ready(manager, job_id)
    names = ward_names(home.app, home.ward_id)
    downloads = len(entries(home.app, "report.download"))
    response = manager.get(f"/reports/jobs/{job_id}/download")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with home.app.app_context():
        ward = db.session.get(Ward, home.ward_id).name.lower()
    wanted = f"attachment; filename={ward}-ward-2026-10.pdf"
    assert response.headers["Content-Disposition"] == wanted
    data = response.get_data()
    qpdf_check(data, tmp_path)
    pages = pdf_pages(data)
    cover = flat(pages[0])
    assert "Handmassagemonthlyrecords:October2026" in cover
    assert f"{len(names)}residents" in cover
    starts = []
    for name in names:
        assert flat(name) in cover, f"{name} is not on the cover"
        first = next(i for i in range(1, len(pages)) if flat(name) in flat(pages[i]))
        assert "Hand massage monthly record: October 2026" in pages[first], name
        assert flat(f"{name} · Room") in flat(pages[first]), "running head names the resident"
        starts.append(first)
    assert len(set(starts)) == len(names), "two residents start on the same page"
    assert min(starts) == 1
    for number, page_text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page_text
    # The seeded resident's row on the cover carries the month's headline figures.
    e = expected_figures(home.app, home.resident_id)
    relax, mood = e.scales["relaxation"], e.scales["mood"]
    row = flat(
        f"{e.given} / {e.planned}{signed(relax['median_change'])} (n = {relax['pairs']})"
        f"{signed(mood['median_change'])} (n = {mood['pairs']}){e.declined}{e.observations}"
    )
    assert row in cover
    found = entries(home.app, "report.download")[downloads:]
    assert len(found) == len(names), "one entry for each resident included"
    assert {(e.new["kind"], e.new["ward_id"], e.entity_id) for e in found} == {
        ("batch", home.ward_id, job_id)
    }


def test_another_users_job_is_not_found(home, staff):
    """The auditor cannot see or download the manager's batch; an unknown job is 404 too."""
    job_id = start_batch(staff("manager"), home.ward_id, "2026-09")
    wait_until_ready(staff("manager"), job_id)
    auditor = staff("auditor")
    assert auditor.get(f"/reports/jobs/{job_id}").status_code == 404
    assert auditor.get(f"/reports/jobs/{job_id}/download").status_code == 404
    assert (
        staff("manager").get("/reports/jobs/00000000-0000-0000-0000-000000000000").status_code
        == 404
    )
    assert staff("nurse").get(f"/reports/jobs/{job_id}").status_code == 403
