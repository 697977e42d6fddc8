"""Server-side sign-in sessions: idle and absolute limits, revocation, a new session at sign-in."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from carelog import create_app
from carelog.accounts.models import LoginSession, User
from carelog.database import utcnow
from carelog.extensions import db
from carelog.web.policy import PUBLIC, allowed_roles
from tests.conftest import CSRF_PATTERN, StaffClient, app_config

COOKIE = "carelog_session"
IDLE_MINUTES = 5
MAX_SESSION_HOURS = 2
IDLE_MESSAGE = "not used for a while"
EXPIRED_MESSAGE = "had lasted its maximum time"


@pytest.fixture
def limited_app(database_url):
    """The app with short, explicit session limits, on the test's database."""
    application = create_app(
        app_config(
            database_url,
            CARELOG_IDLE_MINUTES=IDLE_MINUTES,
            CARELOG_MAX_SESSION_HOURS=MAX_SESSION_HOURS,
        )
    )
    yield application
    with application.app_context():
        db.engine.dispose()


def _sign_in(app, username: str) -> StaffClient:
    browser = StaffClient(app.test_client())
    assert browser.sign_in(username).status_code == 303
    return browser


def _cookie(browser) -> str:
    cookie = browser.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def _browser_with(app, cookie_value: str) -> StaffClient:
    """Another device presenting a copied session cookie."""
    browser = StaffClient(app.test_client())
    browser.set_cookie(COOKIE, cookie_value)
    return browser


def _session_data(app, cookie_value: str) -> dict:
    """What Flask's signed cookie carries."""
    return app.session_interface.get_signing_serializer(app).loads(cookie_value)


def _token_hash_of(app, cookie_value: str) -> str:
    """The database key of a sign-in session: a SHA-256 of the token the cookie carries."""
    token = _session_data(app, cookie_value)["_user_id"]
    return hashlib.sha256(token.encode()).hexdigest()


def _token_hash(app, browser) -> str:
    return _token_hash_of(app, _cookie(browser))


def _login_row(app, token_hash: str) -> LoginSession:
    with app.app_context():
        row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash))
        assert row is not None, "the sign-in session is not in the database"
        db.session.expunge(row)
        return row


def _age_session(app, token_hash: str, **ages: timedelta) -> None:
    """Move a session's timestamps into the past, as time passing would, without sleeping."""
    now = utcnow()
    with app.app_context():
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == token_hash)
            .values({column: now - age for column, age in ages.items()})
        )
        db.session.commit()


def _is_signed_in(browser) -> bool:
    """True if the start page sends the browser on to its role's page, False if to sign in."""
    response = browser.get("/")
    assert response.status_code == 302, response.status_code
    return "/auth/sign-in" not in response.headers["Location"]


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_the_token_is_stored_hashed(app, signed_in):
    """The database holds a digest of the cookie's token, never the token itself."""
    browser = signed_in("nurse")
    token = _session_data(app, _cookie(browser))["_user_id"]
    assert len(token) >= 32
    with app.app_context():
        stored = db.session.scalars(select(LoginSession.token_hash)).all()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_an_idle_session_is_refused_and_says_why(limited_app):
    """Past CARELOG_IDLE_MINUTES without a request, the session ends; the sign-in page says why."""
    browser = _sign_in(limited_app, "nurse")
    key = _token_hash(limited_app, browser)
    _age_session(limited_app, key, last_seen_at=timedelta(minutes=IDLE_MINUTES, seconds=30))

    response = browser.get("/residents/")
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]
    assert "reason=idle" in response.headers["Location"]
    page = browser.get(response.headers["Location"])
    assert page.status_code == 200
    assert IDLE_MESSAGE in page.get_data(as_text=True)

    row = _login_row(limited_app, key)
    assert row.ended_at is not None
    assert row.end_reason == "idle"
    # Ended stays ended, even if the session then looks recent.
    _age_session(limited_app, key, last_seen_at=timedelta(0))
    assert not _is_signed_in(browser)


def test_a_recently_used_session_is_accepted_and_slides(limited_app):
    """A session used within the idle limit is served, and its last-seen time moves forward."""
    browser = _sign_in(limited_app, "nurse")
    key = _token_hash(limited_app, browser)
    _age_session(limited_app, key, last_seen_at=timedelta(minutes=IDLE_MINUTES - 1))
    assert _is_signed_in(browser)
    row = _login_row(limited_app, key)
    assert row.ended_at is None
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_a_session_past_its_absolute_limit_is_refused(limited_app):
    """Even in constant use, a session ends CARELOG_MAX_SESSION_HOURS after sign-in."""
    browser = _sign_in(limited_app, "nurse")
    key = _token_hash(limited_app, browser)
    _age_session(limited_app, key, started_at=timedelta(hours=MAX_SESSION_HOURS, minutes=1))

    response = browser.get("/residents/")
    assert response.status_code == 302
    assert "reason=expired" in response.headers["Location"]
    page = browser.get(response.headers["Location"])
    assert EXPIRED_MESSAGE in page.get_data(as_text=True)
    assert _login_row(limited_app, key).end_reason == "expired"


def test_a_session_within_its_absolute_limit_is_accepted(limited_app):
    """A session started less than CARELOG_MAX_SESSION_HOURS ago and used recently is served."""
    browser = _sign_in(limited_app, "nurse")
    key = _token_hash(limited_app, browser)
    _age_session(limited_app, key, started_at=timedelta(hours=MAX_SESSION_HOURS, minutes=-1))
    assert _is_signed_in(browser)


def test_sign_out_ends_the_session_on_the_server(app, signed_in):
    """A cookie copied before sign-out works before it and is refused after it."""
    nurse = signed_in("nurse")
    copied = _cookie(nurse)
    assert _is_signed_in(_browser_with(app, copied))  # the copy works while the session is open

    response = nurse.submit("/auth/sign-out", page="/")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/auth/sign-in")
    assert not _is_signed_in(nurse)
    assert not _is_signed_in(_browser_with(app, copied))
    assert _login_row(app, _token_hash_of(app, copied)).end_reason == "signed_out"


def test_deactivating_an_account_ends_its_open_sessions(app, signed_in):
    """Every open session of a deactivated account is refused at once, on every device."""
    tablet, other_tablet = signed_in("nurse"), signed_in("nurse")
    copied = _cookie(tablet)
    colleague = signed_in("nurse2")
    nurse_id = _user_id(app, "nurse")

    admin = signed_in("admin")
    response = admin.submit(
        f"/admin/users/{nurse_id}/active",
        {"reason": "left the home"},
        page=f"/admin/users/{nurse_id}",
    )
    assert response.status_code == 303

    assert not _is_signed_in(tablet)
    assert not _is_signed_in(other_tablet)
    assert not _is_signed_in(_browser_with(app, copied))
    assert _is_signed_in(colleague)
    with app.app_context():
        reasons = db.session.scalars(
            select(LoginSession.end_reason).where(LoginSession.user_id == nurse_id)
        ).all()
    assert reasons and set(reasons) == {"deactivated"}


def test_sign_out_by_get_is_not_allowed(signed_in, client):
    """A link or a prefetch cannot sign anyone out: GET answers 405 and the session stays."""
    nurse = signed_in("nurse")
    response = nurse.get("/auth/sign-out")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert _is_signed_in(nurse)
    assert client.get("/auth/sign-out").status_code == 405


def test_no_remember_me_cookie_is_ever_set(app, client):
    """Only the session cookie is set, even if a remember field is posted."""
    page = client.get("/auth/sign-in")
    assert "remember" not in page.get_data(as_text=True).lower()
    token = CSRF_PATTERN.search(page.get_data(as_text=True)).group(1)
    responses = [
        page,
        client.post(
            "/auth/sign-in",
            data={
                "username": "nurse",
                "password": "nurse-demo-password",
                "remember": "y",
                "csrf_token": token,
            },
        ),
        client.get("/"),
    ]
    assert responses[1].status_code == 303
    responses.append(client.submit("/auth/sign-out", page="/"))
    names = {
        header.split("=", 1)[0]
        for response in responses
        for header in response.headers.getlist("Set-Cookie")
    }
    assert names == {COOKIE}
    assert app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in names


def test_a_new_session_is_issued_at_sign_in(app, client):
    """The cookie changes at sign-in; the pre-sign-in cookie and CSRF token are worthless after."""
    page = client.get("/auth/sign-in").get_data(as_text=True)
    old_token = CSRF_PATTERN.search(page).group(1)
    before = _cookie(client)
    before_data = _session_data(app, before)

    response = client.post(
        "/auth/sign-in",
        data={"username": "nurse", "password": "nurse-demo-password", "csrf_token": old_token},
    )
    assert response.status_code == 303
    after = _cookie(client)
    assert after != before
    assert "_user_id" not in before_data
    assert _session_data(app, after).get("csrf_token") != before_data["csrf_token"]

    # Someone who planted or copied the anonymous cookie is not signed in by the victim's sign-in.
    assert not _is_signed_in(_browser_with(app, before))

    new_token = client.csrf_token("/residents/")
    assert new_token != old_token
    assert client.post("/auth/keepalive", data={"csrf_token": old_token}).status_code == 400
    assert client.post("/auth/keepalive", data={"csrf_token": new_token}).status_code == 204


def test_a_request_in_flight_at_sign_in_does_not_sign_the_nurse_out(app, client):
    """A page's background requests, sent with the cookie from before sign-in and answered after
    it, leave the new sign-in's cookie alone: a browser applies whichever cookie comes last."""
    client.get("/auth/sign-in")
    before_sign_in = _cookie(client)
    assert client.sign_in("nurse").status_code == 303

    in_flight = _browser_with(app, before_sign_in)
    with app.app_context():
        public_pages = [
            rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods
            and not rule.arguments
            and allowed_roles(rule.endpoint) is PUBLIC
            # The sign-in forms themselves hand out a CSRF token: they are pages, not background.
            and rule.endpoint not in {"auth.sign_in", "tablets.switch"}
        ]
    assert "/sw.js" in public_pages
    rewrote = []
    for path in public_pages + ["/static/carelog.css", "/static/offline.js"]:
        with in_flight.get(path) as answer:
            assert answer.status_code < 500
            sets_cookie = any(
                header.startswith(COOKIE + "=") for header in answer.headers.getlist("Set-Cookie")
            )
        # As the tablet's browser would: the late answer's cookie replaces the new one.
        if sets_cookie:
            rewrote.append(path)
            client.set_cookie(COOKIE, _cookie(in_flight))
    assert _is_signed_in(client), f"signed out by a late answer from {rewrote}"


def test_background_requests_after_sign_in_leave_the_forms_token_alone(app, client):
    """Just after sign-in the first page hands out a CSRF token while the tablet's background
    requests (the service worker's pages, the roster, the ping) are on their way with the cookie
    from before it: none of them answers with a cookie, which would replace the token and make
    the nurse's first save fail as an expired form."""
    assert client.sign_in("nurse").status_code == 303
    signed_in_cookie = _cookie(client)
    token = client.csrf_token("/ward/")  # the board: the nurse's first page
    background = [
        "/sw.js",
        "/offline/board",
        "/offline/session",
        "/offline/follow-ups",
        "/offline/unavailable",
        "/offline/roster",
        "/offline/ping",
        "/static/offline.js",
    ]
    for path in background:
        late = _browser_with(app, signed_in_cookie)
        with late.get(path, headers={"X-Carelog-Background": "1"}) as answer:
            assert answer.status_code in (200, 204), path
            if answer.headers.getlist("Set-Cookie"):
                client.set_cookie(COOKIE, _cookie(late))
    assert client.post("/auth/keepalive", data={"csrf_token": token}).status_code == 204
