"""Signing in: argon2id at OWASP strength, a lockout kept in the database, one failure message."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from argon2 import PasswordHasher
from sqlalchemy import select, update

from carelog import create_app
from carelog.accounts import passwords
from carelog.accounts.auth_views import LOCKED, SIGN_IN_FAILED
from carelog.accounts.models import User
from carelog.audit.models import AuditEntry
from carelog.database import utcnow
from carelog.extensions import db
from carelog.local_time import local_clock
from tests.conftest import PASSWORDS, StaffClient, app_config
from tests.helpers.records import approve_access

# OWASP Password Storage Cheat Sheet: argon2id with at least 19 MiB of memory and 2 iterations.
OWASP_MIN_MEMORY_KIB = 19456
OWASP_MIN_ITERATIONS = 2
ARGON2_HASH = re.compile(r"^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+$")
FLASH = re.compile(r'<p class="flash flash-error"[^>]*>(.*?)</p>', re.S)
FIELD_VALUE = re.compile(r'value="[^"]*"')


def _argon2_parameters(stored: str) -> dict[str, int]:
    """Read the variant's parameters from an encoded argon2id hash."""
    match = ARGON2_HASH.match(stored)
    assert match, f"not an argon2id hash: {stored[:20]}..."
    version, memory, iterations, lanes = (int(part) for part in match.groups())
    return {"v": version, "m": memory, "t": iterations, "p": lanes}


def _user(app, username: str) -> User:
    """The account as stored now, read in a fresh session."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _set_user(app, username: str, **values) -> None:
    """Change an account's columns directly in the database, as time passing would."""
    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(**values))
        db.session.commit()


def _actions(app) -> list[tuple[str, str | None, dict]]:
    """The audit trail as (action, entity_id, new values), oldest first."""
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(entry.action, entry.entity_id, entry.new) for entry in entries]


def _failure_page(response) -> tuple[int, str]:
    """Status and page of a refused sign-in, with the typed username and CSRF token blanked."""
    return response.status_code, FIELD_VALUE.sub('value=""', response.get_data(as_text=True))


def _assert_refused(response) -> None:
    assert response.status_code == 200, response.status_code
    assert FLASH.findall(response.get_data(as_text=True)) == [SIGN_IN_FAILED]
    assert "Location" not in response.headers


def _assert_locked(app, response) -> None:
    """The right password for a locked account: refused, saying until when and who can help."""
    assert response.status_code == 200, response.status_code
    assert "Location" not in response.headers
    with app.app_context():
        until = local_clock(_user(app, "nurse").locked_until)
    wanted = LOCKED.format(until=until)
    assert FLASH.findall(response.get_data(as_text=True)) == [wanted]


def test_passwords_are_stored_as_argon2id_at_owasp_strength(app, signed_in):
    """Seeded accounts and an account created through the admin form both hold argon2id hashes."""
    admin = signed_in("admin")
    response = admin.submit(
        "/admin/users/new",
        {
            "username": "newnurse",
            "full_name": "New Nurse",
            "role": "nurse",
            "ward_id": "1",
            "password": "a-long-enough-password",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    approve_access(app, signed_in("manager"), "newnurse")
    for username in ("nurse", "newnurse"):
        stored = _user(app, username).password_hash
        assert stored.startswith("$argon2id$")
        parameters = _argon2_parameters(stored)
        assert parameters["m"] >= OWASP_MIN_MEMORY_KIB, parameters
        assert parameters["t"] >= OWASP_MIN_ITERATIONS, parameters
        assert "a-long-enough-password" not in stored
    assert (
        StaffClient(app.test_client()).sign_in("newnurse", "a-long-enough-password").status_code
        == 303
    )


def test_check_password_accepts_the_right_password_only(app):
    """The stored hash verifies its own password and refuses anything else, or no hash at all."""
    stored = _user(app, "nurse").password_hash
    assert passwords.check_password(stored, PASSWORDS["nurse"]) is True
    assert passwords.check_password(stored, PASSWORDS["nurse"] + "x") is False
    assert passwords.check_password(stored, "") is False
    assert passwords.check_password(None, PASSWORDS["nurse"]) is False
    assert passwords.check_password("not a hash", PASSWORDS["nurse"]) is False


def test_a_weaker_hash_needs_rehash_and_is_upgraded_at_sign_in(app, client):
    """A hash with fewer iterations or less memory is flagged and upgraded at its next sign-in."""
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORDS["nurse"])
    assert passwords.needs_rehash(weak) is True
    assert passwords.needs_rehash(passwords.hash_password("anything")) is False

    _set_user(app, "nurse", password_hash=weak)
    assert client.sign_in("nurse").status_code == 303
    upgraded = _user(app, "nurse").password_hash
    assert upgraded != weak
    assert _argon2_parameters(upgraded)["m"] >= OWASP_MIN_MEMORY_KIB
    assert passwords.needs_rehash(upgraded) is False


def test_the_lockout_refuses_even_the_right_password_until_it_passes(app, client):
    """After CARELOG_LOCKOUT_ATTEMPTS wrong passwords even the right one waits for locked_until."""
    attempts = app.config["CARELOG_LOCKOUT_ATTEMPTS"]
    for _ in range(attempts - 1):
        _assert_refused(client.sign_in("nurse", "wrong password"))
    assert _user(app, "nurse").failed_sign_ins == attempts - 1
    assert _user(app, "nurse").locked_until is None

    _assert_refused(client.sign_in("nurse", "wrong password"))
    locked_until = _user(app, "nurse").locked_until
    minutes = app.config["CARELOG_LOCKOUT_MINUTES"]
    assert locked_until is not None
    assert timedelta(minutes=minutes - 1) < locked_until - utcnow() <= timedelta(minutes=minutes)

    _assert_locked(app, client.sign_in("nurse"))  # the right password, while locked
    assert client.get("/residents/").status_code == 302

    _set_user(app, "nurse", locked_until=utcnow() - timedelta(seconds=1))
    assert client.sign_in("nurse").status_code == 303
    assert client.get("/residents/").status_code == 200


def test_tries_made_while_locked_do_not_shorten_the_next_allowance(app, client):
    """Once a lock has passed, the account has the full number of tries again.

    A nurse who does not read the locked answer keeps trying her right password while locked;
    those tries must not count towards the next lockout.
    """
    attempts = app.config["CARELOG_LOCKOUT_ATTEMPTS"]
    for _ in range(attempts):
        client.sign_in("nurse", "wrong password")
    assert _user(app, "nurse").locked_until is not None
    for _ in range(2):
        _assert_locked(app, client.sign_in("nurse"))  # right password, still locked
    _set_user(app, "nurse", locked_until=utcnow() - timedelta(seconds=1))

    for _ in range(attempts - 1):
        _assert_refused(client.sign_in("nurse", "wrong password"))
    assert _user(app, "nurse").locked_until < utcnow(), "locked again before the allowance ran out"
    assert client.sign_in("nurse").status_code == 303


def test_the_lockout_is_kept_in_the_database_for_every_worker(app, database_url, client):
    """Failures on two app instances (two gunicorn workers) add up; both then refuse the account."""
    other_app = create_app(app_config(database_url))
    try:
        other = StaffClient(other_app.test_client())
        attempts = app.config["CARELOG_LOCKOUT_ATTEMPTS"]
        for number in range(attempts):
            browser = client if number % 2 else other
            _assert_refused(browser.sign_in("nurse", "wrong password"))
        assert _user(app, "nurse").locked_until is not None
        _assert_locked(app, other.sign_in("nurse"))
        _assert_locked(app, client.sign_in("nurse"))
    finally:
        with other_app.app_context():
            db.engine.dispose()


def test_the_failure_answer_is_the_same_for_unknown_wrong_and_locked(app, client):
    """An unknown username, a wrong password, and a wrong password for a locked account get
    byte-identical answers: only the right password learns of the lock."""
    unknown = _failure_page(client.sign_in("nobody-here", "wrong password"))
    wrong = _failure_page(client.sign_in("nurse", "wrong password"))
    _set_user(app, "nurse", locked_until=utcnow() + timedelta(minutes=5))
    locked_wrong = _failure_page(client.sign_in("nurse", "wrong password"))
    assert unknown == wrong == locked_wrong
    assert SIGN_IN_FAILED in unknown[1]
    _assert_locked(app, client.sign_in("nurse"))


def test_failures_count_within_a_sliding_window(app, client):
    """Typos spread over time never lock an account: only failures within
    CARELOG_LOCKOUT_WINDOW_MINUTES count."""
    attempts = app.config["CARELOG_LOCKOUT_ATTEMPTS"]
    window = app.config["CARELOG_LOCKOUT_WINDOW_MINUTES"]
    start = utcnow()
    with time_machine.travel(start, tick=True):
        for _ in range(attempts - 1):
            _assert_refused(client.sign_in("nurse", "wrong password"))
    with time_machine.travel(start + timedelta(minutes=window + 1), tick=True):
        for _ in range(attempts - 1):
            _assert_refused(client.sign_in("nurse", "wrong password"))
        assert _user(app, "nurse").locked_until is None, "old failures still counted"
        _assert_refused(client.sign_in("nurse", "wrong password"))
        assert _user(app, "nurse").locked_until is not None  # five within the window
    with time_machine.travel(start + timedelta(minutes=window + 2), tick=True):
        _assert_locked(app, client.sign_in("nurse"))


def _lock(app, client) -> None:
    for _ in range(app.config["CARELOG_LOCKOUT_ATTEMPTS"]):
        client.sign_in("nurse", "wrong password")
    assert _user(app, "nurse").locked_until is not None


@pytest.mark.parametrize(("who", "page"), [("admin", "/admin/users"), ("manager", "/manager/")])
def test_a_lockout_is_shown_and_ended_with_a_reason(app, client, signed_in, who, page):
    _lock(app, client)
    staff = signed_in(who)
    listed = staff.get(page).get_data(as_text=True)
    with app.app_context():
        until = local_clock(_user(app, "nurse").locked_until)
    assert f"until {until}" in listed
    nurse_id = _user(app, "nurse").id
    url = f"/admin/users/{nurse_id}/unlock"
    refused = staff.submit(url, {"reason": ""}, page=page, follow_redirects=True)
    assert "say why you are unlocking" in refused.get_data(as_text=True)
    assert _user(app, "nurse").locked_until is not None
    done = staff.submit(url, {"reason": "She phoned; identity checked"}, page=page)
    assert done.status_code == 303
    assert _user(app, "nurse").locked_until is None
    unlocks = [a for a in _actions(app) if a[0] == "user.unlock"]
    assert len(unlocks) == 1 and unlocks[0][1] == str(nurse_id)
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.unlock")
        ).one()
        assert entry.reason == "She phoned; identity checked"
    assert client.sign_in("nurse").status_code == 303
    # the failures before the unlock no longer count
    assert _user(app, "nurse").failed_sign_ins == 0


def test_an_unknown_username_costs_a_password_check_too(app, client, monkeypatch):
    """Timing does not reveal which usernames exist: an unknown one still runs argon2 once."""
    calls = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    client.sign_in("nobody-here", "wrong password")
    assert len(calls) == 1
    client.sign_in("nurse", "wrong password")
    assert len(calls) == 2


def test_failures_and_the_lockout_are_in_the_audit_trail(app, client):
    """Each failure is recorded with its reason, the lockout once, and an unknown name by name."""
    nurse_id = str(_user(app, "nurse").id)
    before = len(_actions(app))
    client.sign_in("nobody-here", "wrong password")
    for _ in range(app.config["CARELOG_LOCKOUT_ATTEMPTS"]):
        client.sign_in("nurse", "wrong password")
    client.sign_in("nurse")
    trail = _actions(app)[before:]
    assert trail[0] == ("auth.sign_in_failed", None, {"username": "nobody-here"})
    failures = [entry for entry in trail if entry[:2] == ("auth.sign_in_failed", nurse_id)]
    assert [new["why"] for _, _, new in failures] == ["password"] * app.config[
        "CARELOG_LOCKOUT_ATTEMPTS"
    ] + ["locked"]
    lockouts = [entry for entry in trail if entry[0] == "auth.locked_out"]
    assert len(lockouts) == 1
    assert lockouts[0][1] == nurse_id
    assert "locked_until" in lockouts[0][2]
    assert not any(action == "auth.sign_in" for action, _, _ in trail)


def test_a_successful_sign_in_resets_the_count(app, client, signed_in):
    """Failures before a success do not count towards the next lockout."""
    attempts = app.config["CARELOG_LOCKOUT_ATTEMPTS"]
    for _ in range(attempts - 1):
        client.sign_in("nurse", "wrong password")
    assert _user(app, "nurse").failed_sign_ins == attempts - 1
    signed_in("nurse")
    assert _user(app, "nurse").failed_sign_ins == 0
    for _ in range(attempts - 1):
        client.sign_in("nurse", "wrong password")
    assert _user(app, "nurse").locked_until is None
    assert client.sign_in("nurse").status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_sends_anyone_off_site(client, target):
    """The next= address after sign-in stays on this site, whatever a crafted link puts in it."""
    token = client.csrf_token()
    response = client.post(
        "/auth/sign-in",
        query_string={"next": target},
        data={"username": "nurse", "password": PASSWORDS["nurse"], "csrf_token": token},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    # Resolve it as a browser would: backslashes count as slashes, tabs and newlines vanish.
    as_browser = urljoin("https://carelog.example/auth/sign-in", location.replace("\\", "/"))
    assert urlsplit(as_browser).netloc == "carelog.example", location


def test_sign_in_follows_a_next_address_on_this_site(client):
    """A link to a page behind sign-in comes back to that page afterwards."""
    token = client.csrf_token()
    response = client.post(
        "/auth/sign-in",
        query_string={"next": "/residents/1?tab=consent"},
        data={"username": "nurse", "password": PASSWORDS["nurse"], "csrf_token": token},
    )
    assert response.headers["Location"] == "/residents/1?tab=consent"


def test_a_deactivated_account_cannot_sign_in(app, client, signed_in):
    """Once an admin deactivates an account, its right password is refused with the same answer."""
    nurse_id = _user(app, "nurse").id
    admin = signed_in("admin")
    response = admin.submit(
        f"/admin/users/{nurse_id}/active",
        {"reason": "left the home"},
        page=f"/admin/users/{nurse_id}",
    )
    assert response.status_code == 303
    assert _user(app, "nurse").active is False
    _assert_refused(client.sign_in("nurse"))
    assert client.get("/residents/").status_code == 302
    assert _actions(app)[-1] == ("auth.sign_in_failed", str(nurse_id), {"why": "inactive"})


# ----- the throttle per client address -----------------------------------------------------------


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _counting_argon2(monkeypatch) -> list:
    calls: list = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    return calls


def _sign_in_from(client: StaffClient, address: str, username: str, password: str):
    token = client.csrf_token()
    data = {"csrf_token": token, "username": username, "password": password}
    return client.post("/auth/sign-in", data=data, **_from(address))


def test_a_client_that_keeps_failing_waits_and_costs_no_hashing(app, client, monkeypatch):
    """Past the limit an address gets 429 with Retry-After and words, without running argon2,
    for any account and even the right password; another address signs in as usual."""
    limit = app.config["CARELOG_SIGN_IN_CLIENT_LIMIT"]
    calls = _counting_argon2(monkeypatch)
    for number in range(limit):
        username = ("nobody", "nurse", "manager")[number % 3]
        response = _sign_in_from(client, "203.0.113.7", username, "wrong password")
        assert response.status_code == 200, number
    assert len(calls) == limit
    refused = _sign_in_from(client, "203.0.113.7", "nurse2", PASSWORDS["nurse2"])
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins from this device" in refused.get_data(as_text=True)
    assert len(calls) == limit, "a throttled attempt must not cost a password hash"
    throttled = [a for a in _actions(app) if a[0] == "auth.throttled"]
    assert len(throttled) == 1, "one entry when the limit is reached, none per refused try"
    elsewhere = StaffClient(app.test_client())
    answer = _sign_in_from(elsewhere, "198.51.100.4", "nurse2", PASSWORDS["nurse2"])
    assert answer.status_code == 303


def test_the_client_throttle_window_slides(app, client):
    """Failures older than the window no longer count."""
    from carelog.accounts.models import SignInFailure

    limit = app.config["CARELOG_SIGN_IN_CLIENT_LIMIT"]
    window = timedelta(minutes=app.config["CARELOG_SIGN_IN_WINDOW_MINUTES"])
    with app.app_context():
        long_ago = utcnow() - window - timedelta(seconds=5)
        db.session.add_all(
            SignInFailure(at=long_ago, client="203.0.113.9", username="x") for _ in range(limit)
        )
        db.session.commit()
    response = _sign_in_from(client, "203.0.113.9", "nurse2", PASSWORDS["nurse2"])
    assert response.status_code == 303


def test_the_client_throttle_holds_across_gunicorn_workers(database_url):
    """Four gunicorn workers share one count: the limit is reached after exactly `limit` tries,
    not four times as many."""
    import requests

    from tests.server import CSRF_PATTERN, running_server

    with running_server(database_url, workers=4) as base:
        statuses = []
        for _ in range(24):
            browser = requests.Session()  # a new connection, so the workers take turns
            page = browser.get(f"{base}/auth/sign-in", timeout=30).text
            token = CSRF_PATTERN.search(page).group(1)
            answer = browser.post(
                f"{base}/auth/sign-in",
                data={"csrf_token": token, "username": "nurse", "password": "wrong"},
                timeout=30,
            )
            statuses.append(answer.status_code)
    assert statuses == [200] * 20 + [429] * 4, statuses


# ----- a password someone else chose is replaced at first sign-in --------------------------------


def _new_nurse(app, signed_in, username: str = "freshnurse") -> StaffClient:
    """An account an admin made (and a care manager approved), signed in for the first time."""
    admin = signed_in("admin")
    made = admin.submit(
        "/admin/users/new",
        {"username": username, "full_name": "Fresh Nurse", "role": "nurse", "ward_id": "1",
         "password": "given-by-the-admin-2026"},
    )  # fmt: skip
    assert made.status_code == 303
    approve_access(app, signed_in("manager"), username)
    assert _user(app, username).must_choose_password is True
    client = StaffClient(app.test_client())
    answer = client.sign_in(username, "given-by-the-admin-2026")
    assert answer.status_code == 303
    return client


def test_an_account_made_by_an_admin_chooses_its_own_password_first(app, signed_in):
    client = _new_nurse(app, signed_in)
    for page in ("/", "/ward/", "/residents/"):
        answer = client.get(page)
        assert answer.status_code == 303 and answer.headers["Location"].endswith(
            "/auth/choose-password"
        ), page
    form = "/auth/choose-password"
    same = client.submit(
        form, {"password": "given-by-the-admin-2026", "again": "given-by-the-admin-2026"}
    )
    assert "different from the one you were given" in same.get_data(as_text=True)
    common = client.submit(form, {"password": "password1234", "again": "password1234"})
    assert common.status_code == 200 and _user(app, "freshnurse").must_choose_password
    differ = client.submit(
        form, {"password": "a quiet river at dawn", "again": "a quiet river at noon"}
    )
    assert "The two passwords differ" in differ.get_data(as_text=True)
    done = client.submit(
        form, {"password": "a quiet river at dawn", "again": "a quiet river at dawn"}
    )
    assert done.status_code == 303
    assert _user(app, "freshnurse").must_choose_password is False
    assert client.get("/ward/").status_code == 200
    assert (
        StaffClient(app.test_client()).sign_in("freshnurse", "a quiet river at dawn").status_code
        == 303
    )
    chosen = [a for a in _actions(app) if a[0] == "user.password"]
    assert chosen[-1][2] == {"by": "themselves"}


def test_a_password_reset_by_an_admin_is_replaced_at_the_next_sign_in(app, signed_in):
    nurse_id = _user(app, "nurse").id
    admin = signed_in("admin")
    page = f"/admin/users/{nurse_id}"
    reset = admin.submit(
        page,
        {"username": "nurse", "full_name": "Niamh Byrne", "role": "nurse", "ward_id": "1",
         "password": "reset-by-the-admin-2026"},
    )  # fmt: skip
    assert reset.status_code == 303, reset.get_data(as_text=True)[:2000]
    assert _user(app, "nurse").must_choose_password is True
    client = StaffClient(app.test_client())
    assert client.sign_in("nurse", "reset-by-the-admin-2026").status_code == 303
    assert client.get("/ward/").headers["Location"].endswith("/auth/choose-password")


def test_command_line_and_demo_accounts_are_not_asked(app):
    assert _user(app, "nurse").must_choose_password is False


def test_choosing_a_password_when_not_asked_changes_nothing(app, signed_in):
    """Someone whose password is their own is sent home, and their password stays."""
    auditor = signed_in("auditor")
    before = _user(app, "auditor").password_hash
    answer = auditor.submit(
        "/auth/choose-password",
        {"password": "a quiet river at dawn", "again": "a quiet river at dawn"},
        page="/residents/",
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/")
    assert _user(app, "auditor").password_hash == before
