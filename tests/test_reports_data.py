"""From the database to the printed report: a seeded month read back from the PDF, and the CLI.

The numbers are recomputed here from the session rows, with the standard library only, and
compared with what the PDF prints; a few are also checked against values worked out by hand.
"""

from __future__ import annotations

import io
import itertools
import re
import shutil
import statistics
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import floor
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from pypdf import PdfReader
from sqlalchemy import and_, select

from carelog import create_app
from carelog.accounts.models import User, Ward
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.audit.models import AuditEntry
from carelog.care import amendments, recording, rules
from carelog.care.models import CONTENT_FIELDS, CareSession, CareSessionVersion, SessionContent
from carelog.extensions import db
from carelog.local_time import month_bounds
from carelog.reports import gather
from carelog.reports.month import Month
from carelog.reports.pdf.render import render_resident_report
from carelog.reports.planning import planning
from carelog.residents import history, records
from carelog.residents.models import Resident
from tests.conftest import app_config

MONTH = Month(2026, 10)  # British Summer Time ends on Sunday 25 October 2026
GIVEN = ("completed", "stopped_early")
NOT_DONE_REASONS = ("unwell", "asleep", "away", "other")
CORRECTION_REASON = "Relaxation after was written against the wrong session; checked with Niamh"
VOID_REASON = "Entered for the wrong resident (it was Mr Patel in the next room)"
RESIDENT_NAME = ("Éamonn", "Ó Súilleabháin")
HOSTILE_NOTE = 'Hands cold <b> & "fine" after; redness < 1 cm'
_databases = itertools.count()


# ----- a database of our own for each test module, seeded once ----------------------------------


@contextmanager
def fresh_database(backend, template_database, tmp_path_factory, request) -> Iterator[str]:
    """A copy of the demo-home template that lives as long as the module using it."""
    if backend == "sqlite":
        copy = tmp_path_factory.mktemp("reports") / "carelog.sqlite"
        shutil.copyfile(template_database, copy)
        yield f"sqlite:///{copy}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"carelog_reports_{next(_databases)}_{uuid.uuid4().hex[:8]}"
    admin_url = server.url().replace("+psycopg", "")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE carelog_template")
    try:
        yield server.url(name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass(frozen=True)
class Plan:
    """One session of the seeded month, in the home's local time.

    A rating is an int (the resident's own), ("o", n) for an observer's, a status word, or None.
    """

    label: str
    when: datetime
    outcome: str
    ratings: tuple = (None, None, None, None, None)  # relax before/after, mood before/after, sleep
    sleep_after: object = None  # the next morning's follow-up, if one was made
    by: str = "nurse"
    extra: dict = field(default_factory=dict)
    late: bool = False


@dataclass
class Seeded:
    """What seed_month laid down: the app, the resident and the sessions by label."""

    app: object
    resident_id: int
    ward_id: int
    ids: dict[str, int]
    plans: list[Plan]
    extra: dict = field(default_factory=dict)  # what a test module adds to the seeded home


def _at(zone, day: date, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def month_plan(zone: ZoneInfo) -> list[Plan]:
    """A believable October 2026 for one resident, plus one session either side of the month."""

    def oct_(day: int, hhmm: str = "10:00") -> datetime:
        return _at(zone, date(2026, 10, day), hhmm)

    stopped = {"assent": "withdrew", "duration_minutes": 4, "outcome_reason": "Pulled hand away"}
    return [
        Plan("before", _at(zone, date(2026, 9, 30), "23:30"), "completed", (1, 9, 1, 5, 2)),
        Plan("S1", oct_(1, "00:30"), "completed", (2, 5, 2, 3, 4), sleep_after=7),
        Plan("S2", oct_(3), "completed", (3, ("o", 6), ("o", 3), ("o", 4), 5)),
        Plan("S3", oct_(4, "11:15"), "stopped_early", (5, 4, 3, 3, "unable"), extra=stopped),
        Plan("S4", oct_(5), "declined"),
        Plan("S5", oct_(6, "14:00"), "not_done", extra={"not_done_reason": "unwell"}),
        Plan("S6", oct_(7, "10:30"), "completed", (4, 4, 3, 4, 6), sleep_after=8),
        Plan(
            "S7",
            oct_(9),
            "completed",
            ("unable", 6, 2, 3, 3),
            extra={
                "observations": "redness",
                "observation_action": "Stopped on that hand; emollient applied",
                "observation_told": "Nurse in charge",
                "note": HOSTILE_NOTE,
            },
        ),
        Plan("S8", oct_(10, "16:45"), "not_done", extra={"not_done_reason": "asleep"}),
        Plan("S9", oct_(12), "completed", (3, 7, 1, 2, 5), sleep_after="declined"),
        Plan("S10", oct_(13), "completed", (6, ("o", 8), 4, 5, "not_assessed")),  # corrected
        Plan("S11", oct_(14, "09:00"), "not_done", extra={"not_done_reason": "away"}),
        Plan("S12", oct_(15), "completed", (0, 10, 1, 5, 0)),  # voided later
        Plan("S13", oct_(17), "completed", (4, 6, 3, "declined", 6), sleep_after=("o", 6)),
        Plan("S14", oct_(19), "declined"),
        Plan("S15", oct_(20), "completed", (5, 5, 4, 4, 7), by="nurse2"),
        Plan(
            "S16",
            oct_(22),
            "not_done",
            extra={"not_done_reason": "other", "outcome_reason": "GP visit all morning"},
        ),
        Plan("S17", oct_(24), "completed", (2, 6, 2, 4, 4), sleep_after=5, by="nurse2"),
        Plan("S18", oct_(25), "completed", (3, 5, 3, 3, "unable")),
        Plan("S19", oct_(27), "stopped_early", (4, 5, 3, 4, 5), extra=stopped),
        Plan(
            "S20",
            oct_(28),
            "completed",
            (5, 7, 3, 4, 6),
            late=True,
            extra={"note": "Recorded at the end of the shift: the tablet was in use elsewhere."},
        ),
        Plan("S21", oct_(29), "declined"),
        Plan("S22", oct_(31, "23:30"), "completed", (6, 8, 4, 5, 5), sleep_after=9),
        Plan("after", _at(zone, date(2026, 11, 1), "00:30"), "declined"),
    ]


RATING_NAMES = (
    "relaxation_before",
    "relaxation_after",
    "mood_before",
    "mood_after",
    "sleep_before",
)


def rating_fields(name: str, spec) -> dict:
    """The three columns of one rating from its short spec."""
    if spec is None:
        value, status, rater = None, None, None
    elif isinstance(spec, str):
        value, status, rater = None, spec, None
    elif isinstance(spec, tuple):
        value, status, rater = spec[1], "answered", "observer"
    else:
        value, status, rater = spec, "answered", "self"
    return {f"{name}_value": value, f"{name}_status": status, f"{name}_rater": rater}


def plan_content(plan: Plan, given_by_id: int) -> dict:
    """The content a session form would produce for a plan."""
    content = {name: None for name in CONTENT_FIELDS}
    content.update(occurred_at=plan.when, given_by_id=given_by_id, outcome=plan.outcome)
    if plan.outcome in GIVEN:
        content.update(
            duration_minutes=10,
            precautions_confirmed=True,
            hands="both",
            pressure="light",
            product="Own fragrance-free emollient",
            assent="agreed",
        )
    else:
        content.update(precautions_confirmed=False)
        if plan.outcome == "declined":
            content["assent"] = "declined"
    for name, spec in zip(RATING_NAMES, plan.ratings, strict=True):
        content.update(rating_fields(name, spec))
    content.update(plan.extra)
    return content


def user_by_name(username: str) -> User:
    """A demo account, inside an app context."""
    return db.session.scalar(select(User).where(User.username == username))


def actor_for(user: User) -> Actor:
    """The audit actor of a demo account acting from a test."""
    return Actor(user.id, user.username, "127.0.0.1", "pytest")


def admit_resident(
    app,
    given: str,
    family: str,
    admitted_on: date,
    per_week: int = 3,
    ward: str = "Rowan",
    departed_on: date | None = None,
) -> int:
    """Admit a resident (with consent) through the use cases; optionally record a departure."""
    with app.app_context():
        manager = actor_for(user_by_name("manager"))
        ward_id = db.session.scalar(select(Ward.id).where(Ward.name == ward))
        person = records.admit(
            manager,
            {
                "given_name": given,
                "family_name": family,
                "room": f"T{uuid.uuid4().hex[:4]}",
                "ward_id": ward_id,
                "date_of_birth": date(1938, 2, 14),
                "admitted_on": admitted_on,
                "sessions_per_week": per_week,
            },
        )
        resident_id = person.id
        records.record_consent(
            manager,
            resident_id,
            {
                "decided_by": "resident",
                "decision_maker": None,
                "consent_given": True,
                "decided_on": admitted_on,
                "review_on": admitted_on + timedelta(days=5 * 365),
                "scope_hands": "both",
            },
        )
        if departed_on:
            records.record_departure(manager, resident_id, departed_on, "Moved nearer family")
        return resident_id


def record_plan(app, resident_id: int, plan: Plan) -> int:
    """Record one planned session through the use case, as the nurse would have."""
    with app.app_context():
        nurse = user_by_name(plan.by)
        content = plan_content(plan, nurse.id)
        recorded = plan.when + (timedelta(hours=5) if plan.late else timedelta(minutes=15))

        def save(content: dict):
            return recording.record_session(
                actor_for(nurse),
                resident_id,
                str(uuid.uuid4()),
                SessionContent.from_columns(content),
                content,
                now=recorded,
            )

        try:
            saved = save(content)
        except rules.PossibleRepeat:  # two in a short while: the nurse confirms, as asked
            saved = save({**content, "repeat_confirmed": True})
        if plan.sleep_after is not None:
            fields = rating_fields("sleep_after", plan.sleep_after)
            morning = datetime.combine(
                plan.when.date() + timedelta(days=1), time(8, 10), tzinfo=plan.when.tzinfo
            )
            amendments.record_sleep_after(
                actor_for(nurse),
                saved.session_id,
                str(uuid.uuid4()),
                fields["sleep_after_value"],
                fields["sleep_after_status"],
                fields["sleep_after_rater"],
                expected_version=1,
                now=morning,
            )
        return saved.session_id


def seed_month(app) -> Seeded:
    """Admit a resident, lay down October 2026, then correct one session and void another."""
    resident_id = admit_resident(app, *RESIDENT_NAME, date(2025, 1, 6), per_week=5)
    zone = ZoneInfo(app.config["CARELOG_TIMEZONE"])
    plans = month_plan(zone)
    ids = {plan.label: record_plan(app, resident_id, plan) for plan in plans}
    with app.app_context():
        manager = user_by_name("manager")
        amendments.correct_session(
            actor_for(manager),
            manager,
            ids["S10"],
            str(uuid.uuid4()),
            {"relaxation_after_value": 5, "relaxation_after_rater": "self"},
            CORRECTION_REASON,
            expected_version=1,
        )
        amendments.void_session(
            actor_for(manager), manager, ids["S12"], str(uuid.uuid4()), VOID_REASON, 1
        )
        ward_id = db.session.get(Resident, resident_id).ward_id
    return Seeded(app, resident_id, ward_id, ids, plans)


@contextmanager
def seeded_home(backend, template_database, tmp_path_factory, request) -> Iterator[Seeded]:
    """A fresh demo home with the seeded month, for one test module."""
    with fresh_database(backend, template_database, tmp_path_factory, request) as url:
        app = create_app(app_config(url))
        try:
            yield seed_month(app)
        finally:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture(scope="module")
def home(backend, template_database, tmp_path_factory, request) -> Iterator[Seeded]:
    with seeded_home(backend, template_database, tmp_path_factory, request) as seeded:
        yield seeded


# ----- reading the database and the PDF, independently of carelog.reports ---------------------


def utc_bounds(zone: ZoneInfo, year: int, month: int) -> tuple[datetime, datetime]:
    """Midnight local time on the 1st of the month and of the next month, in UTC."""
    following = date(year + month // 12, month % 12 + 1, 1)
    start = datetime(year, month, 1, tzinfo=zone).astimezone(UTC)
    return start, datetime.combine(following, time(0), tzinfo=zone).astimezone(UTC)


def current_rows(app, resident_id: int | None = None, month=MONTH) -> list[dict]:
    """Each session's current version in the month (voided included), as plain dicts."""
    zone = ZoneInfo(app.config["CARELOG_TIMEZONE"])
    with app.app_context():
        version, identity = CareSessionVersion, CareSession
        query = (
            select(version, identity)
            .join(
                identity,
                and_(
                    identity.id == version.session_id,
                    identity.current_version == version.version_no,
                ),
            )
            .order_by(version.occurred_at)
        )
        if month is not None:
            start, end = utc_bounds(zone, month.year, month.month)
            query = query.where(version.occurred_at >= start, version.occurred_at < end)
        if resident_id is not None:
            query = query.where(identity.resident_id == resident_id)
        rows = []
        for v, s in db.session.execute(query):
            row = {c.key: getattr(v, c.key) for c in CareSessionVersion.__table__.columns}
            row.update(
                resident_id=s.resident_id,
                recorded_by_id=s.recorded_by_id,
                recorded_at=s.recorded_at,
                current_version=s.current_version,
                local=v.occurred_at.astimezone(zone),
            )
            rows.append(row)
        return rows


def type7_quartiles(values: list[int]) -> tuple[float, float]:
    """Q1 and Q3 by linear interpolation between order statistics (R type 7), by hand."""
    ordered = sorted(values)

    def q(p: float) -> float:
        h = (len(ordered) - 1) * p
        low = floor(h)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (h - low) * (ordered[high] - ordered[low])

    return q(0.25), q(0.75)


@dataclass
class Expected:
    """The month's figures recomputed from the rows."""

    planned: int
    given: int
    completed: int
    stopped_early: int
    declined: int
    not_done: int
    reasons: dict[str, int]
    voided: int
    scales: dict[str, dict]
    sleep: dict
    observations: int


def scale_figures(rows: list[dict], scale: str) -> dict:
    """Pairs, medians, change and its IQR, improved/same/worse, missing and observer counts."""
    before, after, missing, observer = [], [], 0, 0
    for row in rows:
        b, a = row[f"{scale}_before_value"], row[f"{scale}_after_value"]
        for side in ("before", "after"):
            if row[f"{scale}_{side}_value"] is None:
                missing += 1
            elif row[f"{scale}_{side}_rater"] == "observer":
                observer += 1
        if b is not None and a is not None:
            before.append(b)
            after.append(a)
    changes = [a - b for b, a in zip(before, after, strict=True)]
    return {
        "pairs": len(changes),
        "median_before": statistics.median(before) if before else None,
        "median_after": statistics.median(after) if after else None,
        "median_change": statistics.median(changes) if changes else None,
        "iqr": type7_quartiles(changes) if changes else None,
        "improved": sum(c > 0 for c in changes),
        "same": sum(c == 0 for c in changes),
        "worse": sum(c < 0 for c in changes),
        "missing": missing,
        "observer": observer,
    }


def sleep_figures(rows: list[dict], first: date, last: date) -> dict:
    """Nights of the month: each night's value is the follow-up after that day's massage, else
    the next day's "night before"; a massage night follows a day with a session given."""
    after_massage, other, missing = [], [], 0
    massage_days = {r["local"].date() for r in rows if r["outcome"] in GIVEN}
    follow_up = {r["local"].date(): r["sleep_after_value"] for r in rows if r["outcome"] in GIVEN}
    night_before = {r["local"].date() - timedelta(days=1): r["sleep_before_value"] for r in rows}
    day = first
    while day <= last:
        value = follow_up.get(day)
        if value is None:
            value = night_before.get(day)
        if value is None:
            missing += 1
        elif day in massage_days:
            after_massage.append(value)
        else:
            other.append(value)
        day += timedelta(days=1)
    return {
        "after": statistics.median(after_massage) if after_massage else None,
        "n_after": len(after_massage),
        "other": statistics.median(other) if other else None,
        "n_other": len(other),
        "missing": missing,
    }


def expected_figures(app, resident_id: int, month=MONTH, include_voided: bool = False):
    """Recompute every summary figure from the database rows."""
    rows = current_rows(app, resident_id, month)
    counted = [r for r in rows if include_voided or r["kind"] != "void"]
    given = [r for r in counted if r["outcome"] in GIVEN]
    outcomes = Counter(r["outcome"] for r in counted)
    with app.app_context():
        person = db.session.get(Resident, resident_id)
        first = max(month.first_day, person.admitted_on)
        last = min(month.last_day, person.departed_on or month.last_day)
        per_week = person.sessions_per_week
    days = (last - first).days + 1
    return Expected(
        planned=round(per_week * days / 7),
        given=len(given),
        completed=outcomes["completed"],
        stopped_early=outcomes["stopped_early"],
        declined=outcomes["declined"],
        not_done=outcomes["not_done"],
        reasons=dict(Counter(r["not_done_reason"] for r in counted if r["outcome"] == "not_done")),
        voided=len(rows) - len([r for r in rows if r["kind"] != "void"]),
        scales={s: scale_figures(given, s) for s in ("relaxation", "mood")},
        sleep=sleep_figures(counted, first, last),
        observations=sum(
            len([k for k in (r["observations"] or "").split(",") if k]) for r in counted
        ),
    )


MINUS = "\u2212"
MOOD_WORDS = ("very low", "low", "okay", "good", "very good")


def shown(x) -> str:
    """A figure as the report prints it: whole numbers bare, else up to two decimals."""
    if x is None:
        return "–"
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0")


def signed(x) -> str:
    """A change with its sign: +2, 0, −1.5."""
    if x is None:
        return "–"
    return "0" if x == 0 else ("+" if x > 0 else MINUS) + shown(abs(x))


def mood(x) -> str:
    """A mood median with its word when it is a whole level."""
    return f"{int(x)} {MOOD_WORDS[int(x) - 1]}" if x is not None and x == int(x) else shown(x)


def flat(text: str) -> str:
    """Text without whitespace, so that wrapped cells compare equal."""
    return re.sub(r"\s+", "", text)


def pdf_pages(data: bytes) -> list[str]:
    """The extracted text of every page."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def qpdf_check(data: bytes, tmp_path: Path) -> None:
    """qpdf --check finds nothing wrong with the PDF."""
    path = tmp_path / f"check-{uuid.uuid4().hex[:6]}.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        ["qpdf", "--check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def scale_row(label: str, f: dict, value=shown) -> str:
    """One row of the ratings table, flattened."""
    q1, q3 = f["iqr"]
    return flat(
        f"{label}{f['pairs']}{value(f['median_before'])}{value(f['median_after'])}"
        f"{signed(f['median_change'])}(IQR{signed(q1)}to{signed(q3)})"
        f"{f['improved']}/{f['same']}/{f['worse']}{f['missing']}{f['observer']}"
    )


def sleep_row(s: dict) -> str:
    """The sleep comparison row, flattened."""
    return flat(
        f"Median(nights){shown(s['after'])}(n={s['n_after']})"
        f"{shown(s['other'])}(n={s['n_other']}){s['missing']}"
    )


def session_cell(moment: datetime) -> str:
    """A session's day and time as the table prints it (Thu01 00:30), flattened."""
    return flat(moment.strftime("%a%d%H:%M"))


def resident_report(app, resident_id: int, month=MONTH) -> tuple[bytes, tuple[str, int]]:
    """Build and render one resident's month; also return the audit head read just before."""
    with app.app_context():
        head = chain.head(db.session)
        found = gather.build(month, "Morgan Okafor", resident_id=resident_id)
        assert len(found) == 1
        return render_resident_report(found[0]), head


# ----- the seeded month, read back --------------------------------------------------------------


def test_printed_summary_equals_figures_recomputed_from_the_rows(home, tmp_path):
    """Planned, given, outcomes, reasons, both rating scales and sleep, as the rows say."""
    pdf, _ = resident_report(home.app, home.resident_id)
    qpdf_check(pdf, tmp_path)
    text = flat(pdf_pages(pdf)[0])
    e = expected_figures(home.app, home.resident_id)
    missed = max(0, e.planned - e.given - e.declined - e.not_done)
    early = f",{e.stopped_early}stoppedearly" if e.stopped_early else ""
    counts = re.search(
        rf"Voided{e.planned}{e.given}\(\d+%\){early}{e.declined}\(\d+%\)"
        rf"{e.not_done}\(([a-z0-9,]*)\)\(\d+%\){missed}\(\d+%\){e.voided}Scale",
        text,
    )
    assert counts, text[:1200]
    shares = [int(x) for x in re.findall(r"\((\d+)%\)", counts.group(0))]
    assert sum(shares) == 100, shares
    assert counts, text[:1200]
    printed = {m[0]: int(m[1]) for m in re.findall(r"([a-z]+)(\d+)", counts.group(1))}
    assert printed == e.reasons
    assert scale_row("Relaxation0–10", e.scales["relaxation"]) in text
    assert scale_row("Mood1–5", e.scales["mood"], mood) in text
    assert sleep_row(e.sleep) in text
    # Worked out by hand from month_plan(), so that the recomputation itself is checked.
    assert (e.planned, e.given, e.completed, e.stopped_early, e.declined) == (22, 14, 12, 2, 3)
    assert e.reasons == {"unwell": 1, "asleep": 1, "away": 1, "other": 1} and e.voided == 1
    relax, mood_ = e.scales["relaxation"], e.scales["mood"]
    assert (relax["pairs"], relax["median_before"], relax["median_after"]) == (13, 4, 5)
    assert (relax["median_change"], relax["iqr"]) == (2, (0, 3))
    assert (relax["improved"], relax["same"], relax["worse"]) == (9, 2, 2)
    assert (relax["missing"], relax["observer"]) == (1, 1)  # the corrected rating is the nurse's
    assert (mood_["pairs"], mood_["median_change"], mood_["missing"], mood_["observer"]) == (
        13,
        1,
        1,
        2,
    )
    assert e.sleep == {"after": 6.5, "n_after": 6, "other": 5, "n_other": 9, "missing": 16}


def test_voided_session_is_listed_but_left_out_of_every_figure(home):
    """Counting the void would change the figures; the PDF prints the ones without it."""
    pdf, _ = resident_report(home.app, home.resident_id)
    text = flat("".join(pdf_pages(pdf)))
    without = expected_figures(home.app, home.resident_id)
    with_void = expected_figures(home.app, home.resident_id, include_voided=True)
    assert with_void.given == without.given + 1
    for scale, label, value in (("relaxation", "Relaxation0–10", shown), ("mood", "Mood1–5", mood)):
        assert with_void.scales[scale] != without.scales[scale]
        assert scale_row(label, with_void.scales[scale], value) not in text
    assert with_void.sleep != without.sleep
    assert sleep_row(with_void.sleep) not in text
    voided = next(p for p in home.plans if p.label == "S12")
    row = re.search(re.escape(session_cell(voided.when)) + r".{0,120}", text)
    assert row and "VOIDED" in row.group(0), "the voided session is not listed as voided"


def test_correction_and_void_appear_with_their_reasons(home):
    """The corrections table names the entry, the kind and the reason of each change."""
    pdf, _ = resident_report(home.app, home.resident_id)
    text = flat("".join(pdf_pages(pdf)))
    section = text.split("Correctionsandvoidedentries", 1)[1]
    corrected = next(p for p in home.plans if p.label == "S10")
    voided = next(p for p in home.plans if p.label == "S12")

    def entry(plan) -> str:  # the entry is named by the session's local day and time
        return flat("Session of " + plan.when.strftime("%a %d %b %H:%M"))

    assert f"{entry(corrected)}Corrected{flat(CORRECTION_REASON)}" in section
    assert f"{entry(voided)}Voided{flat(VOID_REASON)}" in section
    assert flat("Relaxation after: 8 (observer) → 5") in section  # what the correction changed
    assert flat("Morgan Okafor") in section
    row = re.search(re.escape(session_cell(corrected.when)) + r".{0,120}", text)
    assert row and "corrected" in row.group(0)
    # The corrected value is the one listed: relaxation 6 -> 5, no longer the observer's 8*.
    assert "6→5" in row.group(0) and "6→8" not in row.group(0)


def test_observation_notes_and_free_text_print_as_written(home):
    """The redness, the action taken and a note with <, & and quotes come through intact."""
    pdf, _ = resident_report(home.app, home.resident_id)
    text = flat("".join(pdf_pages(pdf)))
    observations = text.split("Observationsandadverseevents", 1)[1]
    assert flat("Redness Stopped on that hand; emollient applied Nurse in charge") in observations
    assert flat(HOSTILE_NOTE) in text
    assert flat("Ó Súilleabháin") in text


def test_month_boundaries_in_local_time_across_the_clock_change(home, tmp_path):
    """00:30 on the 1st and 23:30 on the 31st (local) are October's; the neighbours are not."""
    zone = ZoneInfo(home.app.config["CARELOG_TIMEZONE"])
    assert str(zone) == "Europe/London"
    with home.app.app_context():
        assert month_bounds(MONTH) == (
            datetime(2026, 9, 30, 23, 0, tzinfo=UTC),  # BST: midnight local is 23:00 UTC
            datetime(2026, 11, 1, 0, 0, tzinfo=UTC),  # GMT again after 25 October
        )
        assert month_bounds(Month(2026, 3)) == (
            datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
            datetime(2026, 3, 31, 23, 0, tzinfo=UTC),  # BST began on 29 March
        )
    plans = {p.label: p for p in home.plans}
    assert plans["S1"].when.astimezone(UTC) == datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    pdf, _ = resident_report(home.app, home.resident_id)
    text = flat("".join(pdf_pages(pdf)))
    assert session_cell(plans["S1"].when) in text  # Thu 01 00:30
    assert session_cell(plans["S22"].when) in text  # Sat 31 23:30
    assert session_cell(plans["before"].when) not in text
    assert session_cell(plans["after"].when) not in text
    listed = {r["session_id"] for r in current_rows(home.app, home.resident_id)}
    assert home.ids["S1"] in listed and home.ids["S22"] in listed
    assert home.ids["before"] not in listed and home.ids["after"] not in listed


def test_march_ends_at_local_midnight_not_utc_midnight(home):
    """In March 2026, 00:30 on 1 April (BST) is 23:30 UTC on 31 March, and belongs to April."""
    resident_id = admit_resident(home.app, "Zoë", "Marchbanks", date(2025, 6, 1))
    zone = ZoneInfo(home.app.config["CARELOG_TIMEZONE"])
    moments = {
        "feb": _at(zone, date(2026, 2, 28), "23:30"),
        "first": _at(zone, date(2026, 3, 1), "00:30"),
        "last": _at(zone, date(2026, 3, 31), "23:30"),
        "april": _at(zone, date(2026, 4, 1), "00:30"),
    }
    for label, when in moments.items():
        record_plan(home.app, resident_id, Plan(label, when, "declined"))
    assert moments["april"].astimezone(UTC) == datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    pdf, _ = resident_report(home.app, resident_id, Month(2026, 3))
    text = flat("".join(pdf_pages(pdf)))
    assert session_cell(moments["first"]) in text and session_cell(moments["last"]) in text
    assert session_cell(moments["feb"]) not in text and session_cell(moments["april"]) not in text
    assert re.search(r"Voided\d+0\(\d+%\)2\(\d+%\)0\(\d+%\)\d+\(\d+%\)0Scale", text), (
        "two declines counted in March"
    )


def test_fingerprint_is_the_audit_head_and_verifies_later(home):
    """The printed head hash and count equal audit.head(); `audit verify --expect` passes after."""
    pdf, head = resident_report(home.app, home.resident_id)
    pages = pdf_pages(pdf)
    printed = re.findall(r"Audit checkpoint.*?: ([0-9a-f]{64}):(\d+)", "\n".join(pages))
    assert len(printed) == len(pages) >= 2, "every page carries the fingerprint"
    assert set(printed) == {(head[0], str(head[1]))}
    admit_resident(home.app, "Later", "Entry", date(2025, 1, 1))  # the trail grows afterwards
    result = cli(home.app, "audit", "verify", "--expect", f"{head[0]}:{head[1]}")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    wrong = f"{'0' * 64}:{head[1]}"
    assert cli(home.app, "audit", "verify", "--expect", wrong).exit_code == 1


def test_month_without_sessions_is_one_clear_page(home, tmp_path):
    """August 2026 has no sessions: one page that says so, with planned sessions still shown."""
    pdf, _ = resident_report(home.app, home.resident_id, Month(2026, 8))
    qpdf_check(pdf, tmp_path)
    pages = pdf_pages(pdf)
    assert len(pages) == 1
    assert "No sessions were recorded this month." in pages[0]
    assert "Page 1 of 1" in pages[0]
    assert printed_counts(22, missed=22) + "Scale" in flat(pages[0])  # 5 a week over 31 days


# ----- planned sessions for residents who arrive or leave mid-month ------------------------------


def printed_counts(planned, given=0, declined=0, not_done=0, missed=0, voided=0, extra="") -> str:
    """The summary's counts row as the PDF prints it, whitespace removed: each count with its
    share of the planned sessions (shares as summary.ResidentSummary.shares rounds them)."""
    from carelog.reports.stats import paired_summary, sleep_comparison
    from carelog.reports.summary import ResidentSummary

    s = ResidentSummary(
        planned=planned, given=given, completed=given, stopped_early=0, declined=declined,
        not_done=not_done, not_done_reasons=(), voided=voided, relaxation=paired_summary([]),
        mood=paired_summary([]), sleep=sleep_comparison([]), observations=0, recorders=(),
    )  # fmt: skip
    cells = [str(planned)]
    for kind, count in (("given", given), ("declined", declined), ("not_done", not_done),
                        ("missed", missed)):  # fmt: skip
        cells.append(f"{count}{extra if kind == 'not_done' else ''}({s.share(kind)})")
    return "Voided" + "".join(cells).replace(" ", "") + str(voided)


@pytest.mark.parametrize(
    ("per_week", "admitted", "departed", "month", "planned", "nights"),
    [
        (3, date(2024, 5, 1), None, (2026, 10), 13, 31),  # 3 x 31 / 7 = 13.3
        (2, date(2024, 5, 1), None, (2026, 2), 8, 28),  # February: exactly 4 weeks
        (3, date(2026, 10, 10), None, (2026, 10), 9, 22),  # 10-31 Oct: 3 x 22 / 7 = 9.4
        (5, date(2024, 5, 1), date(2026, 10, 20), (2026, 10), 14, 20),  # 1-20: 100 / 7 = 14.3
        (3, date(2026, 10, 10), date(2026, 10, 20), (2026, 10), 5, 11),  # 33 / 7 = 4.7
        (5, date(2026, 10, 31), None, (2026, 10), 1, 1),  # the last day only: 5 / 7 = 0.7
        (3, date(2024, 5, 1), date(2026, 10, 1), (2026, 10), 0, 1),  # left on the 1st: 0.4
    ],
)
def test_planned_sessions_count_only_the_days_present(
    home, per_week, admitted, departed, month, planned, nights
):
    """Hand-worked examples; the PDF prints the same number and one sleep night per day."""
    resident_id = admit_resident(
        home.app, "Siobhán", "Planner", admitted, per_week, departed_on=departed
    )
    chosen = Month(*month)
    with home.app.app_context():
        person = db.session.get(Resident, resident_id)
        versions = history.versions_by_resident([resident_id])[resident_id]
        assert planning(person, chosen, versions).planned == planned
    pdf, _ = resident_report(home.app, resident_id, chosen)
    text = flat(pdf_pages(pdf)[0])
    assert printed_counts(planned, missed=planned) in text
    assert flat(f"–(n = 0)–(n = 0){nights}") in text  # nights without a rating: days present


def test_resident_absent_all_month_has_no_report(home):
    """Someone admitted after the month, or gone before it, is not in that month's reports."""
    later = admit_resident(home.app, "Łucja", "Późno", date(2026, 11, 2))
    gone = admit_resident(
        home.app, "Frank", "Gone", date(2024, 1, 1), departed_on=date(2026, 9, 30)
    )
    with home.app.app_context():
        for resident_id in (later, gone):
            assert gather.build(MONTH, "Morgan Okafor", resident_id=resident_id) == []
            person = db.session.get(Resident, resident_id)
            versions = history.versions_by_resident([resident_id])[resident_id]
            assert planning(person, MONTH, versions).planned == 0


# ----- the command line -------------------------------------------------------------------------


def entries_made_by(app, username: str) -> list:
    """report.download entries whose actor is this account (the CLI names its author)."""
    return [e for e in report_downloads(app) if e.actor == username and e.actor_id is not None]


def test_cli_report_needs_an_existing_account_as_author(home, tmp_path):
    """--by names a staff account, or the report is not made."""
    out = tmp_path / "nobody.pdf"
    result = cli(
        home.app, "report", "--resident", str(home.resident_id), "--month", "2026-10",
        "-o", str(out), "--by", "Somebody Else",
    )  # fmt: skip
    assert result.exit_code == 2 and "no active account" in result.output
    assert not out.exists()


def cli(app, *args: str):
    """Run `flask --app carelog ...` in-process on the app's database."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def report_downloads(app) -> list[AuditEntry]:
    """The report.download entries of the trail, oldest first."""
    with app.app_context():
        entries = list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "report.download")
                .order_by(AuditEntry.id)
            )
        )
        db.session.expunge_all()
        return entries


def test_cli_resident_report_writes_a_valid_pdf_and_is_recorded(home, tmp_path):
    """`report --resident ID --month 2026-10 -o FILE`: a PDF with the month's numbers, audited."""
    out = tmp_path / "resident.pdf"
    before = len(report_downloads(home.app))
    result = cli(
        home.app,
        "report",
        "--resident",
        str(home.resident_id),
        "--month",
        "2026-10",
        "-o",
        str(out),
        "--by",
        "manager",
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    qpdf_check(data, tmp_path)
    e = expected_figures(home.app, home.resident_id)
    first = pdf_pages(data)[0]
    assert scale_row("Relaxation0–10", e.scales["relaxation"]) in flat(first)
    assert "generated by Morgan Okafor on" in first
    assert entries_made_by(home.app, "manager")
    entries = report_downloads(home.app)
    assert len(entries) == before + 1
    assert entries[-1].resident_id == home.resident_id
    assert entries[-1].new["month"] == "2026-10"


def test_cli_ward_report_writes_a_batch(home, tmp_path):
    """`report --ward ID`: a cover page, then one report per resident of the ward that month."""
    out = tmp_path / "ward.pdf"
    result = cli(
        home.app, "report", "--ward", str(home.ward_id), "--month", "2026-10", "-o", str(out),
        "--by", "manager",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    qpdf_check(data, tmp_path)
    pages = pdf_pages(data)
    with home.app.app_context():
        names = [
            r.full_name
            for r in db.session.scalars(select(Resident).where(Resident.ward_id == home.ward_id))
            if r.admitted_on <= MONTH.last_day
            and (r.departed_on is None or r.departed_on >= MONTH.first_day)
        ]
    assert "Hand massage monthly records: October 2026" in pages[0]
    starts = [i for i, t in enumerate(pages) if "monthly record: October 2026" in t]
    assert len(starts) == len(names)
    for name in names:
        assert flat(name) in flat(pages[0]), f"{name} missing from the cover"
    entries = report_downloads(home.app)
    assert entries[-1].new["ward_id"] == home.ward_id


@pytest.mark.parametrize(
    "args",
    [
        ("--month", "2026-10"),
        ("--resident", "1", "--ward", "1", "--month", "2026-10"),
        ("--ward", "1", "--home", "--month", "2026-10"),
    ],
)
def test_cli_needs_exactly_one_of_resident_ward_home(home, tmp_path, args):
    """None, or two at once, is a usage error and writes nothing."""
    out = tmp_path / "nothing.pdf"
    result = cli(home.app, "report", *args, "-o", str(out), "--by", "manager")
    assert result.exit_code == 2, result.output
    assert "exactly one of --resident, --ward or --home" in result.output
    assert not out.exists()


@pytest.mark.parametrize("month", ["2026-13", "abc", "2026-1x", "10-2026"])
def test_cli_refuses_a_bad_month(home, tmp_path, month):
    """A month that is not YYYY-MM is refused with the expected form, and nothing is written."""
    out = tmp_path / "nothing.pdf"
    before = len(report_downloads(home.app))
    result = cli(
        home.app, "report", "--resident", str(home.resident_id), "--month", month, "-o", str(out),
        "--by", "manager",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "YYYY-MM" in result.output
    assert not out.exists()
    assert len(report_downloads(home.app)) == before
