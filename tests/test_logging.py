"""Logging a session through the real forms: kept exactly, nothing defaulted, refusals plain."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from carelog import create_app
from carelog.audit import chain
from carelog.care import recording, rules
from carelog.care.models import CareSession, SessionContent
from carelog.database import utcnow
from carelog.extensions import db
from carelog.residents import records
from tests.conftest import StaffClient, app_config
from tests.helpers.pages import (
    FIVE_RATINGS,
    PICK_A_RATING,
    board_rows,
    field_errors,
    flashes,
    form_posting_to,
    from_local_minute,
    full_session,
    local_minute,
    location,
    open_session_form,
    quick_form,
    session_url,
    text,
)
from tests.helpers.records import (
    actor,
    audit_entries,
    local_time,
    no_session_content,
    nurse_ward,
    plain_residents,
    record,
    record_given,
    residents_where,
    sessions_of,
    snapshot_counts,
    today,
    user_id,
    versions_of,
)


@pytest.fixture
def nurse(signed_in):
    """The Rowan nurse, signed in through the form."""
    return signed_in("nurse")


@pytest.fixture
def rowan(app):
    """The id of the nurse's own ward."""
    return nurse_ward(app, "nurse")


@pytest.fixture
def resident(app, rowan):
    """A Rowan resident with valid consent and no precautions."""
    return plain_residents(app, rowan)[0]


def post_session(staff, resident_id: int, data: dict):
    """Post the full session form."""
    return staff.post(session_url(resident_id), data=data)


def assert_refused(app, response, before: dict, field: str, message: str) -> str:
    """The form came back with the message next to the field, and nothing was written."""
    page = response.get_data(as_text=True)
    assert response.status_code == 200, response.status_code
    assert any(message in error for error in field_errors(page, field)), (
        field,
        field_errors(page, field),
        flashes(page),
    )
    assert snapshot_counts(app) == before
    return page


# ----- the form ---------------------------------------------------------------------------------


def test_the_form_shows_precautions_and_consent_first_and_a_fresh_key(app, nurse, rowan):
    """Precautions and consent come before the first question; each visit gets a new key."""
    person = residents_where(app, rowan, avoid_left_hand=True)[0]
    page, form = open_session_form(nurse, person.id)
    precautions = page.index("Before you start")
    assert precautions < page.index('id="session-form"')
    assert precautions < page.index("How relaxed do you feel right now?")
    assert "Do not massage the left hand." in text(page)
    consent = person.consents[0]
    assert f"hands: {consent.scope_hands}" in text(page)
    assert "Avoid left hand" in text(page)

    key = form.value("submission_key")
    assert str(uuid.UUID(key)) == key
    _, again = open_session_form(nurse, person.id)
    assert again.value("submission_key") != key
    # Nothing is pre-selected on any rating.
    for name in FIVE_RATINGS:
        assert form.options(name), name
        assert form.checked(name) == [], name
        assert form.checked(f"{name}_rater") == [], name


def test_the_form_says_when_there_is_no_consent(app, nurse, rowan):
    """A resident with no consent on record is flagged before anything else."""
    without = [p for p in residents_where(app, rowan) if not p.consents]
    assert without, "the demo home has a Rowan resident without consent"
    page = nurse.get(session_url(without[0].id)).get_data(as_text=True)
    shown = text(page)
    assert "No consent recorded. Ask the care manager before a massage." in shown
    assert "Do not give a hand massage: there is no valid consent" in shown
    # A nurse is offered the decline and not-done forms, not the massage.
    assert "How relaxed do you feel" not in shown
    assert "The session form is closed while there is no valid consent" in shown
    assert form_posting_to(page, f"{session_url(without[0].id)}/not-done").checked(
        "not_done_reason"
    ) == ["deferred"]


def test_a_full_session_is_saved_exactly_as_submitted(app, nurse, resident):
    """One session, version 1 holding what was sent, a 303 to it, an audit entry, a page."""
    before = snapshot_counts(app)
    data = full_session(
        nurse,
        resident.id,
        sleep_before="unable",
        sleep_before_rater=None,
        mood_after_rater="observer",
        observations=["redness", "pain"],
        observation_action="Stopped on the left hand, checked the skin",
        observation_told="Nurse in charge",
        duration_minutes="12",
        hands="right",
    )
    response = post_session(nurse, resident.id, data)

    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    stored = sessions_of(app, resident.id)
    assert len(stored) == 1
    care_session = stored[0]
    assert location(response) == (
        f"/sessions/{care_session.id}",
        f"saved={data['submission_key']}",
    )
    nurse_id = user_id(app, "nurse")
    assert care_session.recorded_by_id == nurse_id
    assert care_session.current_version == 1
    assert abs(care_session.recorded_at - utcnow()) < timedelta(minutes=1)

    [version] = versions_of(app, care_session.id)
    assert version.version_no == 1
    assert version.kind == "original"
    assert version.submission_key == data["submission_key"]
    assert version.created_by_id == nurse_id
    assert version.given_by_id == nurse_id
    assert version.occurred_at == from_local_minute(app, data["occurred_at"])
    assert version.duration_minutes == 12
    assert version.precautions_confirmed is True
    assert version.override_reason is None
    assert (version.hands, version.pressure) == ("right", "light")
    assert version.product == data["product"] == resident.preferred_product
    assert (version.assent, version.outcome) == ("agreed", "completed")
    assert version.outcome_reason is None and version.not_done_reason is None
    assert version.observation_list == ["redness", "pain"]
    assert version.observation_action == "Stopped on the left hand, checked the skin"
    assert version.observation_told == "Nurse in charge"
    assert version.note == data["note"]
    assert version.late is False
    assert version.rating("relaxation_before") == (3, "answered", "self")
    assert version.rating("mood_before") == (2, "answered", "self")
    assert version.rating("sleep_before") == (None, "unable", None)
    assert version.rating("relaxation_after") == (7, "answered", "self")
    assert version.rating("mood_after") == (4, "answered", "observer")
    assert version.rating("sleep_after") == (None, None, None)

    after = snapshot_counts(app)
    assert after["sessions"] == before["sessions"] + 1
    assert after["versions"] == before["versions"] + 1
    assert after["audit"] == before["audit"] + 1
    [entry] = audit_entries(app, "session.record")
    assert entry.entity == "care_session"
    assert entry.entity_id == str(care_session.id)
    assert entry.resident_id == resident.id
    assert entry.actor_id == nurse_id
    assert entry.new["version"] == 1 and entry.new["outcome"] == "completed"
    assert data["note"] not in (entry.new_values or "")
    with app.app_context():
        assert chain.verify(db.session).ok

    shown = nurse.get(response.headers["Location"])
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert "Session saved." in flashes(page, "success")
    words = text(page)
    assert resident.display_name in words
    assert "Relaxation 3 → 7" in words
    assert "Mood low → good (observer)" in words
    assert "night before: unable" in words
    assert "Hands, pressure right, light" in words
    assert data["note"] in words


# ----- nothing defaults silently ----------------------------------------------------------------


def test_a_missing_rating_is_refused_next_to_it(app, nurse, resident):
    """Leave out any one of the five ratings: the form says so there, and nothing is saved."""
    for missing in FIVE_RATINGS:
        before = snapshot_counts(app)
        data = full_session(nurse, resident.id, **{missing: None, f"{missing}_rater": None})
        page = assert_refused(
            app, post_session(nurse, resident.id, data), before, missing, PICK_A_RATING
        )
        for other in FIVE_RATINGS:
            if other != missing:
                assert field_errors(page, other) == [], (missing, other)
        # The other answers are kept on the page: nothing the nurse tapped is lost.
        refilled = form_posting_to(page, session_url(resident.id))
        assert refilled.value("submission_key") == data["submission_key"]
        for other in FIVE_RATINGS:
            if other != missing:
                assert refilled.checked(other) == [data[other]], (missing, other)


def test_each_rating_accepts_a_stated_reason_for_none(app, nurse, resident):
    """declined, unable and not_assessed are answers: saved as a status with no value or rater."""
    for status in ("declined", "unable", "not_assessed"):
        answers = {}
        for name in FIVE_RATINGS:
            answers[name] = status
            answers[f"{name}_rater"] = "self"  # a stray rater tap must not turn into data
        answers["repeat_confirmed"] = "y"  # three sessions in a row for one resident
        data = full_session(nurse, resident.id, **answers)
        response = post_session(nurse, resident.id, data)
        assert response.status_code == 303, (status, response.get_data(as_text=True)[:1000])
        session_id = int(location(response)[0].rsplit("/", 1)[1])
        [version] = versions_of(app, session_id)
        for name in FIVE_RATINGS:
            assert version.rating(name) == (None, status, None), (status, name)
    assert len(sessions_of(app, resident.id)) == 3


def test_a_number_without_who_rated_it_is_refused(app, nurse, resident):
    """A numeric rating needs the resident (self) or staff (observer) named as the rater."""
    for name in FIVE_RATINGS:
        before = snapshot_counts(app)
        data = full_session(nurse, resident.id, **{f"{name}_rater": None})
        assert_refused(
            app,
            post_session(nurse, resident.id, data),
            before,
            f"{name}_rater",
            "Say who gave this rating.",
        )


OUT_OF_RANGE = [
    {"relaxation_before": "11"},
    {"relaxation_after": "-1"},
    {"mood_before": "0"},
    {"mood_after": "6"},
    {"sleep_before": "7.5"},
    {"relaxation_before": "ten"},
    {"mood_before_rater": "family"},
    {"duration_minutes": "0"},
    {"duration_minutes": "121"},
    {"duration_minutes": "ten"},
    {"hands": "feet"},
    {"pressure": "deep"},
    {"assent": "declined"},
    {"outcome": "declined"},
    {"observations": ["redness", "sunburn"]},
    {"product": None},
    {"product": "x" * 121},
    {"note": "x" * 2001},
    {"occurred_at": "yesterday"},
    {"occurred_at": None},
]


def test_out_of_range_or_unknown_answers_are_refused(app, nurse, resident):
    """Values outside a scale or a list are refused on the form, never stored or crashed on."""
    for answers in OUT_OF_RANGE:
        before = snapshot_counts(app)
        data = full_session(nurse, resident.id, **answers)
        response = post_session(nurse, resident.id, data)
        assert response.status_code == 200, (answers, response.status_code)
        page = response.get_data(as_text=True)
        assert '<p class="error"' in page, answers
        assert snapshot_counts(app) == before, answers


def test_the_after_section_is_checked_for_consistency(app, nurse, resident):
    """Stopped early needs a reason; a withdrawal is not completed; observations need an action."""
    cases = [
        ({"outcome": "stopped_early"}, "outcome_reason", "Say why it stopped early."),
        (
            {"assent": "withdrew", "outcome": "completed"},
            "outcome",
            "The resident withdrew part way: choose Stopped early.",
        ),
        (
            {"observations": ["bruise"], "observation_action": None},
            "observation_action",
            "Say what you did about what you observed.",
        ),
    ]
    for changes, field, message in cases:
        before = snapshot_counts(app)
        data = full_session(nurse, resident.id, **changes)
        assert_refused(app, post_session(nurse, resident.id, data), before, field, message)


# ----- precautions and consent ------------------------------------------------------------------


def test_unconfirmed_precautions_are_refused(app, nurse, resident):
    """The nurse must confirm they read the precautions and consent."""
    before = snapshot_counts(app)
    data = full_session(nurse, resident.id, precautions_confirmed=None)
    assert_refused(
        app,
        post_session(nurse, resident.id, data),
        before,
        "precautions_confirmed",
        "Confirm you have read the precautions.",
    )


def _avoid_left(app, rowan):
    return residents_where(app, rowan, avoid_left_hand=True)[0], {"hands": "left"}


def _avoid_right(app, rowan):
    return residents_where(app, rowan, avoid_right_hand=True)[0], {"hands": "both"}


def _light_pressure(app, rowan):
    plain = [
        p
        for p in residents_where(app, rowan, light_pressure_only=True, avoid_left_hand=False)
        if p.consents and p.consents[0].is_valid_on(today(app))
    ]
    return plain[0], {"pressure": "normal"}


def _no_valid_consent(app, rowan):
    people = [
        p
        for p in residents_where(app, rowan, avoid_left_hand=False, avoid_right_hand=False)
        if p.consents and not p.consents[0].consent_given
    ]
    return people[0], {}


def _no_consent_at_all(app, rowan):
    return [p for p in residents_where(app, rowan) if not p.consents][0], {}


@pytest.mark.parametrize(
    "choose, concern",
    [
        (_avoid_left, "the left hand is to be avoided"),
        (_avoid_right, "the right hand is to be avoided"),
        (_light_pressure, "light pressure only is advised"),
    ],
    ids=["avoid-left", "avoid-right", "light-pressure"],
)
def test_going_ahead_despite_a_precaution_needs_a_reason(app, nurse, rowan, choose, concern):
    """Overriding a precaution or missing consent is refused without a reason, saved with one."""
    person, changes = choose(app, rowan)
    before = snapshot_counts(app)
    data = full_session(nurse, person.id, **changes)
    page = assert_refused(
        app, post_session(nurse, person.id, data), before, "override_reason", "Say why you went"
    )
    assert concern in " ".join(field_errors(page, "override_reason"))

    reason = "Discussed with the nurse in charge; the resident asked for it."
    response = post_session(nurse, person.id, {**data, "override_reason": reason})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    [care_session] = sessions_of(app, person.id)
    [version] = versions_of(app, care_session.id)
    assert version.override_reason == reason
    assert "Precaution override" in text(nurse.get(response.headers["Location"]))


@pytest.mark.parametrize(
    "choose, concern",
    [(_no_valid_consent, "there is no valid consent"),
     (_no_consent_at_all, "there is no valid consent")],
    ids=["consent-refused", "no-consent"],
)  # fmt: skip
def test_a_nurse_cannot_give_a_massage_without_valid_consent(
    app, nurse, signed_in, rowan, choose, concern
):
    """Stop before, not after: the form says so on its first screen; a nurse's session is
    refused even with a reason; a care manager can record one, with a reason."""
    person, changes = choose(app, rowan)
    first_screen = text(nurse.get(session_url(person.id)))
    assert f"Do not give a hand massage: {concern}" in first_screen
    data = full_session(nurse, person.id, **changes)
    before = snapshot_counts(app)
    reason = "Discussed with the nurse in charge; the resident asked for it."
    refused = post_session(nurse, person.id, {**data, "override_reason": reason})
    assert refused.status_code == 200
    assert f"Do not give a hand massage: {concern}" in text(refused)
    assert snapshot_counts(app) == before

    manager = signed_in("manager")
    managed = full_session(manager, person.id, **changes)
    before = snapshot_counts(app)
    page = assert_refused(
        app, post_session(manager, person.id, managed), before, "override_reason", "Say why"
    )
    assert concern in " ".join(field_errors(page, "override_reason"))
    response = post_session(manager, person.id, {**managed, "override_reason": reason})
    assert response.status_code == 303, text(response)[:2000]
    [care_session] = sessions_of(app, person.id)
    [version] = versions_of(app, care_session.id)
    assert version.override_reason == reason


def test_a_deferred_resident_is_recorded_as_not_done_deferred(app, signed_in):
    """Sessions deferred (fever, infection): the board says so, a nurse's massage is refused,
    and "not done: deferred" is one of the reasons."""
    nurse2 = signed_in("nurse2")
    person = residents_where(app, nurse_ward(app, "nurse2"), defer_sessions=True)[0]
    board = text(nurse2.get("/ward/"))
    assert "Deferred Sessions are deferred" in board
    data = full_session(nurse2, person.id, hands="both")
    before = snapshot_counts(app)
    refused = post_session(nurse2, person.id, {**data, "override_reason": "GP reviewed"})
    assert "Do not give a hand massage: sessions are deferred" in text(refused)
    assert snapshot_counts(app) == before
    page = nurse2.get(session_url(person.id)).get_data(as_text=True)
    assert 'value="deferred"' in page, "deferred is offered as a reason for not done"


def test_the_form_marks_precautions_on_the_choices(app, nurse, rowan):
    """An avoided hand is marked on its buttons; the plan's hands, pressure and product and the
    usual outcome are chosen for the nurse (ratings and raters never are)."""
    left = residents_where(app, rowan, avoid_left_hand=True)[0]
    page, form = open_session_form(nurse, left.id)
    hands = text(page.split('id="hands-group"')[1].split("</fieldset>")[0])
    assert "Left (precaution)" in hands and "Both (precaution)" in hands
    assert "Right (precaution)" not in hands
    assert form.checked("hands") == ["right"]

    light = residents_where(app, rowan, light_pressure_only=True)[0]
    _, form = open_session_form(nurse, light.id)
    assert form.checked("pressure") == ["light"]
    plain = plain_residents(app, rowan)[0]
    _, form = open_session_form(nurse, plain.id)
    assert form.checked("pressure") == ["normal"]
    assert form.checked("hands") == ["both"]
    assert form.checked("outcome") == ["completed"]
    assert form.checked("assent") == []
    assert form.value("duration_minutes") in (None, "")  # picked by the nurse or the timer
    assert form.value("product") == plain.preferred_product


# ----- time -------------------------------------------------------------------------------------


def test_a_future_time_is_refused(app, nurse, resident):
    """A session cannot start in the future."""
    before = snapshot_counts(app)
    future = local_minute(app, utcnow() + timedelta(hours=1))
    data = full_session(nurse, resident.id, occurred_at=future)
    assert_refused(
        app,
        post_session(nurse, resident.id, data),
        before,
        "occurred_at",
        "That time is in the future. Give the time it happened.",
    )


def test_a_late_entry_needs_a_note_and_is_flagged(app, nurse, resident):
    """Recorded more than CARELOG_LATE_ENTRY_HOURS after it happened: a note, and a late flag."""
    hours = app.config["CARELOG_LATE_ENTRY_HOURS"]
    late = local_minute(app, utcnow() - timedelta(hours=hours, minutes=30))
    before = snapshot_counts(app)
    data = full_session(nurse, resident.id, occurred_at=late, note=None)
    assert_refused(
        app, post_session(nurse, resident.id, data), before, "note", "add a note saying why"
    )

    response = post_session(nurse, resident.id, {**data, "note": "Alarm on the next corridor."})
    assert response.status_code == 303
    [care_session] = sessions_of(app, resident.id)
    [version] = versions_of(app, care_session.id)
    assert version.late is True
    assert version.occurred_at == from_local_minute(app, late)
    assert abs(care_session.recorded_at - utcnow()) < timedelta(minutes=1)
    assert "Late entry" in text(nurse.get(response.headers["Location"]))


def test_an_entry_within_the_window_is_not_late(app, nurse, resident):
    """Earlier in the shift, inside the window: saved without a note and not flagged."""
    hours = app.config["CARELOG_LATE_ENTRY_HOURS"]
    earlier = local_minute(app, utcnow() - timedelta(hours=hours) + timedelta(minutes=20))
    data = full_session(nurse, resident.id, occurred_at=earlier, note=None)
    response = post_session(nurse, resident.id, data)
    assert response.status_code == 303
    [care_session] = sessions_of(app, resident.id)
    assert versions_of(app, care_session.id)[0].late is False


def test_the_late_entry_window_is_configurable(database_url):
    """With CARELOG_LATE_ENTRY_HOURS=6, an entry three hours after the event is on time."""
    configured = create_app(app_config(database_url, CARELOG_LATE_ENTRY_HOURS=6))
    try:
        staff = StaffClient(configured.test_client())
        assert staff.sign_in("nurse").status_code == 303
        person = plain_residents(configured, nurse_ward(configured))[0]
        three_hours_ago = local_minute(configured, utcnow() - timedelta(hours=3))
        data = full_session(staff, person.id, occurred_at=three_hours_ago, note=None)
        assert staff.post(session_url(person.id), data=data).status_code == 303
        [care_session] = sessions_of(configured, person.id)
        assert versions_of(configured, care_session.id)[0].late is False
    finally:
        with configured.app_context():
            db.engine.dispose()


def test_a_resident_who_has_left(app, nurse, signed_in, resident):
    """After departure: the form is gone (404), and no session can be dated after they left."""
    data = full_session(nurse, resident.id)  # opened before the departure was recorded
    quick = quick_form(nurse, resident.id, "declined")
    departed_on = today(app) - timedelta(days=1)
    manager = signed_in("manager")
    departure = f"/residents/{resident.id}/departure"
    answer = manager.submit(
        departure,
        {"departed_on": departed_on.isoformat(), "departure_reason": "Moved to hospital"},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:1000]

    before = snapshot_counts(app)
    assert nurse.get(session_url(resident.id)).status_code == 404
    assert post_session(nurse, resident.id, data).status_code == 404
    declined = nurse.post(f"{session_url(resident.id)}/declined", data=quick)
    assert declined.status_code in (200, 404), declined.status_code
    if declined.status_code == 200:
        assert "The resident had left by then." in text(declined)
    assert snapshot_counts(app) == before

    # Through the use case too: after the departure day is refused, on or before it is not.
    with app.app_context():
        after_departure = local_time(app, today(app))
        with pytest.raises(rules.CareError, match="had left"):
            recording.record_session(
                actor(app, "nurse"),
                resident.id,
                str(uuid.uuid4()),
                SessionContent.from_columns(
                    no_session_content(user_id(app, "nurse"), after_departure, "declined")
                ),
                {"test": 1},
                now=after_departure + timedelta(minutes=5),
            )
    assert snapshot_counts(app) == before
    record_given(app, resident.id, local_time(app, departed_on))
    assert len(sessions_of(app, resident.id)) == 1


def test_another_wards_resident_is_not_found(app, nurse):
    """A nurse logs sessions for their own ward only."""
    other = residents_where(app, nurse_ward(app, "nurse2"))[0]
    assert nurse.get(session_url(other.id)).status_code == 404
    before = snapshot_counts(app)
    token = nurse.csrf_token("/ward/")
    data = {"csrf_token": token, "submission_key": str(uuid.uuid4())}
    assert nurse.post(f"{session_url(other.id)}/declined", data=data).status_code == 404
    assert snapshot_counts(app) == before


# ----- two taps: declined and not done ----------------------------------------------------------


def test_a_decline_is_a_complete_record_in_two_taps(app, nurse, resident):
    """Resident declined: one tap on the page's button saves a complete 'declined' record."""
    before = snapshot_counts(app)
    response = nurse.post(
        f"{session_url(resident.id)}/declined", data=quick_form(nurse, resident.id, "declined")
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    [care_session] = sessions_of(app, resident.id)
    assert location(response)[0] == f"/sessions/{care_session.id}"
    [version] = versions_of(app, care_session.id)
    assert (version.outcome, version.assent, version.kind) == ("declined", "declined", "original")
    assert version.given_by_id == user_id(app, "nurse")
    for name in (*FIVE_RATINGS, "sleep_after"):
        assert version.rating(name) == (None, None, None), name
    assert abs(version.occurred_at - utcnow()) < timedelta(minutes=1)
    after = snapshot_counts(app)
    assert after["audit"] == before["audit"] + 1
    assert audit_entries(app)[-1].action == "session.record"
    assert "Declined" in text(nurse.get(response.headers["Location"]))

    rows = board_rows(nurse.get("/ward/").get_data(as_text=True))
    assert "Declined today" in rows[resident.id]


def test_not_done_needs_a_reason_and_shows_on_the_board(app, nurse, rowan):
    """Not done: asleep saves at once; 'other' needs words; no reason at all is refused."""
    first, second = plain_residents(app, rowan)[:2]
    not_done = f"{session_url(first.id)}/not-done"

    before = snapshot_counts(app)
    refused = nurse.post(not_done, data=quick_form(nurse, first.id, "not-done"))
    assert refused.status_code == 200
    assert field_errors(refused.get_data(as_text=True), "not_done_reason") == [
        "Choose why the session was not done."
    ]
    other = {**quick_form(nurse, first.id, "not-done"), "not_done_reason": "other"}
    refused = nurse.post(not_done, data=other)
    assert refused.status_code == 200
    assert field_errors(refused.get_data(as_text=True), "other_reason") == [
        "Say why, in a few words."
    ]
    assert snapshot_counts(app) == before

    asleep = {**quick_form(nurse, first.id, "not-done"), "not_done_reason": "asleep"}
    response = nurse.post(not_done, data=asleep)
    assert response.status_code == 303
    [care_session] = sessions_of(app, first.id)
    [version] = versions_of(app, care_session.id)
    assert (version.outcome, version.not_done_reason) == ("not_done", "asleep")

    other["other_reason"] = "At the hairdresser"
    other["submission_key"] = quick_form(nurse, second.id, "not-done")["submission_key"]
    response = nurse.post(f"{session_url(second.id)}/not-done", data=other)
    assert response.status_code == 303
    [care_session] = sessions_of(app, second.id)
    [version] = versions_of(app, care_session.id)
    assert (version.not_done_reason, version.outcome_reason) == ("other", "At the hairdresser")

    rows = board_rows(nurse.get("/ward/").get_data(as_text=True))
    assert "Not done today" in rows[first.id]
    assert "Not done today" in rows[second.id]


# ----- history ----------------------------------------------------------------------------------


def test_history_is_newest_first_paginated_with_change(app, nurse, resident):
    """25 sessions: two pages, newest first, ratings before and after with the change."""
    days = list(range(1, 26))
    for day in (13, 2, 25, 7, 1, 19, *[d for d in days if d not in (13, 2, 25, 7, 1, 19)]):
        when = local_time(app, today(app) - timedelta(days=day))
        record_given(
            app,
            resident.id,
            when,
            relaxation_before_value=day % 10,
            relaxation_after_value=(day % 10) + 1 if day != 1 else 2,
            mood_before_value=2,
            mood_after_value=5 if day == 1 else 3,
        )
    with app.app_context():
        expected = [
            s.id
            for s, _ in sorted(
                (
                    (s, s.versions[0].occurred_at)
                    for s in db.session.query(CareSession).filter_by(resident_id=resident.id)
                ),
                key=lambda pair: pair[1],
                reverse=True,
            )
        ]
    url = f"/residents/{resident.id}/sessions"
    first = nurse.get(url)
    second = nurse.get(f"{url}?page=2")
    assert first.status_code == second.status_code == 200

    def ids(page):
        return [int(i) for i in re.findall(r'<a href="/sessions/(\d+)">', page)]

    first_page, second_page = first.get_data(as_text=True), second.get_data(as_text=True)
    assert ids(first_page) + ids(second_page) == expected
    assert len(ids(second_page)) == 5
    assert "Page 1 of 2" in text(first_page) and "Page 2 of 2" in text(second_page)
    # The newest (yesterday): relaxation 1 -> 2 (+1), mood 2 -> 5 (+3).
    newest = text(first_page.split("<tbody>")[1].split("</tr>")[0])
    assert "1 → 2 (+1)" in newest
    assert "2 → 5 (+3)" in newest
    assert nurse.get(f"{url}?page=9").status_code in (200, 404)


def test_history_marks_missing_and_observer_ratings(app, nurse, resident):
    """A rating with no value shows as missing, not as zero; an observer rating is marked."""
    record_given(
        app,
        resident.id,
        local_time(app, today(app) - timedelta(days=1)),
        relaxation_before_value=None,
        relaxation_before_status="declined",
        relaxation_before_rater=None,
        mood_after_rater="observer",
    )
    page = nurse.get(f"/residents/{resident.id}/sessions").get_data(as_text=True)
    row = page.split("<tbody>")[1].split("</tr>")[0]
    assert 'title="declined"' in row
    assert 'title="rated by staff observing"' in row
    relaxation = re.findall(r"<td>(.*?)</td>", row, re.S)[2]
    assert "(" not in relaxation  # no change is worked out from a missing rating


# ----- append-only at the database --------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE care_session_version SET note = 'rewritten'",
        "UPDATE care_session_version SET relaxation_after_value = 10",
        "DELETE FROM care_session_version",
        "DELETE FROM care_session",
    ],
)
def test_the_database_refuses_to_change_the_record(app, resident, statement):
    """Versions cannot be updated or deleted, nor sessions deleted, even with raw SQL."""
    session_id = record_given(app, resident.id, local_time(app, today(app) - timedelta(days=1)))
    record(
        app,
        resident.id,
        no_session_content(
            user_id(app, "nurse"), local_time(app, today(app) - timedelta(days=2)), "declined"
        ),
    )
    before = snapshot_counts(app)
    original = versions_of(app, session_id)[0]
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(sql(statement))
            db.session.commit()
        db.session.rollback()
    assert snapshot_counts(app) == before
    assert versions_of(app, session_id)[0].note == original.note
    assert versions_of(app, session_id)[0].relaxation_after_value == 7


def test_emptying_the_table_is_refused(app, backend, resident):
    """TRUNCATE on PostgreSQL (which row triggers miss) and SQLite's truncate shortcut both fail."""
    record_given(app, resident.id, local_time(app, today(app) - timedelta(days=1)))
    before = snapshot_counts(app)
    statement = {
        "postgresql": "TRUNCATE care_session_version CASCADE",
        "sqlite": "DELETE FROM care_session_version",  # unqualified: SQLite's truncate path
    }[backend]
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(sql(statement))
            db.session.commit()
        db.session.rollback()
    assert snapshot_counts(app) == before


def test_a_change_to_the_resident_does_not_touch_recorded_sessions(app, resident):
    """Precautions set after a session leave the saved session as it was."""
    session_id = record_given(app, resident.id, local_time(app, today(app) - timedelta(days=1)))
    with app.app_context():
        records.update(actor(app, "manager"), resident.id, {"avoid_left_hand": True}, "Bruise")
    [version] = versions_of(app, session_id)
    assert version.hands == "both" and version.override_reason is None
