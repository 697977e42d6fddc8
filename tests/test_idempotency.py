"""One-time submission keys: a retry returns the saved record, never a second; a clash is 409."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from carelog.audit import chain
from carelog.care import recording, rules
from carelog.care.models import CareSessionVersion, SessionContent
from carelog.extensions import db
from carelog.local_time import local
from carelog.residents import records
from carelog.residents.models import Resident
from tests.conftest import StaffClient
from tests.helpers.pages import (
    ALREADY_SAVED,
    field_errors,
    flashes,
    full_session,
    location,
    quick_form,
    session_url,
    text,
)
from tests.helpers.records import (
    actor,
    audit_entries,
    count,
    given_content,
    nurse_ward,
    plain_residents,
    sessions_of,
    snapshot_counts,
    user_id,
    versions_of,
)

OUT_OF_DATE = "This form is out of date. Reload the page and try again."
CONFLICT = "This form was already saved with different answers."
THREADS = 8


@pytest.fixture
def nurse(signed_in):
    """The Rowan nurse, signed in."""
    return signed_in("nurse")


@pytest.fixture
def people(app):
    """Rowan residents with valid consent and no precautions."""
    return plain_residents(app, nurse_ward(app))


def test_a_double_tap_saves_one_session(app, nurse, people):
    """The same form posted twice: one session; the second answer leads to the same record."""
    person = people[0]
    data = full_session(nurse, person.id)
    first = nurse.post(session_url(person.id), data=data)
    assert first.status_code == 303
    assert "Session saved." in flashes(nurse.get(first.headers["Location"]).get_data(as_text=True))
    after_first = snapshot_counts(app)
    second = nurse.post(session_url(person.id), data=data)
    assert second.status_code == 303
    assert location(first) == location(second)
    assert snapshot_counts(app) == after_first
    assert len(sessions_of(app, person.id)) == 1
    assert len(audit_entries(app, "session.record")) == 1
    page = nurse.get(second.headers["Location"]).get_data(as_text=True)
    assert ALREADY_SAVED in flashes(page, "info")
    assert "Session saved." not in flashes(page)
    after_viewing = snapshot_counts(app)  # opening the session page is itself an audited read

    # A key written in another spelling of the same UUID is the same key.
    third = nurse.post(
        session_url(person.id), data={**data, "submission_key": data["submission_key"].upper()}
    )
    assert third.status_code == 303 and location(third) == location(first)
    assert snapshot_counts(app) == after_viewing


@pytest.mark.parametrize("which", ["declined", "not-done"])
def test_a_two_tap_record_retried_is_saved_once(app, nurse, people, which):
    """A decline or a not-done sent twice (the second after a dropped connection) is one record."""
    person = people[0]
    data = quick_form(nurse, person.id, which)
    if which == "not-done":
        data["not_done_reason"] = "unwell"
    url = f"{session_url(person.id)}/{which}"
    first = nurse.post(url, data=data)
    after_first = snapshot_counts(app)
    second = nurse.post(url, data=data)
    assert first.status_code == second.status_code == 303
    assert location(first) == location(second)
    assert snapshot_counts(app) == after_first
    assert ALREADY_SAVED in flashes(nurse.get(second.headers["Location"]).get_data(as_text=True))


def test_the_same_key_with_different_answers_is_refused(app, nurse, people):
    """A 409 in plain words, and the first record stays as it was."""
    person = people[0]
    data = full_session(nurse, person.id)
    first = nurse.post(session_url(person.id), data=data)
    assert first.status_code == 303
    [care_session] = sessions_of(app, person.id)
    [original] = versions_of(app, care_session.id)
    before = snapshot_counts(app)
    for changes in ({"relaxation_after": "9"}, {"note": "Something else"}, {"hands": "left"}):
        clash = nurse.post(session_url(person.id), data={**data, **changes})
        assert clash.status_code == 409, changes
        assert CONFLICT in text(clash)
        # Not "open the resident again": that advice recorded one massage twice (issue 16).
        assert "open what was saved to check it" in text(clash)
        assert f'href="/sessions/{care_session.id}"' in clash.get_data(as_text=True)
        assert snapshot_counts(app) == before
    [kept] = versions_of(app, care_session.id)
    assert (kept.relaxation_after_value, kept.note, kept.hands) == (
        original.relaxation_after_value,
        original.note,
        original.hands,
    )

    # The decline form's key cannot be spent on a different kind of record either.
    decline = quick_form(nurse, person.id, "declined")
    assert nurse.post(f"{session_url(person.id)}/declined", data=decline).status_code == 303
    reused = full_session(nurse, person.id, submission_key=decline["submission_key"])
    before = snapshot_counts(app)
    assert nurse.post(session_url(person.id), data=reused).status_code == 409
    assert snapshot_counts(app) == before


def test_the_same_key_for_another_resident_is_refused(app, nurse, people):
    """A key spent on one resident's session cannot answer for another resident."""
    first, second = people[:2]
    data = full_session(nurse, first.id)
    assert nurse.post(session_url(first.id), data=data).status_code == 303
    before = snapshot_counts(app)
    answer = nurse.post(session_url(second.id), data=data)
    assert sessions_of(app, second.id) == []
    assert snapshot_counts(app) == before
    # Not a replay pointing at the first resident's record: the nurse must be told.
    assert answer.status_code == 409, (answer.status_code, answer.headers.get("Location"))


MALFORMED_KEYS = [None, "", "not-a-key", "1234", "0" * 37, "x" * 5000, "' OR 1=1 --", "é" * 36]


def test_a_malformed_key_is_refused_on_the_form(app, nurse, people):
    """Every form refuses a key that is not a UUID, in words, and saves nothing."""
    person = people[0]
    data = full_session(nurse, person.id)
    declined = quick_form(nurse, person.id, "declined")
    not_done = {**quick_form(nurse, person.id, "not-done"), "not_done_reason": "asleep"}
    before = snapshot_counts(app)  # after opening the forms: each opening is an audited read
    for key in MALFORMED_KEYS:
        for url, payload in (
            (session_url(person.id), data),
            (f"{session_url(person.id)}/declined", declined),
            (f"{session_url(person.id)}/not-done", not_done),
        ):
            sent = {k: v for k, v in {**payload, "submission_key": key}.items() if v is not None}
            response = nurse.post(url, data=sent)
            assert response.status_code == 200, (key, url, response.status_code)
            errors = field_errors(response.get_data(as_text=True), "submission_key")
            assert OUT_OF_DATE in errors, (key, url, errors)
    assert snapshot_counts(app) == before


def test_a_reload_gives_a_new_key_and_a_second_session_only_once_confirmed(app, nurse, people):
    """A fresh form has a fresh key; a second session soon after the first is asked about, and
    saved as another only when the nurse confirms."""
    person = people[0]
    first = nurse.post(session_url(person.id), data=full_session(nurse, person.id))
    assert first.status_code == 303
    again = full_session(nurse, person.id)
    asked = nurse.post(session_url(person.id), data=again)
    assert asked.status_code == 200
    assert len(sessions_of(app, person.id)) == 1
    confirmed = nurse.post(session_url(person.id), data={**again, "repeat_confirmed": "y"})
    assert confirmed.status_code == 303
    assert len(sessions_of(app, person.id)) == 2


def _signed_in_clients(app, how_many: int) -> list[StaffClient]:
    """Separate browsers, each signed in as the nurse through the form."""

    def sign_in(_):
        staff = StaffClient(app.test_client())
        response = staff.sign_in("nurse")
        assert response.status_code == 303, response.status_code
        return staff

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(sign_in, range(how_many)))


def test_concurrent_posts_of_one_key_create_one_row(app, people):
    """8 browsers post the same session at the same instant: one row, eight answers that agree."""
    browsers = _signed_in_clients(app, THREADS)
    for round_number, person in enumerate(people[:3]):
        data = full_session(browsers[0], person.id)
        payloads = [{**data, "csrf_token": browser.csrf_token("/ward/")} for browser in browsers]
        start = threading.Barrier(THREADS)

        def post(index, payloads=payloads, start=start, person=person):
            start.wait()
            return browsers[index].post(session_url(person.id), data=payloads[index])

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            answers = list(pool.map(post, range(THREADS)))

        unexpected = [(a.status_code, text(a)[:300]) for a in answers if a.status_code != 303]
        assert not unexpected, (round_number, unexpected)
        assert len({location(a) for a in answers}) == 1
        assert len(sessions_of(app, person.id)) == 1
        key = data["submission_key"]
        assert count(app, CareSessionVersion, CareSessionVersion.submission_key == key) == 1
    assert len(audit_entries(app, "session.record")) == 3
    with app.app_context():
        assert chain.verify(db.session).ok


def test_a_retry_hours_later_gets_the_saved_record_not_a_complaint(app, people):
    """A resubmission after a long outage is a replay, even though the entry would now be late
    and the resident has since left: the checks apply to new records, not to saved ones."""
    person = people[0]
    happened = datetime.now(UTC) - timedelta(hours=1)
    content = given_content(user_id(app, "nurse"), happened)
    key = str(uuid.uuid4())
    with app.app_context():
        first = recording.record_session(
            actor(app, "nurse"), person.id, key, SessionContent.from_columns(content), content
        )
        records.record_departure(
            actor(app, "manager"), person.id, local(happened).date(), "Moved to hospital"
        )
        assert db.session.get(Resident, person.id).departed_on is not None
    before = snapshot_counts(app)
    with app.app_context():
        again = recording.record_session(
            actor(app, "nurse"),
            person.id,
            key,
            SessionContent.from_columns(content),
            content,
            now=happened + timedelta(hours=9),
        )
        with pytest.raises(rules.CareError, match="long after"):
            recording.record_session(
                actor(app, "nurse"),
                person.id,
                str(uuid.uuid4()),
                SessionContent.from_columns(content),
                content,
                now=happened + timedelta(hours=9),
            )
    assert (again.session_id, again.replay) == (first.session_id, True)
    assert snapshot_counts(app) == before
