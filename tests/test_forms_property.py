"""Generated input thrown at every form: never a 5xx, and a refused submission saves nothing.

Each test builds the app once (the `app` fixture) and runs an inner Hypothesis test against it:
the database accumulates what valid examples save, and each example compares row counts before
and after its own request. Signed-in clients are reused between examples (signing in costs an
argon2 hash, about half a second); the sign-in form gets a fresh anonymous client per example.

A body is either a valid submission with a few fields removed, replaced by junk or doubled, plus
stray extra fields; or any subset of the form's fields with any values. Free text that is valid
is still any Unicode text of an allowed length, NUL and emoji included.
"""

from __future__ import annotations

import contextlib
import gc
import io
import uuid
import warnings
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from PIL import Image
from sqlalchemy import func, select

from carelog.accounts.models import LoginSession, User, Ward
from carelog.audit.models import AuditEntry
from carelog.care.models import CareSession, CareSessionVersion
from carelog.database import utcnow
from carelog.extensions import db
from carelog.residents.models import Consent, Resident, ResidentPhoto
from carelog.tablets.models import Tablet
from tests.conftest import PASSWORDS, StaffClient
from tests.helpers.pages import flashes, local_minute
from tests.helpers.records import (
    local_time,
    no_session_content,
    nurse_ward,
    record,
    record_given,
    residents_where,
    today,
    user_id,
)

TABLES = (
    User, Ward, Resident, Consent, CareSession, CareSessionVersion, AuditEntry, LoginSession,
    Tablet, ResidentPhoto,
)  # fmt: skip
HUGE_ID = 10**20  # beyond any database integer

# ----- values -----------------------------------------------------------------------------------

# Any character a browser can send (no lone surrogates, which cannot be encoded), with the
# troublesome ones drawn often: NUL, controls, a right-to-left override, a BOM, markup.
characters = st.one_of(
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from("\x00\x1b\r\n\t\u202e\ufeff\u0301<>&'\"%"),
)
short_text = st.text(characters, max_size=40)
huge_text = st.sampled_from(
    [
        "x" * 301,
        "é" * 2001,
        "😀" * 5000,
        "a" * 100_000,
        "b" * (1024 * 1024 + 10),  # beyond MAX_CONTENT_LENGTH
    ]
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
).map(str)
any_date = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
junk = st.one_of(short_text, short_text, numbers, any_date, huge_text, st.just(""))


def words(max_size: int, required: bool = True) -> st.SearchStrategy:
    """Free text within the field's limit: any characters at all."""
    text = st.text(characters, min_size=1, max_size=min(max_size, 60))
    return text if required else st.one_of(st.just(""), text)


def near(days: int) -> st.SearchStrategy:
    """A date within `days` of today, as a browser's date control sends it."""
    return st.integers(min_value=-days, max_value=days).map(
        lambda offset: (date.today() + timedelta(days=offset)).isoformat()
    )


def past(days: int) -> st.SearchStrategy:
    """A date up to `days` before today."""
    return st.integers(min_value=1, max_value=days).map(
        lambda offset: (date.today() - timedelta(days=offset)).isoformat()
    )


def form_body(valid: dict[str, st.SearchStrategy], prefix: str = "") -> st.SearchStrategy:
    """Bodies for a form keyed by its real field names, valid or nearly valid or anything."""
    names = sorted(valid)
    replacement = st.one_of(st.none(), junk, st.lists(junk, min_size=2, max_size=3))
    mutations = st.lists(st.tuples(st.sampled_from(names), replacement), max_size=3)
    extras = st.dictionaries(st.text(characters, min_size=1, max_size=12), junk, max_size=2)

    def build(base: dict, changes: list, extra: dict) -> dict:
        body = {**extra, **base}
        for name, new in changes:
            if new is None:
                body.pop(name, None)  # a missing field
            else:
                body[name] = new  # junk, or several values where one is expected
        return {prefix + name: v for name, v in body.items()}

    nearly_valid = st.builds(build, st.fixed_dictionaries(valid), mutations, extras)
    anything = st.builds(
        build,
        st.fixed_dictionaries({}, optional={n: st.one_of(v, junk) for n, v in valid.items()}),
        st.just([]),
        extras,
    )
    return st.one_of(nearly_valid, nearly_valid, nearly_valid, anything)


def choice(*values: str) -> st.SearchStrategy:
    """One of a field's valid values."""
    return st.sampled_from(values)


def ids(*known: int) -> st.SearchStrategy:
    """An id for the address: mostly a real one; else one that does not exist, or a huge one.

    Made-up ids start far above the demo home's, so they never hit the signed-in account.
    """
    real = st.sampled_from(known)
    wrong = st.one_of(st.integers(min_value=10**5, max_value=10**9), st.just(HUGE_ID))
    return st.one_of(real, real, real, real, real, wrong)


submission_keys = st.one_of(st.uuids().map(str), st.uuids().map(str), junk)
csrf_modes = st.sampled_from(["valid"] * 6 + ["missing", "junk"])
ratings = ("0", "3", "5", "10", "declined", "unable", "not_assessed")
moods = ("1", "3", "5", "declined", "unable", "not_assessed")
raters = ("self", "observer")

# ----- running a request ------------------------------------------------------------------------

SETTINGS = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
}


def row_counts(app) -> dict[str, int]:
    """Rows in every table a form can write, in one statement."""
    with app.app_context():
        row = db.session.execute(
            select(*(select(func.count()).select_from(t).scalar_subquery() for t in TABLES))
        ).one()
        db.session.rollback()
    return {table.__tablename__: n for table, n in zip(TABLES, row, strict=True)}


def with_csrf(data: dict, mode: str, token: str, field: str = "csrf_token") -> dict:
    """Put a valid CSRF token in the body, or leave it out, or put a forged one there."""
    if mode == "valid":
        return {**data, field: token}
    if mode == "junk":
        return {**data, field: "junk" + token[4:]}
    return {k: v for k, v in data.items() if k != field}


def _event(label: str) -> None:
    """Tally an outcome in Hypothesis's statistics, when called from a Hypothesis test."""
    with contextlib.suppress(InvalidArgument):
        event(label)


def check(app, staff, url: str, data: dict) -> None:
    """Post, and assert: no 5xx; if the answer is a refusal, no table gained or lost a row.

    A refusal is any answer but a redirect, or a redirect to a page with an error message.
    """
    before = row_counts(app)
    response = staff.post(url, data=data)
    after = row_counts(app)
    status = response.status_code
    assert status < 500, (url, status)
    assert status != 401, "the client was signed out: later examples would test nothing"
    refused = status != 303
    if status == 303:
        target = response.headers["Location"]
        assert target.startswith("/"), target
        followed = staff.get(target)
        assert followed.status_code < 500, (target, followed.status_code)
        refused = bool(flashes(followed.get_data(as_text=True), "error"))
    _event(f"{url.split('/')[1]} {'refused' if refused else 'accepted'} ({status})")
    if refused:
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        assert not changed, (url, status, changed)


def signed_in_client(app, username: str) -> tuple[StaffClient, str]:
    """A browser signed in as a demo account, and its CSRF token (valid for every form)."""
    staff = StaffClient(app.test_client())
    assert staff.sign_in(username).status_code == 303
    return staff, staff.csrf_token("/")


# ----- sign-in ----------------------------------------------------------------------------------


def test_the_sign_in_form(app):
    """Anything typed into sign-in: never a 5xx; only a correct pair starts a session."""
    pairs = st.sampled_from(sorted(PASSWORDS.items()))
    valid = {
        "username": st.one_of(pairs.map(lambda p: p[0]), words(40)),
        "password": st.one_of(pairs.map(lambda p: p[1]), words(200)),
    }

    @settings(max_examples=15, **SETTINGS)
    @given(data=form_body(valid), csrf=csrf_modes)
    def run(data, csrf):
        browser = StaffClient(app.test_client())
        token = browser.csrf_token("/auth/sign-in")
        before = row_counts(app)
        response = browser.post("/auth/sign-in", data=with_csrf(data, csrf, token))
        after = row_counts(app)
        assert response.status_code < 500
        assert after["user"] == before["user"]
        if response.status_code != 303:
            assert after["login_session"] == before["login_session"]

    run()


# ----- the admin's forms ------------------------------------------------------------------------


def test_the_admin_forms(app):
    """Account and ward forms, with any input and any id in the address."""
    admin, token = signed_in_client(app, "admin")
    admin_id = user_id(app, "admin")
    with app.app_context():
        others = tuple(db.session.scalars(select(User.id).where(User.id != admin_id)))
        wards = tuple(db.session.scalars(select(Ward.id)))
    usernames = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789._-", min_size=3, max_size=40)
    user = {
        "username": st.one_of(choice("nurse"), usernames, usernames, words(40)),
        "full_name": words(120),
        "role": choice("nurse", "care_manager", "auditor", "admin"),
        "ward_id": choice(*map(str, wards)),
        "registration_number": words(40, required=False),
        "password": st.one_of(st.just(""), st.text(characters, min_size=12, max_size=40)),
    }
    routes = st.one_of(
        st.tuples(st.just("/admin/users/new"), form_body(user)),
        st.tuples(ids(*others).map("/admin/users/{}".format), form_body(user)),
        st.tuples(
            ids(*others).map("/admin/users/{}/active".format), form_body({"reason": words(300)})
        ),
        st.tuples(st.just("/admin/wards"), form_body({"name": words(80)})),
        st.tuples(ids(*wards).map("/admin/wards/{}".format), form_body({"name": words(80)})),
    )

    @settings(max_examples=120, **SETTINGS)
    @given(route=routes, csrf=csrf_modes)
    def run(route, csrf):
        url, data = route
        check(app, admin, url, with_csrf(data, csrf, token))

    run()


# ----- the care manager's resident forms --------------------------------------------------------


def test_the_resident_forms(app):
    """Admission, details, departure and consent, with any input and any resident id."""
    manager, token = signed_in_client(app, "manager")
    with app.app_context():
        people = tuple(db.session.scalars(select(Resident.id)))
        wards = tuple(db.session.scalars(select(Ward.id)))
    tick = choice("y", "")
    resident = {
        "given_name": words(80),
        "family_name": words(80),
        "preferred_name": words(80, required=False),
        "room": words(20),
        "ward_id": choice(*map(str, wards)),
        "date_of_birth": st.one_of(past(40000), any_date),
        "local_identifier": st.one_of(choice("CH-1000", ""), words(40), words(40)),
        "admitted_on": st.one_of(past(2000), past(2000), any_date),
        "preferred_product": words(120),
        "sessions_per_week": st.integers(min_value=-2, max_value=16).map(str),
        "defer_sessions": tick,
        "defer_reason": words(200, required=False),
        "defer_until": st.one_of(st.just(""), past(60), any_date),
        "avoid_left_hand": tick,
        "avoid_right_hand": tick,
        "light_pressure_only": tick,
        "allergies": words(300, required=False),
        "precaution_notes": words(2000, required=False),
        "reason": words(300, required=False),
    }
    departure = {
        "departed_on": st.one_of(near(400), any_date),
        "departure_reason": words(200),
    }
    consent = {
        "decided_by": choice("resident", "best_interests", "lpa"),
        "decision_maker": words(120, required=False),
        "consent_given": choice("yes", "no"),
        "decided_on": st.one_of(near(400), any_date),
        "review_on": st.one_of(near(400), any_date),
        "scope_hands": choice("both", "left", "right"),
        "scope_products": words(200, required=False),
        "notes": words(2000, required=False),
    }
    routes = st.one_of(
        st.tuples(st.just("/residents/new"), form_body(resident)),
        st.tuples(ids(*people).map("/residents/{}/edit".format), form_body(resident)),
        st.tuples(ids(*people).map("/residents/{}/departure".format), form_body(departure)),
        st.tuples(ids(*people).map("/residents/{}/consent".format), form_body(consent)),
    )

    @settings(max_examples=120, **SETTINGS)
    @given(route=routes, csrf=csrf_modes)
    def run(route, csrf):
        url, data = route
        check(app, manager, url, with_csrf(data, csrf, token))

    run()


# ----- the nurse's session forms ----------------------------------------------------------------


def session_fields(app) -> dict[str, st.SearchStrategy]:
    """The full session form's fields; times mostly earlier in the shift, else anywhere."""

    def minutes_from_now(low: int, high: int) -> st.SearchStrategy:
        return st.integers(min_value=low, max_value=high).map(
            lambda minutes: local_minute(app, utcnow() + timedelta(minutes=minutes))
        )

    shift = minutes_from_now(-100, -1)
    near_now = minutes_from_now(-6 * 60, 60)
    anywhere = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda moment: moment.strftime("%Y-%m-%dT%H:%M")
    )
    fields = {
        "submission_key": st.uuids().map(str),
        "occurred_at": st.one_of(shift, shift, shift, near_now, anywhere),
        "precautions_confirmed": choice("y", "y", "y", "y", ""),
        "override_reason": words(300),
        "duration_minutes": st.integers(min_value=-1, max_value=122).map(str),
        "hands": choice("left", "right", "both"),
        "pressure": choice("light", "normal"),
        "product": words(120),
        "assent": choice("agreed", "agreed", "agreed", "nonverbal", "withdrew"),
        "outcome": choice("completed", "completed", "stopped_early"),
        "outcome_reason": words(300),
        "observations": st.lists(
            choice("redness", "bruise", "skin_tear", "pain", "distress"), max_size=2
        ),
        "observation_action": words(500),
        "observation_told": words(200, required=False),
        "note": words(2000),
    }
    for name in ("relaxation_before", "sleep_before", "relaxation_after"):
        fields[name] = choice(*ratings)
        fields[f"{name}_rater"] = choice(*raters)
    for name in ("mood_before", "mood_after"):
        fields[name] = choice(*moods)
        fields[f"{name}_rater"] = choice(*raters)
    return fields


def test_the_session_forms(app):
    """The full session, the decline and the not-done, for any resident id and any input."""
    nurse, token = signed_in_client(app, "nurse")
    own = tuple(p.id for p in residents_where(app, nurse_ward(app, "nurse")))
    other = tuple(p.id for p in residents_where(app, nurse_ward(app, "nurse2")))
    people = ids(*own, *own, *own, *other)
    key = st.uuids().map(str)
    routes = st.one_of(
        st.tuples(people.map("/residents/{}/session".format), form_body(session_fields(app))),
        st.tuples(
            people.map("/residents/{}/session/declined".format),
            form_body({"submission_key": key, "note": words(300, required=False)}),
        ),
        st.tuples(
            people.map("/residents/{}/session/not-done".format),
            form_body(
                {
                    "submission_key": key,
                    "not_done_reason": choice("unwell", "asleep", "away", "other"),
                    "other_reason": words(300, required=False),
                }
            ),
        ),
    )

    @settings(max_examples=200, **SETTINGS)
    @given(route=routes, csrf=csrf_modes)
    def run(route, csrf):
        url, data = route
        check(app, nurse, url, with_csrf(data, csrf, token))

    run()


# ----- next-morning follow-ups ------------------------------------------------------------------


def test_the_follow_up_form(app):
    """Sleep follow-ups, for any session id (given, declined, another ward's) and any input."""
    nurse, token = signed_in_client(app, "nurse")
    yesterday = local_time(app, today(app) - timedelta(days=1))
    rowan = residents_where(app, nurse_ward(app, "nurse"))
    willow = residents_where(app, nurse_ward(app, "nurse2"))
    agreed = "Agreed with the GP"
    sessions = [
        record_given(app, person.id, yesterday, override_reason=agreed) for person in rowan[:6]
    ]
    nurse_id = user_id(app, "nurse")
    sessions.append(record(app, rowan[0].id, no_session_content(nurse_id, yesterday, "declined")))
    sessions.append(record_given(app, willow[0].id, yesterday, "nurse2", override_reason=agreed))
    valid = {
        "submission_key": st.uuids().map(str),
        "expected_version": choice("1", "1", "2", "0"),
        "sleep_after": choice(*ratings),
        "sleep_after_rater": choice(*raters),
    }

    @st.composite
    def routes(draw):
        session_id = draw(ids(*sessions))
        prefix = draw(st.sampled_from([f"s{session_id}-"] * 4 + ["", "s1-"]))
        return f"/ward/follow-ups/{session_id}", prefix, draw(form_body(valid, prefix))

    @settings(max_examples=100, **SETTINGS)
    @given(route=routes(), csrf=csrf_modes)
    def run(route, csrf):
        url, prefix, data = route
        check(app, nurse, url, with_csrf(data, csrf, token, f"{prefix}csrf_token"))

    run()


# ----- tablets, PINs and photos -----------------------------------------------------------------


def _small_photo(size: tuple[int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(out, fmt)
    return out.getvalue()


def _multipart(data: dict) -> bool:
    return any(isinstance(v, tuple) for v in data.values())


def _text_size(value) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, dict | list):
        return sum(_text_size(v) for v in (value.values() if isinstance(value, dict) else value))
    return 0


def test_the_tablet_pin_and_photo_forms(app):
    """Enrol, revoke, a PIN, a switch and a photo upload or take-down, with any input and any
    file (an image, part of one, a decompression bomb, random bytes): no 5xx, nothing half saved."""
    from tests.test_photos import bomb_png

    manager, manager_token = signed_in_client(app, "manager")
    nurse, nurse_token = signed_in_client(app, "nurse")
    ward = nurse_ward(app)
    # Enrolled by another sign-in: revoking the tablet ends the sign-in that enrolled it.
    enroller, enroller_token = signed_in_client(app, "manager")
    enrolled = enroller.post(
        "/tablets/enrol", data={"name": "Tablet A", "ward_id": ward, "csrf_token": enroller_token}
    )
    assert enrolled.status_code == 303
    tablet = StaffClient(app.test_client())
    tablet.set_cookie("carelog_tablet", enroller.get_cookie("carelog_tablet").value)
    assert tablet.sign_in("nurse").status_code == 303
    tablet_token = tablet.csrf_token("/")
    tablet.post(
        "/tablet/pin",
        data={
            "password": PASSWORDS["nurse"],
            "pin": "4827",
            "again": "4827",
            "csrf_token": tablet_token,
        },
    )
    with app.app_context():
        tablets = db.session.scalars(select(Tablet.id)).all()
    people = [p.id for p in residents_where(app, ward)]
    files = st.one_of(
        st.sampled_from([_small_photo((640, 480), "JPEG"), _small_photo((50, 900), "PNG")]),
        st.sampled_from([_small_photo((640, 480), "JPEG")[:700], bomb_png(), b""]),
        st.binary(max_size=2000),
    ).map(lambda data: (io.BytesIO(data), "photo.jpg"))
    photo = {
        "photo": files,
        "agreed_by": choice("resident", "representative"),
        "agreed": choice("y", "y", ""),
        "reason": words(300),
    }
    pins = st.one_of(choice("4827", "1234", "0000", "90417"), st.text(characters, max_size=8))
    reason = form_body({"reason": words(300)})
    manager_routes = st.one_of(
        st.tuples(st.just("/tablets/enrol"), form_body({"name": words(80), "ward_id": ids(ward)})),
        st.tuples(ids(*tablets).map("/tablets/{}/revoke".format), reason),
        st.tuples(ids(*people).map("/residents/{}/photo/edit".format), form_body(photo)),
        st.tuples(ids(*people).map("/residents/{}/photo/remove".format), reason),
    )
    passwords = choice(PASSWORDS["nurse"], "a guess")
    nurse_routes = st.one_of(
        st.tuples(
            st.just("/tablet/pin"),
            form_body({"password": passwords, "pin": pins, "again": pins}),
        ),
    )
    switch = {"user_id": ids(user_id(app, "nurse"), user_id(app, "nurse2")), "pin": pins}

    @settings(max_examples=120, **SETTINGS)
    @given(route=manager_routes, csrf=csrf_modes)
    def as_manager(route, csrf):
        url, data = route
        # A multipart body over 500 kB is spooled by the test client to a temporary file that
        # nothing closes (werkzeug's EnvironBuilder): collect it here, where its warning is
        # expected, rather than fail whichever test the garbage collector next runs in.
        spooled = _multipart(data) and _text_size(data) > 300_000
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            check(app, manager, url, with_csrf(data, csrf, manager_token))
            if spooled:
                gc.collect()

    @settings(max_examples=40, **SETTINGS)
    @given(route=nurse_routes, csrf=csrf_modes)
    def as_nurse(route, csrf):
        url, data = route
        check(app, nurse, url, with_csrf(data, csrf, nurse_token))

    @settings(max_examples=40, **SETTINGS)
    @given(data=form_body(switch), csrf=csrf_modes)
    def on_the_tablet(data, csrf):
        response = tablet.post("/tablet/switch", data=with_csrf(data, csrf, tablet_token))
        assert response.status_code < 500

    as_manager()
    as_nurse()
    on_the_tablet()


# ----- the crashes the generated input found, pinned down ---------------------------------------


def test_an_id_beyond_any_integer_is_not_found(app):
    """An id too big for the database column (2^31 on PostgreSQL, 2^63 on SQLite) is a 404."""
    nurse, token = signed_in_client(app, "nurse")
    manager, manager_token = signed_in_client(app, "manager")
    for too_big in (2**31, HUGE_ID):
        for staff, csrf, method, path in (
            (nurse, token, "get", "/residents/{}/session"),
            (nurse, token, "post", "/residents/{}/session"),
            (nurse, token, "post", "/residents/{}/session/declined"),
            (nurse, token, "post", "/residents/{}/session/not-done"),
            (nurse, token, "post", "/ward/follow-ups/{}"),
            (nurse, token, "get", "/sessions/{}"),
            (nurse, token, "get", "/residents/{}/sessions"),
            (manager, manager_token, "post", "/residents/{}/edit"),
            (manager, manager_token, "post", "/residents/{}/consent"),
        ):
            url = path.format(too_big)
            answer = getattr(staff, method)(url, data={"csrf_token": csrf})
            assert answer.status_code == 404, (method, url, answer.status_code)


def test_a_nul_character_in_text_is_refused_not_a_crash(app):
    """PostgreSQL cannot store NUL: text with one must get a 4xx or a message, never a 500."""
    nurse, token = signed_in_client(app, "nurse")
    person = residents_where(app, nurse_ward(app, "nurse"))[0]
    check(
        app,
        nurse,
        f"/residents/{person.id}/session/declined",
        {"csrf_token": token, "submission_key": str(uuid.uuid4()), "note": "a\x00b"},
    )
    browser = StaffClient(app.test_client())
    answer = browser.submit("/auth/sign-in", {"username": "nurse\x00", "password": "x"})
    assert answer.status_code < 500


def test_a_file_sent_in_a_text_field_is_refused_not_a_crash(app):
    """A multipart upload where the form expects text is a 4xx or a refusal, never a 500."""
    nurse, token = signed_in_client(app, "nurse")
    person = residents_where(app, nurse_ward(app, "nurse"))[0]
    for url, name in (
        (f"/residents/{person.id}/session/declined", "note"),
        (f"/residents/{person.id}/session/not-done", "other_reason"),
        (f"/residents/{person.id}/session", "product"),
    ):
        data = {
            "csrf_token": token,
            "submission_key": str(uuid.uuid4()),
            name: (io.BytesIO(b"not text"), "notes.txt"),
        }
        check(app, nurse, url, data)
