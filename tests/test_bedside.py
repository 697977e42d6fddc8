"""The bedside rules on the server: nothing recorded twice, the board's states, the plan's
defaults, and a not-done that fails keeps the main form."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carelog.care import amendments
from carelog.database import utcnow
from carelog.local_time import local
from carelog.residents import records
from tests.helpers.pages import (
    board_rows,
    field_errors,
    form_posting_to,
    full_session,
    quick_form,
    session_url,
    text,
)
from tests.helpers.records import (
    actor,
    local_time,
    no_session_content,
    nurse_ward,
    plain_residents,
    record,
    record_given,
    sessions_of,
    snapshot_counts,
    today,
    user_id,
    versions_of,
)


@pytest.fixture
def nurse(signed_in):
    return signed_in("nurse")


@pytest.fixture
def person(app):
    """A Rowan resident with valid consent and no precautions."""
    return plain_residents(app, nurse_ward(app))[0]


def clock(app, moment) -> str:
    with app.app_context():
        return local(moment).strftime("%H:%M")


# ----- nothing recorded twice -------------------------------------------------------------------


def test_a_second_massage_within_two_hours_is_asked_about_then_marked(app, nurse, person):
    """The same form sent again with a new key (Back, then Save) asks first and saves nothing;
    confirmed, it is saved and the record says so."""
    first = full_session(nurse, person.id)
    assert nurse.post(session_url(person.id), data=first).status_code == 303
    [earlier] = sessions_of(app, person.id)
    again = full_session(nurse, person.id)  # a new page, a new one-time key
    before = snapshot_counts(app)
    asked = nurse.post(session_url(person.id), data=again)
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    at = clock(app, versions_of(app, earlier.id)[0].occurred_at)
    question = f"A session was already recorded at {at} by you: record another?"
    assert field_errors(page, "repeat_confirmed") == [question]
    assert snapshot_counts(app) == before
    # The answers are still on the page, ready to confirm.
    kept = form_posting_to(page, session_url(person.id))
    assert kept.checked("relaxation_before") == [again["relaxation_before"]]

    confirmed = nurse.post(session_url(person.id), data={**again, "repeat_confirmed": "y"})
    assert confirmed.status_code == 303
    second = max(s.id for s in sessions_of(app, person.id))
    assert versions_of(app, second)[0].repeat_confirmed is True
    assert versions_of(app, earlier.id)[0].repeat_confirmed is False
    shown = text(nurse.get(f"/sessions/{second}"))
    assert "the nurse confirmed it is another one" in shown


def test_the_question_names_another_nurse_and_covers_declines(app, signed_in, person):
    """Another nurse's earlier session is named; a decline is asked about like a massage."""
    niamh = user_id(app, "nurse")
    earlier = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    record(app, person.id, no_session_content(niamh, earlier, "declined"))
    manager = signed_in("manager")
    before = snapshot_counts(app)
    asked = manager.post(
        f"{session_url(person.id)}/declined", data=quick_form(manager, person.id, "declined")
    )
    assert asked.status_code == 200
    errors = field_errors(asked.get_data(as_text=True), "repeat_confirmed")
    assert errors == [
        f"A decline was already recorded at {clock(app, earlier)} by Niamh Byrne: record another?"
    ]
    assert snapshot_counts(app) == before


def test_outside_the_window_or_another_kind_is_not_asked(app, nurse, person):
    """A massage three hours ago, or a decline an hour ago, is no reason to ask."""
    now = utcnow().replace(microsecond=0)
    record_given(app, person.id, now - timedelta(hours=3), note="Morning round")
    nurse_id = user_id(app, "nurse")
    record(app, person.id, no_session_content(nurse_id, now - timedelta(hours=1), "declined"))
    saved = nurse.post(session_url(person.id), data=full_session(nurse, person.id))
    assert saved.status_code == 303
    assert len(sessions_of(app, person.id)) == 3


def test_the_window_is_a_setting(app, nurse, person):
    """CARELOG_REPEAT_WINDOW_MINUTES decides how soon counts as 'just now'."""
    record_given(app, person.id, utcnow().replace(microsecond=0) - timedelta(minutes=45))
    app.config["CARELOG_REPEAT_WINDOW_MINUTES"] = 30
    assert (
        nurse.post(session_url(person.id), data=full_session(nurse, person.id)).status_code == 303
    )
    app.config["CARELOG_REPEAT_WINDOW_MINUTES"] = 120
    asked = nurse.post(session_url(person.id), data=full_session(nurse, person.id))
    assert asked.status_code == 200


# ----- the form -------------------------------------------------------------------------------


def test_a_refused_not_done_keeps_the_session_forms_time(app, nurse, person):
    """A not-done without its reason is shown again; the main form still has 'When it started'."""
    refused = nurse.post(
        f"{session_url(person.id)}/not-done", data=quick_form(nurse, person.id, "not-done")
    )
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert form_posting_to(page, session_url(person.id)).value("occurred_at")
    assert "Choose why the session was not done." in text(page)


# ----- the board --------------------------------------------------------------------------------


def test_the_board_shows_each_state_and_lists_who_is_due_first(app, signed_in):
    """Deferred with its reason and end date, consent review overdue, does not consent, overdue
    after a long gap, given today; overdue and due come first, and stops are never due."""
    rowan = nurse_ward(app)
    plain = plain_residents(app, rowan)
    deferred, review, refuses, gap, given = plain[:5]
    day = today(app)
    manager = actor(app, "manager")
    with app.app_context():
        records.update(
            manager,
            deferred.id,
            {
                "defer_sessions": True,
                "defer_reason": "Chest infection",
                "defer_until": day + timedelta(days=3),
            },
            "GP visit",
        )
        consent = {"decided_by": "resident", "scope_hands": "both", "consent_given": True}
        records.record_consent(
            manager,
            review.id,
            {**consent, "decided_on": day - timedelta(days=200), "review_on": day - timedelta(1)},
        )
        records.record_consent(
            manager,
            refuses.id,
            {**consent, "consent_given": False, "decided_on": day, "review_on": day},
        )
        records.update(manager, gap.id, {"sessions_per_week": 1}, "Plan review")
    record_given(app, gap.id, utcnow().replace(microsecond=0) - timedelta(days=14))
    record_given(app, given.id, utcnow().replace(microsecond=0))

    page = signed_in("nurse").get("/ward/").get_data(as_text=True)
    rows = board_rows(page)
    until = day + timedelta(days=3)
    assert rows[deferred.id].startswith(f"{deferred.display_name} Room {deferred.room} Deferred")
    assert f"(Chest infection) until {until:%a %-d %b}" in rows[deferred.id]
    assert "Consent review overdue" in rows[review.id]
    assert "Do not massage" in rows[refuses.id]
    assert "does not consent" in rows[refuses.id]
    assert " Overdue " in rows[gap.id]
    assert " Given today " in rows[given.id]
    for stopped in (deferred, review, refuses):
        assert "due" not in rows[stopped.id].replace("overdue", "").lower().split(), stopped

    order = list(rows)
    states = [
        "overdue" if " Overdue " in rows[i] else "due" if " Due " in rows[i] else "other"
        for i in order
    ]
    assert states == sorted(states, key=["overdue", "due", "other"].index), states
    assert order.index(gap.id) < order.index(given.id)
    assert order.index(gap.id) < order.index(deferred.id)


def test_a_deferral_ends_after_its_last_day(app, signed_in, person):
    """Deferred until yesterday: the resident may be massaged again today."""
    day = today(app)
    with app.app_context():
        records.update(
            actor(app, "manager"),
            person.id,
            {
                "defer_sessions": True,
                "defer_reason": "Flu",
                "defer_until": day - timedelta(days=1),
            },
            "Ward flu",
        )
    rows = board_rows(signed_in("nurse").get("/ward/").get_data(as_text=True))
    assert "Deferred" not in rows[person.id]
    nurse = signed_in("nurse")
    assert (
        nurse.post(session_url(person.id), data=full_session(nurse, person.id)).status_code == 303
    )
    assert len(sessions_of(app, person.id)) == 1


def test_pages_say_words_not_codes_and_count_right(app, nurse, person):
    """A session's page and the history say 'accepted without words', '1 minute', 'unable to
    answer' and 'sleep added next morning', never the stored codes."""
    earlier = local_time(app, today(app) - timedelta(days=1))
    session_id = record_given(
        app,
        person.id,
        earlier,
        assent="nonverbal",
        duration_minutes=1,
        relaxation_after_value=None,
        relaxation_after_status="unable",
        relaxation_after_rater=None,
    )
    with app.app_context():
        amendments.record_sleep_after(
            actor(app, "nurse"), session_id, "6f1c1d3e-0000-4000-8000-000000000001", 7,
            "answered", "self", 1, now=earlier + timedelta(hours=18),
        )  # fmt: skip
    page = text(nurse.get(f"/sessions/{session_id}"))
    assert "accepted without words" in page
    assert "1 minute" in page and "1 minutes" not in page
    assert "unable to answer" in page
    assert "nonverbal" not in page
    history = text(nurse.get(f"/residents/{person.id}/sessions"))
    assert "sleep added next morning" in history
    assert " v2" not in history
