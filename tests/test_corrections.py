"""Corrections and "entered in error": new versions with a reason; the original stays readable.

Sessions are laid down through carelog.care.recording.record_session with a chosen server clock
(so that
an entry can be older than the nurse's correction window); every correction and void then goes
through the pages, as a nurse or a care manager would make it.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict

from carelog.accounts import staff_accounts
from carelog.accounts.models import User
from carelog.accounts.roles import Role
from carelog.audit import chain
from carelog.audit.free_text import fingerprint
from carelog.audit.models import AuditEntry
from carelog.care import amendments, board, recording, rules
from carelog.care.models import CONTENT_FIELDS, CareSession, CareSessionVersion, SessionContent
from carelog.database import utcnow, write_transaction
from carelog.extensions import db
from carelog.local_time import local, local_day_bounds, local_today
from tests.helpers.pages import field_errors, form_posting_to, text
from tests.helpers.records import (
    actor,
    count,
    counting_queries,
    given_content,
    nurse_ward,
    plain_residents,
    user_id,
    versions_of,
    written_entries,
)

REASON = "Timer stopped late: it ran 14 minutes, not 10"
NEW_DURATION = "14"
STALE = "Someone else changed this entry while you were looking"
VOID_REASON = "Entered for the wrong resident (Zoë, not Łucja)"
THIRD_NURSE = "nurse3"


# ----- laying down sessions ------------------------------------------------------------------


def minute(moment: datetime) -> datetime:
    """A moment without seconds, as the form's datetime-local control carries it."""
    return moment.replace(second=0, microsecond=0)


def log_session(app, resident_id: int, username: str = "nurse", age=timedelta(minutes=30)) -> int:
    """A completed session recorded `age` ago (server clock), given 15 minutes before that."""
    recorded_at = utcnow() - age
    occurred_at = minute(recorded_at - timedelta(minutes=15))
    content = given_content(user_id(app, username), occurred_at)
    with app.app_context():
        saved = recording.record_session(
            actor(app, username),
            resident_id,
            str(uuid.uuid4()),
            SessionContent.from_columns(content),
            content,
            now=recorded_at,
        )
    return saved.session_id


def log_today(app, resident_id: int, username: str = "nurse") -> int:
    """A completed session earlier today (local), recorded just after it."""
    with app.app_context():
        start_of_today, _ = local_day_bounds(local_today())
    occurred_at = max(minute(utcnow() - timedelta(minutes=20)), start_of_today)
    content = given_content(user_id(app, username), occurred_at)
    with app.app_context():
        saved = recording.record_session(
            actor(app, username),
            resident_id,
            str(uuid.uuid4()),
            SessionContent.from_columns(content),
            content,
        )
    return saved.session_id


@pytest.fixture
def resident(app) -> int:
    """A resident of the nurse's ward with valid consent and no precautions."""
    return plain_residents(app, nurse_ward(app, "nurse"))[0].id


@pytest.fixture
def third_nurse(app) -> str:
    """Another nurse on the same ward as 'nurse', so her entries are visible but not hers."""
    with app.app_context():
        staff_accounts.create_user(
            actor(app, "admin"),
            username=THIRD_NURSE,
            full_name="Noor Haddad",
            role=Role.NURSE,
            password="third-nurse-password-0123",
            ward_id=nurse_ward(app, "nurse"),
        )
    return THIRD_NURSE


# ----- reading pages and rows ---------------------------------------------------------------


def browser_fields(form) -> MultiDict:
    """What a browser sends for a form as it stands: values, ticked boxes, textareas."""
    fields = MultiDict()
    for control in form.controls:
        name = control.get("name")
        kind = control["type"]
        if not name or "disabled" in control or kind in ("submit", "button"):
            continue
        if kind in ("radio", "checkbox"):
            if "checked" in control:
                fields.add(name, control.get("value", "on"))
        else:
            fields.add(name, control.get("value", ""))
    return fields


def correction_form(staff, session_id: int) -> MultiDict:
    """GET the correct page and return its correction form, filled as it came."""
    url = f"/sessions/{session_id}/correct"
    response = staff.get(url)
    assert response.status_code == 200, response.status_code
    return browser_fields(form_posting_to(response.get_data(as_text=True), url))


def void_form(staff, session_id: int) -> MultiDict:
    """GET the correct page and return its entered-in-error form."""
    response = staff.get(f"/sessions/{session_id}/correct")
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    return browser_fields(form_posting_to(page, f"/sessions/{session_id}/void"))


def correct(staff, session_id: int, reason: str | None = REASON, **changes):
    """Correct through the form: open it, change what is given, give the reason, save."""
    fields = correction_form(staff, session_id)
    for name, value in changes.items():
        fields.setlist(name, [value])
    if reason is not None:
        fields.setlist("reason", [reason])
    return staff.post(f"/sessions/{session_id}/correct", data=fields)


def row_values(app, session_id: int) -> list[dict]:
    """Every column of every version row of a session, oldest first."""
    columns = CareSessionVersion.__table__.columns
    return [{c.key: getattr(v, c.key) for c in columns} for v in versions_of(app, session_id)]


def current_version(app, session_id: int) -> int:
    """The version the identity row points at."""
    with app.app_context():
        return db.session.get(CareSession, session_id).current_version


def versions_table(page: str) -> dict[str, list[tuple[str, bool]]]:
    """The session page's versions table: each row's label -> [(text, marked changed)]."""
    match = re.search(r'<table class="list versions">(.*?)</table>', page, re.S)
    assert match, "no versions table on the page"
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.S):
        label = re.search(r"<th[^>]*>(.*?)</th>", row, re.S)
        cells = re.findall(r"<td([^>]*)>(.*?)</td>", row, re.S)
        if label and cells:
            rows[text(label.group(1))] = [
                (
                    text(re.sub(r'<span class="visually-hidden">.*?</span>', "", body)),
                    "changed" in a,
                )
                for a, body in cells
            ]
    return rows


def last_entry(app) -> AuditEntry:
    """The newest audit entry."""
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        db.session.expunge(entry)
        return entry


def chain_ok(app) -> bool:
    """True if the whole audit trail verifies."""
    with app.app_context():
        return chain.verify(db.session).ok


# ----- corrections ---------------------------------------------------------------------------


def test_a_nurse_corrects_her_own_entry_and_the_original_stays(app, signed_in, resident):
    """Version 2 holds the new duration and the reason; version 1 is byte-for-byte unchanged."""
    session_id = log_session(app, resident)
    original = row_values(app, session_id)
    nurse = signed_in("nurse")

    with counting_queries(app) as statements:
        response = correct(nurse, session_id, duration_minutes=NEW_DURATION)
    assert response.status_code == 303, text(response)
    assert response.headers["Location"].endswith(f"/sessions/{session_id}")
    assert not [s for s in statements if re.match(r"\s*UPDATE care_session_version", s, re.I)]
    assert not [s for s in statements if re.match(r"\s*DELETE", s, re.I)]

    rows = row_values(app, session_id)
    assert len(rows) == 2
    assert rows[0] == original[0], "the original version row changed"
    first, second = rows
    assert (second["version_no"], second["kind"], second["reason"]) == (2, "correction", REASON)
    assert second["created_by_id"] == user_id(app, "nurse")
    assert second["duration_minutes"] == int(NEW_DURATION) != first["duration_minutes"]
    differing = {k for k in CONTENT_FIELDS if first[k] != second[k]}
    assert differing == {"duration_minutes"}, "only the corrected field may differ"
    assert current_version(app, session_id) == 2

    entry = last_entry(app)
    assert (entry.action, entry.entity_id, entry.reason) == (
        "session.correction",
        str(session_id),
        fingerprint(REASON),
    )
    assert entry.actor_id == user_id(app, "nurse")
    assert entry.old == {"duration_minutes": first["duration_minutes"], "version": 1}
    assert entry.new == {"duration_minutes": int(NEW_DURATION), "version": 2}
    assert chain_ok(app)


def test_the_session_page_shows_every_version_with_changes_marked(app, signed_in, resident):
    """Side by side: who, when, why, and the changed cell marked 'changed', nothing else."""
    session_id = log_session(app, resident)
    assert correct(signed_in("nurse"), session_id, duration_minutes="12").status_code == 303
    manager = signed_in("manager")
    changed_twice = correct(
        manager, session_id, reason="Hands were the left only", duration_minutes="12", hands="left"
    )
    assert changed_twice.status_code == 303

    response = signed_in("auditor").get(f"/sessions/{session_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for number, kind in ((1, "original"), (2, "correction"), (3, "correction")):
        assert f"Version {number}" in text(page) and kind in text(page)
    table = versions_table(page)
    assert [v for v, _ in table["Who"]] == ["Niamh Byrne", "Niamh Byrne", "Morgan Okafor"]
    assert [v for v, _ in table["Why"]] == ["", REASON, "Hands were the left only"]
    with app.app_context():
        created = [local(v.created_at) for v in versions_of(app, session_id)]
    assert [v for v, _ in table["When"]] == [f"{moment:%-d %b %Y, %H:%M}" for moment in created]
    assert table["Duration (minutes)"] == [("10", False), ("12", True), ("12", False)]
    assert table["Hands"] == [("both", False), ("both", False), ("left", True)]
    marked = {label for label, cells in table.items() if any(flag for _, flag in cells)}
    assert marked == {"Duration (minutes)", "Hands"}
    assert page.count('class="changed"') == 2


def test_a_correction_without_a_reason_is_refused_and_nothing_saved(app, signed_in, resident):
    """No reason, or only spaces: the form comes back with the message; no version, no entry."""
    session_id = log_session(app, resident)
    before = row_values(app, session_id)
    nurse = signed_in("nurse")
    entries = written_entries(app)
    for reason in ("", "   "):
        response = correct(nurse, session_id, reason=reason, duration_minutes=NEW_DURATION)
        assert response.status_code == 200
        assert field_errors(response.get_data(as_text=True), "reason") == [
            "Say why you are correcting this entry."
        ]
    assert row_values(app, session_id) == before
    assert written_entries(app) == entries
    assert current_version(app, session_id) == 1


def test_a_correction_that_changes_nothing_is_refused(app, signed_in, resident):
    """A reason with no change would be a version that says nothing: refused."""
    session_id = log_session(app, resident)
    response = correct(signed_in("nurse"), session_id)
    assert response.status_code == 200
    assert "Nothing was changed" in text(response)
    assert len(versions_of(app, session_id)) == 1


def test_resubmitting_the_same_correction_adds_nothing(app, signed_in, resident):
    """The same form posted twice (a double tap) leaves one correction."""
    session_id = log_session(app, resident)
    nurse = signed_in("nurse")
    fields = correction_form(nurse, session_id)
    fields.setlist("duration_minutes", [NEW_DURATION])
    fields.setlist("reason", [REASON])
    assert nurse.post(f"/sessions/{session_id}/correct", data=fields).status_code == 303
    again = nurse.post(f"/sessions/{session_id}/correct", data=fields)
    assert again.status_code in (200, 303)
    assert len(versions_of(app, session_id)) == 2
    assert count(app, AuditEntry, AuditEntry.action == "session.correction") == 1


@pytest.mark.parametrize(
    ("who", "owner", "age", "expected"),
    [
        ("nurse", "nurse", timedelta(hours=11), 200),
        ("nurse", "nurse", timedelta(hours=13), 403),
        ("nurse", THIRD_NURSE, timedelta(minutes=30), 403),
        ("nurse2", "nurse", timedelta(minutes=30), 404),
        ("manager", THIRD_NURSE, timedelta(days=40), 200),
        ("manager", "nurse", timedelta(minutes=30), 200),
        ("auditor", "nurse", timedelta(minutes=30), 403),
        ("admin", "nurse", timedelta(minutes=30), 403),
    ],
    ids=[
        "own-within-shift",
        "own-past-window",
        "other-nurse-same-ward",
        "nurse-of-other-ward",
        "manager-old-entry",
        "manager-recent-entry",
        "auditor",
        "admin",
    ],
)
def test_who_may_correct_or_void(app, signed_in, resident, third_nurse, who, owner, age, expected):
    """Own entry within CARELOG_NURSE_CORRECTION_HOURS for a nurse; any entry for a manager."""
    session_id = log_session(app, resident, owner, age)
    staff = signed_in(who)
    page = staff.get(f"/sessions/{session_id}/correct")
    assert page.status_code == expected
    shown = staff.get(f"/sessions/{session_id}")
    if who in ("nurse", "manager") and expected != 404:
        link = f'href="/sessions/{session_id}/correct"' in shown.get_data(as_text=True)
        assert link == (expected == 200), "the page offers a correction it would refuse"
    if expected != 200:
        token = staff.csrf_token("/")
        for action in ("correct", "void"):
            refused = staff.post(
                f"/sessions/{session_id}/{action}",
                data={"csrf_token": token, "reason": "trying", "duration_minutes": "5"},
            )
            assert refused.status_code == expected, action
        assert len(versions_of(app, session_id)) == 1
        return
    response = correct(staff, session_id, duration_minutes=NEW_DURATION)
    assert response.status_code == 303
    second = versions_of(app, session_id)[1]
    assert (second.kind, second.created_by_id) == ("correction", user_id(app, who))


def test_the_nurse_window_follows_the_setting(app, signed_in, resident):
    """CARELOG_NURSE_CORRECTION_HOURS moves the line: 11 hours old is out with a 10-hour shift."""
    session_id = log_session(app, resident, age=timedelta(hours=11))
    nurse = signed_in("nurse")
    assert nurse.get(f"/sessions/{session_id}/correct").status_code == 200
    app.config["CARELOG_NURSE_CORRECTION_HOURS"] = 10
    assert nurse.get(f"/sessions/{session_id}/correct").status_code == 403


def test_a_stale_form_is_refused_when_someone_else_corrected_first(app, signed_in, resident):
    """The nurse's form says version 1; the manager saved version 2 meanwhile: refused, clearly."""
    session_id = log_session(app, resident)
    nurse, manager = signed_in("nurse"), signed_in("manager")
    nurse_fields = correction_form(nurse, session_id)
    assert nurse_fields["expected_version"] == "1"

    assert correct(manager, session_id, duration_minutes="11").status_code == 303
    nurse_fields.setlist("duration_minutes", [NEW_DURATION])
    nurse_fields.setlist("reason", [REASON])
    response = nurse.post(f"/sessions/{session_id}/correct", data=nurse_fields)

    # Sent back to the form, now showing the manager's version, with the reason in words.
    assert response.status_code == 303
    reloaded = nurse.get(response.headers["Location"])
    assert STALE in text(reloaded), "the nurse is not told why her correction was not saved"
    assert correction_form(nurse, session_id)["expected_version"] == "2"
    versions = versions_of(app, session_id)
    assert [v.duration_minutes for v in versions] == [10, 11]
    assert current_version(app, session_id) == 2


def test_the_use_case_refuses_a_stale_expected_version(app, resident):
    """Below the form: add_version with an old expected_version raises and writes nothing."""
    session_id = log_session(app, resident)
    manager, manager_id = actor(app, "manager"), user_id(app, "manager")
    with app.app_context():
        user = db.session.get(User, manager_id)
        amendments.correct_session(
            manager, user, session_id, str(uuid.uuid4()), {"duration_minutes": 11}, "first", 1
        )
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
        with pytest.raises(rules.CareError, match=STALE):
            amendments.correct_session(
                manager, user, session_id, str(uuid.uuid4()), {"duration_minutes": 12}, "two", 1
            )
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries
    assert [v.duration_minutes for v in versions_of(app, session_id)] == [10, 11]


def test_the_database_refuses_to_update_or_delete_a_version_row(app, resident):
    """Even a raw UPDATE or DELETE is refused by the triggers; the row stays as it was."""
    session_id = log_session(app, resident)
    before = row_values(app, session_id)
    statements = (
        "UPDATE care_session_version SET duration_minutes = 99 WHERE session_id = :id",
        "DELETE FROM care_session_version WHERE session_id = :id",
    )
    with app.app_context():
        for statement in statements:
            refused = pytest.raises(DBAPIError, match="append-only")
            with refused, write_transaction(db.session) as session:
                session.execute(sql(statement), {"id": session_id})
    assert row_values(app, session_id) == before


# ----- entered in error ----------------------------------------------------------------------


def board_row(app, resident_id: int):
    """The resident's line on today's ward board."""
    with app.app_context():
        today = local_today()
        ward_id = nurse_ward(app, "nurse")
        rows = {row.resident.id: row for row in board.board(ward_id, today).rows}
        return rows[resident_id]


def test_entered_in_error_needs_a_reason(app, signed_in, resident):
    """Without a reason the void is refused and nothing is saved."""
    session_id = log_today(app, resident)
    nurse = signed_in("nurse")
    entries = written_entries(app)
    for reason in ("", "  "):
        fields = void_form(nurse, session_id)
        fields.setlist("reason", [reason])
        response = nurse.post(f"/sessions/{session_id}/void", data=fields)
        assert response.status_code == 200
        assert "Say why this entry is in error." in text(response)
    assert len(versions_of(app, session_id)) == 1
    assert written_entries(app) == entries


def test_entered_in_error_stays_visible_struck_through_and_leaves_the_board(
    app, signed_in, resident
):
    """A void is a new version: shown struck through, gone from the counts, closed to changes."""
    session_id = log_today(app, resident)
    assert board_row(app, resident).today == "given"
    given_this_week = board_row(app, resident).week_given
    assert given_this_week >= 1
    original = row_values(app, session_id)

    nurse = signed_in("nurse")
    fields = void_form(nurse, session_id)
    fields.setlist("reason", [VOID_REASON])
    response = nurse.post(f"/sessions/{session_id}/void", data=fields)
    assert response.status_code == 303

    rows = row_values(app, session_id)
    assert rows[0] == original[0]
    assert (rows[1]["kind"], rows[1]["reason"], rows[1]["version_no"]) == ("void", VOID_REASON, 2)
    assert {k: rows[1][k] for k in CONTENT_FIELDS} == {k: rows[0][k] for k in CONTENT_FIELDS}, (
        "a void keeps the content it strikes through"
    )
    entry = last_entry(app)
    assert (entry.action, entry.reason) == ("session.void", fingerprint(VOID_REASON))

    page = nurse.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert re.search(r'class="panel voided"', page)
    assert "Entered in error" in text(page)
    assert VOID_REASON in text(page)
    history = nurse.get(f"/residents/{resident}/sessions").get_data(as_text=True)
    assert f'href="/sessions/{session_id}"' in history
    assert re.search(rf'<tr class="voided">\s*<td><a href="/sessions/{session_id}"', history)

    row = board_row(app, resident)
    assert row.today == "not_yet"
    assert row.week_given == given_this_week - 1

    for who in ("nurse", "manager"):
        staff = nurse if who == "nurse" else signed_in("manager")
        assert staff.get(f"/sessions/{session_id}/correct").status_code == 409
        token = staff.csrf_token("/")
        for action in ("correct", "void"):
            again = staff.post(
                f"/sessions/{session_id}/{action}",
                data={"csrf_token": token, "reason": "again", "submission_key": str(uuid.uuid4())},
            )
            assert again.status_code == 409, (who, action)
        assert f'href="/sessions/{session_id}/correct"' not in staff.get(
            f"/sessions/{session_id}"
        ).get_data(as_text=True)
    assert len(versions_of(app, session_id)) == 2
    manager, manager_id = actor(app, "manager"), user_id(app, "manager")
    with app.app_context(), pytest.raises(rules.CareError, match="entered in error"):
        amendments.correct_session(
            manager,
            db.session.get(User, manager_id),
            session_id,
            str(uuid.uuid4()),
            {"duration_minutes": 3},
            "after the void",
            2,
        )
    assert len(versions_of(app, session_id)) == 2
    assert chain_ok(app)


def test_a_version_number_that_is_no_number_is_refused_not_500(app, signed_in, resident):
    """ "²" is a digit to Python's isdigit() and not to int(): a tampered expected version on the
    correction or entered-in-error form is refused in words, and nothing is saved."""
    session_id = log_session(app, resident)
    before = row_values(app, session_id)
    nurse = signed_in("nurse")
    for version in ("\u00b2", "abc", "9" * 40):
        fields = correction_form(nurse, session_id)
        fields.setlist("expected_version", [version])
        fields.setlist("duration_minutes", [str(NEW_DURATION)])
        fields.setlist("reason", [REASON])
        assert nurse.post(f"/sessions/{session_id}/correct", data=fields).status_code < 500
        voiding = void_form(nurse, session_id)
        voiding.setlist("expected_version", [version])
        voiding.setlist("reason", [REASON])
        assert nurse.post(f"/sessions/{session_id}/void", data=voiding).status_code < 500
    assert row_values(app, session_id) == before
    assert current_version(app, session_id) == 1
