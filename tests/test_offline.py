"""Entries saved on a tablet offline and sent later, through requests, on both databases: the
roster, whose an entry is, exactly once, the three times, and everything refused saving nothing.
The tablet is played from the outside (tests/helpers/tablet.py): roster, signature and seal."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from carelog.accounts.models import LoginSession, User
from carelog.audit import chain
from carelog.care.models import CareSessionVersion
from carelog.database import utcnow
from carelog.extensions import db
from carelog.residents.models import Resident
from tests.helpers import tablet
from tests.helpers.pages import FULL_ANSWERS, text
from tests.helpers.records import (
    audit_entries,
    nurse_ward,
    plain_residents,
    snapshot_counts,
    user_id,
)

# A full session's answers with no note (so that a late one is refused for want of one).
FULL_SESSION = {
    **{name: value for name, value in FULL_ANSWERS.items() if name != "note"},
    "product": "Own fragrance-free emollient",
}


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _local_minute(app, moment) -> list[list[str]]:
    from carelog.local_time import local

    with app.app_context():
        shown = local(moment)
    return [["occurred_at", f"{shown:%Y-%m-%d}"], ["occurred_at", f"{shown:%H:%M}"]]


def _version(app, key: str) -> CareSessionVersion | None:
    with app.app_context():
        found = db.session.scalar(
            select(CareSessionVersion).where(CareSessionVersion.submission_key == key)
        )
        if found is not None:
            db.session.expunge(found)
        return found


def _someone(app) -> int:
    return plain_residents(app, nurse_ward(app))[0].id


def _start_sign_in_earlier(app, login_id: int, hours: float) -> None:
    with app.app_context():
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.id == login_id)
            .values(started_at=utcnow() - timedelta(hours=hours))
        )
        db.session.commit()


# ---- The roster --------------------------------------------------------------------------------


def test_the_roster_holds_the_nurses_ward_and_no_free_text(app, signed_in):
    """Only her ward's residents, what the board and form need, her sign-in's key and its end;
    no free-text notes, no plan."""
    ward = nurse_ward(app)
    person = _someone(app)
    with app.app_context():
        db.session.execute(
            update(Resident)
            .where(Resident.id == person)
            .values(precaution_notes="NOTE-ON-THE-RECORD", plan_likes="PLAN-ON-THE-RECORD")
        )
        db.session.commit()
        on_ward = set(
            db.session.scalars(
                select(Resident.id).where(Resident.ward_id == ward, Resident.departed_on.is_(None))
            )
        )
    kept = tablet.roster(signed_in("nurse"))
    raw = json.dumps(kept)
    assert {r["id"] for r in kept["residents"]} == on_ward
    assert "NOTE-ON-THE-RECORD" not in raw and "PLAN-ON-THE-RECORD" not in raw
    assert kept["user"]["id"] == user_id(app, "nurse")
    assert len(base64.b64decode(kept["signing_key"])) == 32
    assert 0 < kept["ends_at"] - time.time() * 1000 <= 12 * 3600 * 1000
    one = next(r for r in kept["residents"] if r["id"] == person)
    assert set(one) >= {"name", "room", "stop", "consent", "product", "hands", "state"}


def test_each_sign_in_gets_its_own_key(app, signed_in):
    first, second = tablet.roster(signed_in("nurse")), tablet.roster(signed_in("nurse"))
    assert first["login"] != second["login"]
    assert first["signing_key"] != second["signing_key"]
    assert first["seal_key"] == second["seal_key"]


# ---- Whose it is, and exactly once ---------------------------------------------------------------


def test_an_entry_is_the_nurses_whoever_sends_it(app, signed_in, client):
    """Made in the nurse's sign-in; sent with nobody signed in, or with the care manager signed
    in on the tablet: recorded as the nurse's, with who delivered it in the trail."""
    nurse = signed_in("nurse")
    kept = tablet.roster(nurse)
    people = plain_residents(app, nurse_ward(app))
    by_nobody = tablet.entry(kept, people[0].id, "declined", {"decline_note": "Wanted to sleep"})
    by_manager = tablet.entry(kept, people[1].id, "not_done", {"not_done_reason": "asleep"})

    assert tablet.send(client, by_nobody)[0] == 201
    manager = signed_in("manager")
    assert tablet.send(manager, by_manager)[0] == 201

    nurse_id, manager_id = user_id(app, "nurse"), user_id(app, "manager")
    for body, sender in ((by_nobody, None), (by_manager, manager_id)):
        version = _version(app, body["id"])
        assert version.created_by_id == nurse_id and version.given_by_id == nurse_id
        assert version.saved_on_tablet_at is not None
        [audit] = audit_entries(app, "session.record", version.session_id)
        noted = json.loads(audit.new_values)
        assert audit.actor_id == nurse_id
        assert noted["sent_by"] == sender and noted["saved_on_tablet"]
    with app.app_context():
        assert chain.verify(db.session).ok


def test_an_entry_made_before_sign_out_is_accepted_after_it(app, signed_in, client):
    nurse = signed_in("nurse")
    kept = tablet.roster(nurse)
    body = tablet.entry(kept, _someone(app), "declined")
    assert nurse.submit("/auth/sign-out", page="/").status_code == 303
    status, answer = tablet.send(client, body)
    assert status == 201, answer
    assert _version(app, body["id"]).created_by_id == user_id(app, "nurse")


def test_a_resend_is_a_replay_and_changed_content_is_refused(app, signed_in, client):
    kept = tablet.roster(signed_in("nurse"))
    person = _someone(app)
    body = tablet.entry(kept, person, "declined", {"decline_note": "No thanks"})
    assert tablet.send(client, body)[0] == 201
    before = snapshot_counts(app)
    status, answer = tablet.send(client, body)
    assert status == 200 and answer["replay"] is True
    resealed = tablet.entry(kept, person, "declined", {"decline_note": "No thanks"}, key=body["id"])
    assert tablet.send(client, resealed)[0] == 200  # sealed again, same content: still a replay
    changed = tablet.entry(kept, person, "declined", {"decline_note": "Other"}, key=body["id"])
    status, answer = tablet.send(client, changed)
    assert status == 409 and "different answers" in answer["error"]
    assert answer["url"].startswith("/sessions/")
    assert snapshot_counts(app) == before


# ---- Refused, saving nothing ---------------------------------------------------------------------


def _refused(app, client, body, status: int, words: str) -> None:
    before = snapshot_counts(app)
    got, answer = tablet.send(client, body)
    assert got == status, answer
    assert words in answer["error"], answer
    assert snapshot_counts(app) == before


def test_tampered_and_malformed_entries_are_refused(app, signed_in, client):
    kept = tablet.roster(signed_in("nurse"))
    body = tablet.entry(kept, _someone(app), "declined")
    data = bytearray(base64.b64decode(body["sealed"]["data"]))
    data[5] ^= 1
    flipped = {**body, "sealed": {**body["sealed"], "data": base64.b64encode(data).decode()}}
    _refused(app, client, flipped, 400, "changed or damaged")
    _refused(app, client, {**body, "id": tablet.entry(kept, 1)["id"]}, 400, "key was changed")
    _refused(app, client, {"id": body["id"]}, 400, "not sealed")
    _refused(app, client, {"id": body["id"], "sealed": {"epk": "AAAA", "iv": "x", "data": ""}},
             400, "could not be opened")  # fmt: skip
    _refused(app, client, b"{not json", 400, "not an entry")
    _refused(app, client, ["a", "list"], 400, "not an entry")


def test_a_signature_that_is_not_the_nurses_is_refused(app, signed_in, client):
    nurse_kept = tablet.roster(signed_in("nurse"))
    other_kept = tablet.roster(signed_in("nurse2"))
    person = _someone(app)
    # Signed with another nurse's key while claiming to be the nurse.
    forged = tablet.entry(nurse_kept, person, signing_key=other_kept["signing_key"])
    _refused(app, client, forged, 403, "signature does not match")
    # Claiming another nurse's sign-in.
    borrowed = tablet.entry(nurse_kept, person, login=other_kept["login"])
    _refused(app, client, borrowed, 403, "no sign-in here")
    # For a user who does not exist.
    _refused(app, client, tablet.entry(nurse_kept, person, user=999999), 403, "no sign-in here")


def test_a_resident_of_another_ward_is_refused(app, signed_in, client):
    kept = tablet.roster(signed_in("nurse"))
    with app.app_context():
        elsewhere = db.session.scalar(
            select(Resident.id).where(Resident.ward_id != nurse_ward(app)).limit(1)
        )
    _refused(app, client, tablet.entry(kept, elsewhere), 403, "is not on")
    _refused(app, client, tablet.entry(kept, 999999), 404, "no such resident")


def test_an_answer_the_form_would_refuse_is_refused_in_its_words(app, signed_in, client):
    kept = tablet.roster(signed_in("nurse"))
    person = _someone(app)
    now = utcnow()
    incomplete = {k: v for k, v in FULL_SESSION.items() if k != "relaxation_before"}
    fields = _local_minute(app, now) + [[k, v] for k, v in incomplete.items()]
    _refused(app, client, tablet.entry(kept, person, "session", fields), 422, "Choose a rating")
    _refused(app, client, tablet.entry(kept, person, "fly"), 400, "not a session")
    _refused(app, client, tablet.entry(kept, person, fields="nope"), 400, "not readable")


def test_a_resident_who_refuses_by_the_time_it_arrives_is_refused(app, signed_in, client):
    """Consent withdrawn between saving on the tablet and sending: the server's rules win and
    the tablet is told why."""
    from tests.helpers.records import refuses_from, today

    kept = tablet.roster(signed_in("nurse"))
    person = _someone(app)
    fields = _local_minute(app, utcnow()) + [[k, v] for k, v in FULL_SESSION.items()]
    body = tablet.entry(kept, person, "session", fields)
    refuses_from(app, person, today(app))
    _refused(app, client, body, 422, "consent")


# ---- The three times and the late-entry rule -----------------------------------------------


def test_three_times_are_kept_and_shown(app, signed_in, client):
    nurse = signed_in("nurse")
    kept = tablet.roster(nurse)
    _start_sign_in_earlier(app, kept["login"], 1)
    saved = utcnow() - timedelta(minutes=40)
    occurred = saved - timedelta(minutes=15)
    fields = _local_minute(app, occurred) + [[k, v] for k, v in FULL_SESSION.items()]
    body = tablet.entry(kept, _someone(app), "session", fields, saved_at_ms=_ms(saved))
    assert tablet.send(client, body)[0] == 201
    version = _version(app, body["id"])
    assert abs((version.saved_on_tablet_at - saved).total_seconds()) < 1
    assert version.created_at - version.saved_on_tablet_at > timedelta(minutes=39)
    assert version.occurred_at.replace(second=0) == occurred.replace(second=0, microsecond=0)
    page = text(nurse.get(f"/sessions/{version.session_id}"))
    assert "Recorded offline" in page and "saved on the tablet" in page


def test_lateness_is_judged_by_when_the_tablet_saved_it(app, signed_in, client):
    """Care at 07:00 saved offline at 07:15 and received at 11:15 is not late; the same care
    first saved at 11:15 is, and needs a note."""
    nurse = signed_in("nurse")
    kept = tablet.roster(nurse)
    _start_sign_in_earlier(app, kept["login"], 5)
    saved = utcnow() - timedelta(hours=4)
    occurred = saved - timedelta(minutes=15)
    people = plain_residents(app, nurse_ward(app))
    fields = _local_minute(app, occurred) + [[k, v] for k, v in FULL_SESSION.items()]
    on_time = tablet.entry(kept, people[0].id, "session", fields, saved_at_ms=_ms(saved))
    assert tablet.send(client, on_time)[0] == 201
    assert _version(app, on_time["id"]).late is False
    saved_now = tablet.entry(kept, people[1].id, "session", fields)
    _refused(app, client, saved_now, 422, "long after it happened")


def test_a_tablet_clock_outside_the_sign_in_is_not_believed(app, signed_in, client):
    kept = tablet.roster(signed_in("nurse"))
    person = _someone(app)
    long_before = _ms(utcnow() - timedelta(hours=3))
    _refused(app, client, tablet.entry(kept, person, saved_at_ms=long_before), 422, "clock")
    far_ahead = _ms(utcnow() + timedelta(hours=2))
    _refused(app, client, tablet.entry(kept, person, saved_at_ms=far_ahead), 422, "clock")
    # A few minutes fast: believed, and counted as made when it was received.
    slightly_ahead = tablet.entry(kept, person, saved_at_ms=_ms(utcnow() + timedelta(minutes=4)))
    assert tablet.send(client, slightly_ahead)[0] == 201
    version = _version(app, slightly_ahead["id"])
    assert version.occurred_at <= version.created_at


def test_the_page_shells_hold_no_ones_data(app, signed_in):
    """What the service worker keeps is drawn for no one, even when asked by a signed-in nurse."""
    nurse = signed_in("nurse")
    with app.app_context():
        names = [r.family_name for r in db.session.scalars(select(Resident))]
        full_name = db.session.get(User, user_id(app, "nurse")).full_name
    shells = ("/offline/board", "/offline/session", "/offline/follow-ups", "/offline/unavailable")
    for url in (*shells, "/sw.js"):
        response = nurse.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert not [n for n in names if n in body], url
        assert full_name not in body and "csrf_token" not in body, url
    assert nurse.get("/offline/ping").status_code == 204


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(["id", "sealed", "epk", "iv", "data"]), inner)
        ),
        max_leaves=12,
    )
)
def test_whatever_arrives_is_answered_4xx_never_500(app, client, body):
    status, answer = tablet.send(client, body)
    assert 400 <= status < 500 and answer["error"]


def test_next_morning_sleep_saved_offline_is_added_to_yesterdays_session(app, signed_in, client):
    from tests.helpers.records import local_time, record_given, today

    person = _someone(app)
    session_id = record_given(app, person, local_time(app, today(app) - timedelta(days=1)))
    nurse = signed_in("nurse")
    kept = tablet.roster(nurse)
    [asked] = [f for f in kept["follow_ups"] if f["session"] == session_id]
    fields = {"sleep_after": "7", "sleep_after_rater": "self", "expected_version": "1"}
    other = plain_residents(app, nurse_ward(app))[1].id
    wrong = tablet.entry(kept, other, "sleep", fields, session=session_id)
    _refused(app, client, wrong, 404, "no such session")
    body = tablet.entry(kept, asked["resident"], "sleep", fields, session=session_id)
    assert tablet.send(client, body)[0] == 201
    assert tablet.send(client, body)[0] == 200  # a resend is a replay
    version = _version(app, body["id"])
    assert (version.session_id, version.version_no, version.kind) == (session_id, 2, "follow_up")
    assert version.sleep_after_value == 7 and version.saved_on_tablet_at is not None
    assert version.created_by_id == user_id(app, "nurse")
    assert not [f for f in tablet.roster(nurse)["follow_ups"] if f["session"] == session_id]


def test_her_answers_come_back_with_a_refusal_to_her_only(app, signed_in, client):
    """Refused while she is signed in: the answers come back to put right on the form; to
    anyone else (another nurse, nobody) only the reason."""
    from tests.helpers.records import refuses_from, today

    nurse = signed_in("nurse")
    kept = tablet.roster(nurse)
    person = _someone(app)
    fields = _local_minute(app, utcnow()) + [[k, v] for k, v in FULL_SESSION.items()]
    body = tablet.entry(kept, person, "session", fields)
    refuses_from(app, person, today(app))
    for sender in (client, signed_in("nurse2")):
        status, answer = tablet.send(sender, body)
        assert status == 422 and "consent" in answer["error"] and "answers" not in answer
    status, answer = tablet.send(nurse, body)
    assert status == 422 and ["product", FULL_SESSION["product"]] in answer["answers"]


def test_care_after_the_resident_left_is_refused(app, signed_in, client):
    from carelog.residents import records as resident_records
    from tests.helpers.records import actor, today

    kept = tablet.roster(signed_in("nurse"))
    person = _someone(app)
    yesterday = today(app) - timedelta(days=1)
    with app.app_context():
        resident_records.record_departure(actor(app, "manager"), person, yesterday, "Moved")
    fields = _local_minute(app, utcnow()) + [[k, v] for k, v in FULL_SESSION.items()]
    _refused(app, client, tablet.entry(kept, person, "session", fields), 422, "had left")


def test_what_a_page_asks_by_itself_does_not_keep_a_sign_in_alive(app, signed_in):
    nurse = signed_in("nurse")
    kept = tablet.roster(nurse)
    earlier = utcnow() - timedelta(minutes=5)
    with app.app_context():
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.id == kept["login"])
            .values(last_seen_at=earlier)
        )
        db.session.commit()

    def last_seen():
        with app.app_context():
            return db.session.get(LoginSession, kept["login"]).last_seen_at

    assert nurse.get("/offline/roster", headers={"X-Carelog-Background": "1"}).status_code == 200
    assert abs((last_seen() - earlier).total_seconds()) < 1
    assert nurse.get("/offline/roster").status_code == 200  # a page she opened: use
    assert last_seen() > earlier + timedelta(minutes=4)


def test_hostile_text_and_numbers_in_a_sealed_entry_are_refused_not_500(app, signed_in, client):
    kept = tablet.roster(signed_in("nurse"))
    person = _someone(app)
    for overrides in ({"user": 2**70}, {"login": 2**64}, {"resident": 10**30},
                      {"saved_at": 10**40}, {"saved_at": -1}, {"session": 2**63}):  # fmt: skip
        kind = "sleep" if "session" in overrides else "declined"
        got, answer = tablet.send(client, tablet.entry(kept, person, kind, **overrides))
        assert got == 400 and answer["error"], overrides
    lone = tablet.sealed_text(kept, '{"payload": "\\ud800", "signature": "AA=="}')
    assert tablet.send(client, lone)[0] == 400
    for version in ("\u00b2", "1e3", "-1", "9" * 40):
        fields = {"sleep_after": "7", "sleep_after_rater": "self", "expected_version": version}
        body = tablet.entry(kept, person, "sleep", fields, session=1)
        assert tablet.send(client, body)[0] in (404, 422), version


_ROSTERS: dict[int, tuple[dict, int]] = {}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["session", "declined", "not_done", "sleep"]),
    fields=st.lists(
        st.tuples(
            st.sampled_from(["occurred_at", "hands", "outcome", "decline_note", "not_done_reason",
                             "other_reason", "sleep_after", "sleep_after_rater", "expected_version",
                             "repeat_confirmed", "duration_minutes", "note", "relaxation_before"]),
            st.text(max_size=30),
        ),
        max_size=12,
    ),
)  # fmt: skip
def test_any_answers_in_a_properly_signed_entry_are_answered_never_500(
    app, signed_in, client, kind, fields
):
    """Past the seal and the signature, whatever the answers: saved, or refused in words."""
    if not hasattr(test_any_answers_in_a_properly_signed_entry_are_answered_never_500, "kept"):
        test_any_answers_in_a_properly_signed_entry_are_answered_never_500.kept = (
            tablet.roster(signed_in("nurse")),
            _someone(app),
        )
    kept, person = test_any_answers_in_a_properly_signed_entry_are_answered_never_500.kept
    body = tablet.entry(kept, person, kind, [list(pair) for pair in fields], session=1)
    status, answer = tablet.send(client, body)
    assert status in (200, 201) or (400 <= status < 500 and answer["error"]), (status, answer)
