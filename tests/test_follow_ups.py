"""Next-morning sleep: the follow-up list; a follow-up adds a version and overwrites nothing."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from carelog.audit import chain
from carelog.care import amendments, rules
from carelog.care.models import CONTENT_FIELDS, CareSession
from carelog.care.vocabulary import VersionKind
from carelog.extensions import db
from tests.helpers.pages import flashes, form_posting_to, location, text
from tests.helpers.records import (
    actor,
    add_correction,
    audit_entries,
    local_time,
    no_session_content,
    nurse_ward,
    plain_residents,
    record,
    record_given,
    snapshot_counts,
    today,
    user_id,
    versions_of,
)

FOLLOW_UPS = "/ward/follow-ups"
CONTENT_COLUMNS = tuple(c for c in CONTENT_FIELDS if not c.startswith("sleep_after")) + (
    "late",
    "occurred_at",
)


@pytest.fixture
def nurse(signed_in):
    """The Rowan nurse, signed in."""
    return signed_in("nurse")


@pytest.fixture
def people(app):
    """Rowan residents with valid consent and no precautions."""
    return plain_residents(app, nurse_ward(app))


def yesterday_session(app, resident_id: int) -> int:
    """A massage given yesterday afternoon; its night-after sleep is still to come."""
    return record_given(app, resident_id, local_time(app, today(app) - timedelta(days=1)))


def follow_up_form(staff, session_id: int) -> dict:
    """The follow-up form for one session, as on the list: its prefixed CSRF, key and version."""
    page = staff.get(FOLLOW_UPS).get_data(as_text=True)
    form = form_posting_to(page, f"{FOLLOW_UPS}/{session_id}")
    prefix = f"s{session_id}-"
    return {
        name: form.value(name)
        for name in (f"{prefix}csrf_token", f"{prefix}submission_key", f"{prefix}expected_version")
    }


def sleep(data: dict, session_id: int, value: str | None, rater: str | None = "self") -> dict:
    """The follow-up payload with a sleep answer (None leaves a field out)."""
    answers = {f"s{session_id}-sleep_after": value, f"s{session_id}-sleep_after_rater": rater}
    return {**data, **{k: v for k, v in answers.items() if v is not None}}


def post_follow_up(staff, session_id: int, data: dict):
    """Post a follow-up and return (response, the page it redirects to)."""
    response = staff.post(f"{FOLLOW_UPS}/{session_id}", data=data)
    page = staff.get(response.headers["Location"]) if response.status_code == 303 else response
    return response, page.get_data(as_text=True)


def card(page: str, session_id: int) -> str:
    """One resident's card on the follow-up list."""
    return page.split(f'id="follow-up-{session_id}"')[1].split("</section>")[0]


def card_errors(page: str, session_id: int) -> list[str]:
    """The error messages shown on one card."""
    return [text(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', card(page, session_id))]


def listed(staff) -> set[int]:
    """The sessions on the follow-up list."""
    page = staff.get(FOLLOW_UPS).get_data(as_text=True)
    return {int(i) for i in re.findall(r'action="/ward/follow-ups/(\d+)"', page)}


def test_recording_sleep_adds_a_version_and_keeps_the_original(app, nurse, people):
    """Yesterday's session is listed; its sleep adds version 2, audited; v1 stays; it leaves."""
    person = people[0]
    session_id = yesterday_session(app, person.id)
    assert listed(nurse) == {session_id}
    page = nurse.get(FOLLOW_UPS).get_data(as_text=True)
    assert person.display_name in text(page)
    board = nurse.get("/ward/").get_data(as_text=True)
    assert "1 resident to ask how they slept after a massage" in text(board)

    [original] = versions_of(app, session_id)
    before = snapshot_counts(app)
    data = sleep(follow_up_form(nurse, session_id), session_id, "8", "self")
    response, shown = post_follow_up(nurse, session_id, data)
    assert response.status_code == 303
    assert location(response)[0] == FOLLOW_UPS
    assert f"Sleep recorded for {person.display_name}." in flashes(shown, "success")

    first, second = versions_of(app, session_id)
    for column in (*CONTENT_COLUMNS, "kind", "submission_key", "created_at", "created_by_id"):
        assert getattr(first, column) == getattr(original, column), column
    assert first.rating("sleep_after") == (None, None, None)
    assert second.version_no == 2
    assert second.kind == VersionKind.FOLLOW_UP.value
    assert second.rating("sleep_after") == (8, "answered", "self")
    assert second.created_by_id == user_id(app, "nurse")
    assert second.submission_key == data[f"s{session_id}-submission_key"]
    for column in CONTENT_COLUMNS:
        assert getattr(second, column) == getattr(original, column), column
    with app.app_context():
        assert db.session.get(CareSession, session_id).current_version == 2

    after = snapshot_counts(app)
    assert after == {**before, "versions": before["versions"] + 1, "audit": before["audit"] + 1}
    [entry] = audit_entries(app, "session.follow_up")
    assert entry.entity_id == str(session_id) and entry.resident_id == person.id
    assert entry.old == {
        "sleep_after_value": None,
        "sleep_after_status": None,
        "sleep_after_rater": None,
        "version": 1,
    }
    assert entry.new == {
        "sleep_after_value": 8,
        "sleep_after_status": "answered",
        "sleep_after_rater": "self",
        "version": 2,
    }
    with app.app_context():
        assert chain.verify(db.session).ok

    assert listed(nurse) == set()
    assert "how they slept" not in text(nurse.get("/ward/"))
    shown = text(nurse.get(f"/sessions/{session_id}"))
    assert "night after: 8" in shown
    assert "Version 2" in shown and "follow up" in shown


def test_only_recent_given_sessions_are_listed(app, nurse, people):
    """Declines, not-dones, today's, voided and older sessions never appear."""
    nurse_id = user_id(app, "nurse")
    yesterday = local_time(app, today(app) - timedelta(days=1))
    wanted = yesterday_session(app, people[0].id)
    stopped = record_given(
        app,
        people[1].id,
        yesterday,
        outcome="stopped_early",
        outcome_reason="Tired",
        assent="withdrew",
    )
    declined = record(app, people[2].id, no_session_content(nurse_id, yesterday, "declined"))
    not_done = record(app, people[3].id, no_session_content(nurse_id, yesterday, "not_done"))
    record_given(app, people[4].id, local_time(app, today(app) - timedelta(days=6)))
    voided = yesterday_session(app, people[5].id)
    with app.app_context():
        amendments.add_version(
            actor(app, "manager"), voided, str(uuid.uuid4()), VersionKind.VOID, {}, "Error", 1
        )
    assert listed(nurse) == {wanted, stopped}
    assert listed(nurse) & {declined, not_done, voided} == set()

    # Posting to a decline anyway is refused and saves nothing.
    data = sleep(follow_up_form(nurse, wanted), declined, "5")
    data = {k.replace(f"s{wanted}-", f"s{declined}-"): v for k, v in data.items()}
    before = snapshot_counts(app)
    response, shown = post_follow_up(nurse, declined, data)
    assert response.status_code == 303
    assert any("only recorded for given sessions" in m for m in flashes(shown, "error"))
    assert snapshot_counts(app) == before


def test_another_wards_follow_ups_are_not_theirs(app, signed_in, people):
    """Willow's nurse neither sees nor records Rowan's follow-ups."""
    session_id = yesterday_session(app, people[0].id)
    nurse = signed_in("nurse")
    data = sleep(follow_up_form(nurse, session_id), session_id, "6")
    nurse2 = signed_in("nurse2")
    assert listed(nurse2) == set()
    token = nurse2.csrf_token("/ward/")
    data[f"s{session_id}-csrf_token"] = token
    before = snapshot_counts(app)
    assert nurse2.post(f"{FOLLOW_UPS}/{session_id}", data=data).status_code == 404
    assert snapshot_counts(app) == before


def test_a_stated_reason_is_a_sleep_answer_and_a_number_needs_a_rater(app, nurse, people):
    """'Unable to answer' is saved as a status; a number without who rated it is refused."""
    first = yesterday_session(app, people[0].id)
    second = yesterday_session(app, people[1].id)
    before = snapshot_counts(app)
    for bad in (
        sleep(follow_up_form(nurse, first), first, "7", None),
        sleep(follow_up_form(nurse, first), first, None, None),
        sleep(follow_up_form(nurse, first), first, "11"),
        {**sleep(follow_up_form(nurse, first), first, "7"), f"s{first}-expected_version": "x"},
        {**sleep(follow_up_form(nurse, first), first, "7"), f"s{first}-submission_key": "1"},
    ):
        response, shown = post_follow_up(nurse, first, bad)
        assert response.status_code == 200  # the list again, the error on that card
        assert card_errors(shown, first), bad
        assert card_errors(shown, second) == []
        assert snapshot_counts(app) == before
    response, shown = post_follow_up(
        nurse, second, sleep(follow_up_form(nurse, second), second, "unable", "self")
    )
    assert flashes(shown, "success")
    assert versions_of(app, second)[-1].rating("sleep_after") == (None, "unable", None)


def test_a_double_tap_is_a_replay_not_a_second_version(app, nurse, people):
    """The same follow-up posted twice: one version, and the second answer says it was saved."""
    session_id = yesterday_session(app, people[0].id)
    data = sleep(follow_up_form(nurse, session_id), session_id, "4", "observer")
    first, _ = post_follow_up(nurse, session_id, data)
    assert first.status_code == 303
    after_first = snapshot_counts(app)
    again, shown = post_follow_up(nurse, session_id, data)
    assert again.status_code == 303
    assert snapshot_counts(app) == after_first
    assert len(versions_of(app, session_id)) == 2
    # A retry of a saved answer must not tell the nurse it failed.
    assert not any("Not saved" in m for m in flashes(shown)), flashes(shown)

    # The same key with a different answer is refused and saves nothing.
    changed = sleep(data, session_id, "9", "self")
    response, shown = post_follow_up(nurse, session_id, changed)
    assert flashes(shown, "error")
    assert snapshot_counts(app) == after_first
    assert versions_of(app, session_id)[-1].rating("sleep_after") == (4, "answered", "observer")


def test_a_stale_form_is_refused(app, nurse, people):
    """If the entry changed after the list was opened, the follow-up is refused, not merged."""
    session_id = yesterday_session(app, people[0].id)
    data = sleep(follow_up_form(nurse, session_id), session_id, "6")
    assert data[f"s{session_id}-expected_version"] == "1"
    add_correction(app, session_id, {"note": "Corrected: she had her hands creamed too"})
    before = snapshot_counts(app)
    response, shown = post_follow_up(nurse, session_id, data)
    assert response.status_code == 200
    assert any("Someone else changed this entry" in m for m in card_errors(shown, session_id))
    assert snapshot_counts(app) == before
    assert [v.kind for v in versions_of(app, session_id)] == ["original", "correction"]

    fresh = sleep(follow_up_form(nurse, session_id), session_id, "6")
    assert fresh[f"s{session_id}-expected_version"] == "2"
    response, shown = post_follow_up(nurse, session_id, fresh)
    assert flashes(shown, "success")
    third = versions_of(app, session_id)[-1]
    assert (third.version_no, third.kind) == (3, "follow_up")
    assert third.note == "Corrected: she had her hands creamed too"


def test_two_staff_recording_the_same_night(app, signed_in, people):
    """Two forms opened at once for the same session: the first saves, the second is refused."""
    session_id = yesterday_session(app, people[0].id)
    nurse, manager = signed_in("nurse"), signed_in("manager")
    mine = sleep(follow_up_form(nurse, session_id), session_id, "6")
    theirs = sleep(follow_up_form(manager, session_id), session_id, "3")
    _, shown = post_follow_up(nurse, session_id, mine)
    assert flashes(shown, "success")
    _, shown = post_follow_up(manager, session_id, theirs)
    assert flashes(shown, "error")
    assert [v.rating("sleep_after")[0] for v in versions_of(app, session_id)] == [None, 6]


def test_the_card_names_the_night_and_keeps_the_rating_when_refused(app, nurse, people):
    """The list asks about the night of yesterday's massage by its day and date; a missing
    "Rated by" is shown on that card with the chosen rating still chosen."""
    session_id = yesterday_session(app, people[0].id)
    night = today(app) - timedelta(days=1)
    page = nurse.get(FOLLOW_UPS).get_data(as_text=True)
    assert f"the night of {night:%A %-d %B}" in text(card(page, session_id))
    response, shown = post_follow_up(
        nurse, session_id, sleep(follow_up_form(nurse, session_id), session_id, "7", None)
    )
    assert response.status_code == 200
    assert card_errors(shown, session_id) == ["Say who gave this rating."]
    kept = form_posting_to(shown, f"{FOLLOW_UPS}/{session_id}")
    assert kept.checked(f"s{session_id}-sleep_after") == ["7"]


def test_only_the_night_just_ended_is_asked_about(app, nurse, people):
    """A massage two days ago is not listed, and its sleep cannot be recorded as last night's:
    that answer would be about another night."""
    older = record_given(app, people[0].id, local_time(app, today(app) - timedelta(days=2)))
    assert older not in listed(nurse)
    with app.app_context():
        before = snapshot_counts(app)
        with pytest.raises(rules.CareError, match="the night of"):
            amendments.record_sleep_after(
                actor(app, "nurse"), older, str(uuid.uuid4()), 6, "answered", "self", 1
            )
    assert snapshot_counts(app) == before
