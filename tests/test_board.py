"""The ward board: whose ward, today's state, the week against target, badges, query count."""

from __future__ import annotations

import uuid
from dataclasses import fields, replace
from datetime import date, time, timedelta

import pytest
from bs4 import BeautifulSoup

from carelog.accounts.models import User
from carelog.care import amendments
from carelog.care.board import (
    CONSENT_SHOWN,
    LOOKBACK_DAYS,
    RESIDENT_SHOWN,
    BoardRow,
    today_state,
    week_state,
)
from carelog.care.board_html import LineMemo, line_key
from carelog.care.vocabulary import VersionKind
from carelog.database import utcnow
from carelog.extensions import db
from carelog.residents import records
from carelog.residents.models import Consent, Resident
from tests.helpers.pages import board_rows, full_session, quick_form, session_url
from tests.helpers.records import (
    actor,
    add_correction,
    add_residents_with_sessions,
    admit_consenting,
    counting_queries,
    local_time,
    no_session_content,
    nurse_ward,
    plain_residents,
    record,
    record_given,
    residents_where,
    standing_out_of_step,
    today,
    user_id,
    ward_id,
)

ADDED_RESIDENTS = 120
MONDAY = date(2026, 1, 5)


def on(weekday: int) -> date:
    """A day of the test week: 0 is Monday, 6 is Sunday."""
    return MONDAY + timedelta(days=weekday)


# ----- week_state and today_state, on their own -------------------------------------------------


@pytest.mark.parametrize(
    "given, target, weekday, expected",
    [
        (0, 3, 0, "due"),  # Monday: no day has passed yet
        (0, 3, 2, "due"),  # Wednesday: 3 x 2 / 7 rounds down to 0 by now
        (0, 3, 3, "overdue"),  # Thursday: 3 x 3 / 7 = 1 should have been given by now
        (1, 3, 3, "due"),
        (1, 3, 5, "overdue"),  # Saturday: 3 x 5 / 7 = 2 by now
        (2, 3, 5, "due"),
        (2, 3, 6, "due"),  # Sunday: one more today still meets it
        (1, 3, 6, "overdue"),
        (3, 3, 2, "met"),
        (4, 3, 6, "met"),  # more than the target is still met
        (0, 0, 3, "met"),  # no target: nothing is due
        (0, 5, 1, "due"),
        (0, 5, 2, "overdue"),  # Wednesday: 5 x 2 / 7 = 1 by now
        (0, 7, 0, "due"),  # a daily target on Monday morning
        (0, 8, 0, "overdue"),  # eight cannot fit in seven days
        (0, 14, 0, "overdue"),
    ],
)
def test_week_state(given, target, weekday, expected):
    """met once the target is reached; overdue when behind the week's pace or when the days left
    cannot hold what is missing."""
    assert on(weekday).weekday() == weekday
    assert week_state(given, target, on(weekday)) == expected


@pytest.mark.parametrize(
    "target, days_since_last, expected",
    [(1, 7, "due"), (1, 8, "overdue"), (1, 14, "overdue"), (3, 3, "due"), (3, 4, "overdue")],
)
def test_a_long_gap_since_the_last_massage_is_overdue(target, days_since_last, expected):
    """Monday, nothing given this week: the gap decides (seven days over the target, rounded up)."""
    assert week_state(0, target, on(0), days_since_last) == expected


def test_today_state_prefers_given_then_declined_then_not_done():
    """A massage given today wins over an earlier decline; nothing recorded is not yet."""
    assert today_state([]) == "not_yet"
    assert today_state(["not_done"]) == "not_done"
    assert today_state(["not_done", "declined"]) == "declined"
    assert today_state(["declined", "stopped_early"]) == "given"
    assert today_state(["completed"]) == "given"


# ----- whose board ------------------------------------------------------------------------------


def present_ids(app, ward: int) -> set[int]:
    """Residents currently on a ward."""
    return {p.id for p in residents_where(app, ward)}


def test_a_nurse_sees_only_their_ward(app, signed_in):
    """Rowan's nurse sees Rowan's residents, Willow's nurse Willow's; ?ward= does not change it."""
    rowan, willow = ward_id(app, "Rowan"), ward_id(app, "Willow")
    assert nurse_ward(app, "nurse") == rowan and nurse_ward(app, "nurse2") == willow
    nurse, nurse2 = signed_in("nurse"), signed_in("nurse2")

    page = nurse.get("/ward/").get_data(as_text=True)
    assert set(board_rows(page)) == present_ids(app, rowan)
    assert "<h1>Rowan" in page and "Willow" not in page
    sneaky = nurse.get(f"/ward/?ward={willow}").get_data(as_text=True)
    assert set(board_rows(sneaky)) == present_ids(app, rowan)
    assert set(board_rows(nurse2.get("/ward/").get_data(as_text=True))) == present_ids(app, willow)
    # Each line opens the resident's session form in one tap.
    for resident_id in board_rows(page):
        assert f'href="{session_url(resident_id)}"' in page


def test_a_manager_chooses_the_ward_and_an_auditor_only_reads(app, signed_in):
    """Care managers switch wards; auditors see the board with links to the record, not the form."""
    willow = ward_id(app, "Willow")
    manager = signed_in("manager")
    page = manager.get(f"/ward/?ward={willow}").get_data(as_text=True)
    assert set(board_rows(page)) == present_ids(app, willow)
    auditor = signed_in("auditor")
    page = auditor.get(f"/ward/?ward={willow}").get_data(as_text=True)
    assert set(board_rows(page)) == present_ids(app, willow)
    assert "/session" not in page.split('<ul class="board"')[1]
    assert signed_in("admin").get("/ward/").status_code == 403


@pytest.mark.parametrize("days_ago", [1, 0])
def test_a_departed_resident_leaves_the_board(app, signed_in, days_ago):
    """Someone who left yesterday, or today, is no longer on the board; her record still opens
    for a care manager and an auditor."""
    rowan = nurse_ward(app)
    person = plain_residents(app, rowan)[0]
    with app.app_context():
        records.record_departure(
            actor(app, "manager"), person.id, today(app) - timedelta(days=days_ago), "Moved"
        )
    rows = board_rows(signed_in("nurse").get("/ward/").get_data(as_text=True))
    assert person.id not in rows
    assert set(rows) == present_ids(app, rowan)
    for reader in ("manager", "auditor"):
        assert signed_in(reader).get(f"/residents/{person.id}").status_code == 200


# ----- what each line says ----------------------------------------------------------------------


def set_target(app, resident_id: int, per_week: int) -> None:
    """Change a resident's weekly target through the use case."""
    with app.app_context():
        records.update(actor(app, "manager"), resident_id, {"sessions_per_week": per_week}, "t")


def week_words(given: int, target: int, day: date, days_since_last: int = 0) -> str:
    """The week as the board should say it."""
    state = week_state(given, target, day, days_since_last)
    suffix = {"met": "", "due": " · due", "overdue": " · overdue"}[state]
    return f"{given} of {target} this week{suffix}"


NEVER = LOOKBACK_DAYS + 1  # no massage in the board's look-back: at least this many days


def test_today_and_the_week_on_each_line(app, signed_in):
    """Given, declined, not done and not yet today; N of T this week with due or overdue."""
    nurse = signed_in("nurse")
    rowan = nurse_ward(app)
    plain = plain_residents(app, rowan)
    assert len(plain) >= 6, "the demo home has enough Rowan residents without precautions"
    given, declined, not_done, both, overdue, met = plain[:6]
    plain_ids = {p.id for p in plain}
    last_week = [p for p in residents_where(app, rowan) if p.id not in plain_ids][0]
    nurse_id = user_id(app, "nurse")
    day = today(app)
    now = utcnow().replace(microsecond=0)

    # Through the forms, as the nurse does it.
    assert nurse.post(session_url(given.id), data=full_session(nurse, given.id)).status_code == 303
    answer = nurse.post(
        f"{session_url(declined.id)}/declined", data=quick_form(nurse, declined.id, "declined")
    )
    assert answer.status_code == 303
    answer = nurse.post(
        f"{session_url(not_done.id)}/not-done",
        data={**quick_form(nurse, not_done.id, "not-done"), "not_done_reason": "away"},
    )
    assert answer.status_code == 303
    # A decline, then a massage later the same day: the board says given.
    record(app, both.id, no_session_content(nurse_id, now - timedelta(seconds=30), "declined"))
    record_given(app, both.id, now)
    set_target(app, overdue.id, 14)
    set_target(app, met.id, 1)
    record_given(app, met.id, now)
    # Last week's massage counts for 'last massage', not for this week.
    eight_days_ago = day - timedelta(days=8)
    record_given(
        app, last_week.id, local_time(app, eight_days_ago), override_reason="Care plan agreed"
    )

    page = nurse.get("/ward/").get_data(as_text=True)
    rows = board_rows(page)
    states = {
        given.id: "Given today",
        declined.id: "Declined today",
        not_done.id: "Not done today",
        both.id: "Given today",
        overdue.id: "Not yet today",
        met.id: "Given today",
        last_week.id: "Not yet today",
    }
    for resident_id, words in states.items():
        assert words in rows[resident_id], (resident_id, rows[resident_id])
    for resident_id, line in rows.items():
        if resident_id not in states:
            assert "Not yet today" in line or "Do not massage" in line, line

    target = {p.id: p.sessions_per_week for p in residents_where(app, rowan)}
    assert week_words(1, target[given.id], day) in rows[given.id]
    assert week_words(0, target[declined.id], day, NEVER) in rows[declined.id]
    assert week_words(0, target[not_done.id], day, NEVER) in rows[not_done.id]
    assert week_words(1, target[both.id], day) in rows[both.id]
    assert "0 of 14 this week · overdue" in rows[overdue.id]
    assert rows[met.id].count("1 of 1 this week") == 1
    assert "· due" not in rows[met.id] and "overdue" not in rows[met.id]
    assert week_words(0, target[last_week.id], day, 8) in rows[last_week.id]
    assert f"last massage {eight_days_ago.strftime('%a %-d %b')}" in rows[last_week.id]
    assert "last massage" not in rows[declined.id]
    assert 'class="board-row state-declined"' in page


def test_a_voided_session_does_not_count(app, signed_in):
    """An entry marked entered-in-error is neither today's massage nor one of the week's."""
    rowan = nurse_ward(app)
    person = plain_residents(app, rowan)[0]
    set_target(app, person.id, 1)
    session_id = record_given(app, person.id, utcnow().replace(microsecond=0))
    with app.app_context():
        amendments.add_version(
            actor(app, "manager"),
            session_id,
            str(uuid.uuid4()),
            VersionKind.VOID,
            {},
            "Wrong resident",
            1,
        )
    row = board_rows(signed_in("nurse").get("/ward/").get_data(as_text=True))[person.id]
    assert "Not yet today" in row
    assert "0 of 1 this week · overdue" in row  # nothing given in the last four weeks


def expected_badges(app, person) -> set[str]:
    """The precaution and consent badges a resident's line must show."""
    badges = set()
    if person.deferred_on(today(app)):
        badges.add("Deferred")
    if person.avoid_left_hand:
        badges.add("Avoid left hand")
    if person.avoid_right_hand:
        badges.add("Avoid right hand")
    if person.light_pressure_only:
        badges.add("Light pressure")
    if person.allergies:
        badges.add(f"Allergy: {person.allergies}")
    consent = person.consents[0] if person.consents else None
    if consent is None:
        badges.add("No consent recorded")
    elif not consent.consent_given:
        badges.add("Does not consent")
    elif consent.review_on < today(app):
        badges.add("Consent review overdue")
    return badges


ALL_BADGES = (
    "Deferred",
    "Avoid left hand",
    "Avoid right hand",
    "Light pressure",
    "Allergy:",
    "No consent recorded",
    "Does not consent",
    "Consent review overdue",
)


@pytest.mark.parametrize("username", ["nurse", "nurse2"])
def test_badges_and_consent_warnings_on_the_right_lines(app, signed_in, username):
    """Each resident shows exactly their precaution badges and any consent warning."""
    rows = board_rows(signed_in(username).get("/ward/").get_data(as_text=True))
    people = residents_where(app, nurse_ward(app, username))
    seen = set()
    for person in people:
        line = rows[person.id]
        wanted = expected_badges(app, person)
        seen |= wanted
        for badge in wanted:
            assert badge in line, (person.display_name, badge, line)
        for badge in ALL_BADGES:
            if not any(w.startswith(badge) for w in wanted):
                assert badge not in line, (person.display_name, badge, line)
    # The demo home gives each board something to warn about.
    assert any(
        b in seen for b in ("No consent recorded", "Does not consent", "Consent review overdue")
    )
    assert any(b.startswith("Avoid") for b in seen)


# ----- the number of queries does not grow with the ward ----------------------------------------


def board_queries(app, staff) -> tuple[int, int]:
    """SQL statements run for one GET /ward/ (after a warm-up request), and the lines shown."""
    staff.get("/ward/")
    with counting_queries(app) as statements:
        response = staff.get("/ward/")
    assert response.status_code == 200
    return len(statements), len(board_rows(response.get_data(as_text=True)))


def test_the_board_query_count_does_not_grow_with_residents(app, signed_in):
    """The same number of SQL statements for 12 residents as for 132, with sessions."""
    nurse = signed_in("nurse")
    rowan = nurse_ward(app)
    for person in plain_residents(app, rowan)[:3]:
        record_given(app, person.id, utcnow().replace(microsecond=0))
    small, small_rows = board_queries(app, nurse)
    add_residents_with_sessions(app, rowan, ADDED_RESIDENTS)
    large, large_rows = board_queries(app, nurse)

    assert large_rows == small_rows + ADDED_RESIDENTS
    assert large == small, (
        f"{small} statements for {small_rows} residents, {large} for {large_rows}"
    )
    assert small <= 12, f"{small} statements for one board"


# ----- each line is drawn once for what it shows ------------------------------------------------


def a_board_row() -> BoardRow:
    """A row with every shown value set, outside any database."""
    resident = Resident(
        id=7,
        given_name="Margaret",
        family_name="Hughes",
        preferred_name="Peggy",
        room="12",
        admitted_on=date(2025, 1, 1),
        sessions_per_week=3,
        defer_sessions=False,
        defer_reason=None,
        defer_until=None,
        avoid_left_hand=False,
        avoid_right_hand=True,
        light_pressure_only=False,
        allergies="nut oil",
    )
    consent = Consent(
        id=3, consent_given=True, decided_on=date(2025, 1, 1), review_on=date(2026, 1, 1)
    )
    return BoardRow(
        resident=resident,
        consent=consent,
        today="not_yet",
        week_given=1,
        target=3,
        week_state="due",
        last_given=date(2025, 6, 2),
    )


def changed(value):
    """Another value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, date):
        return value + timedelta(days=1)
    return f"{value} changed"


@pytest.mark.parametrize(
    ("part", "name"),
    [("resident", c.key) for c in RESIDENT_SHOWN]
    + [("consent", c.key) for c in CONSENT_SHOWN]
    + [("row", f.name) for f in fields(BoardRow) if f.name not in ("resident", "consent")],
)
def test_a_line_is_drawn_again_when_anything_it_shows_changes(part, name):
    """The memo's key holds every value a line can show (the board loads no other column, and a
    row may load nothing of its own), so a changed value never finds a stale line."""
    row = a_board_row()
    before = line_key(row, "/sessions/new/987654321", date(2025, 6, 3))
    if part == "row":
        row = replace(row, **{name: changed(getattr(row, name))})
    else:
        target = getattr(row, part)
        setattr(target, name, changed(getattr(target, name)))
    assert line_key(row, "/sessions/new/987654321", date(2025, 6, 3)) != before


def test_a_line_depends_on_the_link_and_the_day_and_the_consent_being_there():
    row = a_board_row()
    key = line_key(row, "/sessions/new/987654321", date(2025, 6, 3))
    assert line_key(row, "/residents/987654321", date(2025, 6, 3)) != key
    assert line_key(row, "/sessions/new/987654321", date(2025, 6, 4)) != key
    assert line_key(replace(row, consent=None), "/sessions/new/987654321", date(2025, 6, 3)) != key


def test_the_memo_is_bounded(app):
    memo = LineMemo(size=2)
    with app.test_request_context():
        for number in range(5):
            memo.line(replace(a_board_row(), week_given=number), "/x/987654321", date(2025, 6, 3))
            assert len(memo.lines) <= 2


def test_a_remembered_line_changes_when_the_record_does(app, signed_in):
    """Through the app: a line drawn once shows a new allergy, a session and a deferral."""
    nurse = signed_in("nurse")
    person = plain_residents(app, nurse_ward(app))[0]
    before = board_rows(nurse.get("/ward/").get_data(as_text=True))[person.id]
    assert "Sesame" not in before
    with app.app_context():
        records.update(actor(app, "manager"), person.id, {"allergies": "Sesame"}, "new allergy")
    line = board_rows(nurse.get("/ward/").get_data(as_text=True))[person.id]
    assert "Allergy: Sesame" in line
    record_given(app, person.id, utcnow().replace(microsecond=0))
    line = board_rows(nurse.get("/ward/").get_data(as_text=True))[person.id]
    assert "Given today" in line


def test_each_sessions_standing_keeps_step_with_its_versions(app, signed_in):
    """The board sums each session's current_* columns: a follow-up, a correction that moves a
    session to another day and changes its outcome, and a void each move them with the version."""
    day = today(app)
    person = admit_consenting(app, "Step", "Keeper", "S01", day - timedelta(days=40))
    yesterday = local_time(app, day - timedelta(days=1))
    first = record_given(app, person, yesterday)
    second = record_given(app, person, local_time(app, day - timedelta(days=3)))
    third = record_given(app, person, local_time(app, day - timedelta(days=4)))
    with app.app_context():
        amendments.record_sleep_after(
            actor(app, "nurse"), first, str(uuid.uuid4()), 8, "answered", "self", 1,
            now=local_time(app, day, time(8)),
        )  # fmt: skip
    add_correction(
        app, second, {"occurred_at": local_time(app, day, time(0, 5)), "outcome": "declined",
                      "assent": "declined"},
    )  # fmt: skip
    with app.app_context():
        amendments.void_session(
            actor(app, "manager"), db.session.get(User, user_id(app, "manager")), third,
            str(uuid.uuid4()), "Wrong resident", 1,
        )  # fmt: skip
    assert standing_out_of_step(app) == []
    board = signed_in("nurse").get("/ward/").get_data(as_text=True)
    line = next(li for li in BeautifulSoup(board, "html.parser").select("li.board-row")
                if "Step Keeper" in li.text)  # fmt: skip
    assert "Declined today" in line.text  # the corrected session, moved to just after midnight
    week_count = 1 if (day - timedelta(days=1)).weekday() < day.weekday() else 0
    assert f"{week_count} of 3 this week" in line.text  # the void is not counted
