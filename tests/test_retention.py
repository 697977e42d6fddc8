"""Retention: records are kept for CARELOG_RETENTION_YEARS after the resident's last care, and
nothing in carelog (no route, no database statement) can delete them before that, or after.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from carelog.accounts.models import User
from carelog.audit.models import AuditEntry
from carelog.care import amendments, recording
from carelog.care.models import CareSession, CareSessionVersion, SessionContent
from carelog.database import write_transaction
from carelog.extensions import db
from carelog.ops import retention
from carelog.residents import records
from carelog.residents.models import Resident
from tests.helpers.records import (
    actor,
    given_content,
    no_session_content,
    nurse_ward,
    plain_residents,
    today,
    user_id,
)

HOME_ZONE = ZoneInfo("Europe/London")
PROTECTED_TABLES = ("audit_entry", "care_session", "care_session_version")


# ----- the arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2024, 2, 29), 8, date(2032, 2, 29)),  # 2032 is a leap year
        (date(2024, 2, 29), 5, date(2029, 2, 28)),  # 2029 is not: the last day of February
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 28), 1, date(2025, 2, 28)),
        (date(2023, 3, 1), 1, date(2024, 3, 1)),
        (date(2025, 12, 31), 8, date(2033, 12, 31)),
        (date(2025, 6, 15), 0, date(2025, 6, 15)),
    ],
)
def test_add_years_keeps_the_calendar_day(day, years, expected):
    """The same day N years on; 29 February becomes 28 February in a common year."""
    assert retention.add_years(day, years) == expected


# ----- who is kept until when ---------------------------------------------------------------


def local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=HOME_ZONE)


def log(app, resident_id: int, occurred_at: datetime, outcome: str = "declined") -> int:
    """A session (a decline by default: no consent needed on old dates) through the use case."""
    nurse = user_id(app, "nurse")
    content = (
        no_session_content(nurse, occurred_at, outcome)
        if outcome != "completed"
        else given_content(nurse, occurred_at)
    )
    with app.app_context():
        saved = recording.record_session(
            actor(app, "nurse"),
            resident_id,
            str(uuid.uuid4()),
            SessionContent.from_columns(content),
            content,
            now=occurred_at + timedelta(minutes=15),
        )
    return saved.session_id


def last_leap_day(start: date, end: date) -> date:
    """The latest 29 February between two days."""
    for year in range(end.year, start.year - 1, -1):
        try:
            day = date(year, 2, 29)
        except ValueError:
            continue
        if start <= day <= end:
            return day
    raise AssertionError(f"no 29 February between {start} and {end}")


def present_residents(app) -> list[Resident]:
    with app.app_context():
        people = db.session.scalars(
            select(Resident).where(Resident.departed_on.is_(None)).order_by(Resident.id)
        ).all()
        db.session.expunge_all()
        return list(people)


def schedule_by_id(app, years: int) -> dict[int, retention.Retention]:
    with app.app_context():
        return {row.resident.id: row for row in retention.schedule(years)}


def test_keep_until_is_departure_or_last_session_plus_the_period(app):
    """Departed: departure + N years; with sessions: the last one + N; otherwise today + N."""
    ward = nurse_ward(app, "nurse")
    with_sessions = plain_residents(app, ward)[0]
    first_day = with_sessions.admitted_on + timedelta(days=10)
    last_day = today(app) - timedelta(days=3)
    for day in (first_day, last_day, first_day + timedelta(days=30)):
        log(app, with_sessions.id, local_noon(day))

    leaver = next(
        p
        for p in present_residents(app)
        if p.id != with_sessions.id and p.admitted_on <= today(app) - timedelta(days=400)
    )
    departed_on = last_leap_day(leaver.admitted_on, today(app))
    with app.app_context():
        records.record_departure(actor(app, "manager"), leaver.id, departed_on, "Moved away")

    untouched = next(p for p in present_residents(app) if p.id not in (with_sessions.id, leaver.id))
    for years in (8, 5):
        rows = schedule_by_id(app, years)
        assert len(rows) == len(present_residents(app)) + 1
        assert rows[with_sessions.id].last_care == last_day
        assert rows[with_sessions.id].keep_until == retention.add_years(last_day, years)
        assert rows[leaver.id].last_care == departed_on
        assert rows[leaver.id].keep_until == retention.add_years(departed_on, years)
        assert rows[untouched.id].last_care == today(app)
        assert rows[untouched.id].keep_until == retention.add_years(today(app), years)


def test_a_voided_or_corrected_session_still_counts_as_care(app):
    """Entered in error is still a record: its date keeps the resident's records."""
    person = plain_residents(app, nurse_ward(app, "nurse"))[0]
    earlier = today(app) - timedelta(days=20)
    latest = today(app) - timedelta(days=2)
    log(app, person.id, local_noon(earlier))
    voided = log(app, person.id, local_noon(latest))
    manager_id = user_id(app, "manager")
    with app.app_context():
        amendments.void_session(
            actor(app, "manager"),
            db.session.get(User, manager_id),
            voided,
            str(uuid.uuid4()),
            "Wrong resident",
            1,
        )
    assert schedule_by_id(app, 8)[person.id].last_care == latest


def test_last_care_is_the_local_day_of_the_last_session(app):
    """00:30 on 1 July in London is 23:30 UTC on 30 June: the record's day is 1 July."""
    person = plain_residents(app, nurse_ward(app, "nurse"))[0]
    year = today(app).year if today(app) > date(today(app).year, 7, 1) else today(app).year - 1
    first_of_july = date(year, 7, 1)
    assert person.admitted_on < first_of_july
    log(app, person.id, datetime.combine(first_of_july, time(0, 30), tzinfo=HOME_ZONE))
    row = schedule_by_id(app, 8)[person.id]
    assert row.last_care == first_of_july
    assert row.keep_until == date(year + 8, 7, 1)


# ----- the command --------------------------------------------------------------------------


def run_retention(app):
    with app.app_context():
        return app.test_cli_runner().invoke(args=["retention"])


def test_the_retention_command_lists_every_resident_with_the_configured_period(app):
    """One line per resident (present or departed), with last care and keep-until dates."""
    person = plain_residents(app, nurse_ward(app, "nurse"))[0]
    session_day = today(app) - timedelta(days=5)
    log(app, person.id, local_noon(session_day))
    app.config["CARELOG_RETENTION_YEARS"] = 5

    result = run_retention(app)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "Records are kept for 5 years after the resident's last care."
    with app.app_context():
        people = {p.full_name: p for p in db.session.scalars(select(Resident))}
    pattern = re.compile(r"^(.+?)\s+last care (\d{4}-\d\d-\d\d)\s+keep until (\d{4}-\d\d-\d\d)$")
    listed = {}
    for line in lines[1:]:
        match = pattern.match(line)
        assert match, line
        listed[match.group(1).strip()] = (match.group(2), match.group(3))
    assert set(listed) == set(people)
    shown_last, shown_keep = listed[person.full_name]
    assert shown_last == session_day.isoformat()
    assert shown_keep == retention.add_years(session_day, 5).isoformat()
    for last, keep in listed.values():
        assert date.fromisoformat(keep) == retention.add_years(date.fromisoformat(last), 5)


def test_the_retention_command_deletes_nothing(app):
    """Listing is all it does: every table keeps its rows."""
    log(app, plain_residents(app, nurse_ward(app, "nurse"))[0].id, local_noon(today(app)))

    def counts():
        with app.app_context():
            return [
                db.session.scalar(select(func.count()).select_from(model))
                for model in (Resident, CareSession, CareSessionVersion, AuditEntry)
            ]

    before = counts()
    assert run_retention(app).exit_code == 0
    assert counts() == before


# ----- nothing can delete -------------------------------------------------------------------


def test_no_route_accepts_delete(app, signed_in):
    """No URL rule allows DELETE, and a DELETE to every URL is refused by the app."""
    offenders = [rule.rule for rule in app.url_map.iter_rules() if "DELETE" in rule.methods]
    assert offenders == []
    manager = signed_in("manager")
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "1", rule.rule)
        response = manager.delete(url)
        response.close()
        assert response.status_code in (405, 404), f"DELETE {url}: {response.status_code}"


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_the_database_refuses_to_delete_records(app, backend, table):
    """A DELETE (and TRUNCATE on PostgreSQL) through the app's own connection is refused."""
    log(app, plain_residents(app, nurse_ward(app, "nurse"))[0].id, local_noon(today(app)))
    statements = [f"DELETE FROM {table}", f"DELETE FROM {table} WHERE id = 1"]
    if backend == "postgresql":
        statements.append(f"TRUNCATE {table} CASCADE")
    with app.app_context():
        before = db.session.scalar(sql(f"SELECT count(*) FROM {table}"))
        assert before > 0
        for statement in statements:
            refused = pytest.raises(DBAPIError, match="append-only")
            with refused, write_transaction(db.session) as session:
                session.execute(sql(statement))
        assert db.session.scalar(sql(f"SELECT count(*) FROM {table}")) == before
