"""Enrolled ward tablets and the quick switch by PIN, on both databases, through requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from carelog.accounts import staff_accounts
from carelog.accounts.models import LoginSession, User
from carelog.accounts.roles import Role
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.database import utcnow
from carelog.extensions import db
from carelog.tablets.enrolment import COOKIE
from carelog.tablets.models import Tablet
from carelog.tablets.pins import pin_problem
from tests.conftest import PASSWORDS, StaffClient
from tests.helpers.pages import field_errors, flashes, text
from tests.helpers.records import audit_entries, nurse_ward, user_id

PIN = "4827"
COMMAND_LINE = Actor(None, "command-line")


def add_nurse(app, username: str, ward: int) -> None:
    with app.app_context():
        staff_accounts.create_user(
            COMMAND_LINE,
            username=username,
            full_name=username.capitalize() + " Test",
            role=Role.NURSE,
            password=f"{username}-long-password",
            ward_id=ward,
        )


def password_of(username: str) -> str | None:
    return f"{username}-long-password" if username.startswith("extra") else None


def enrolled_tablet(app, ward: int, name: str = "Rowan tablet 1") -> StaffClient:
    """A browser the manager enrolled to a ward, then signed out of."""
    tablet = StaffClient(app.test_client())
    assert tablet.sign_in("manager").status_code == 303
    response = tablet.submit("/tablets/enrol", {"name": name, "ward_id": ward}, page="/tablets/")
    assert response.status_code == 303, text(response)
    assert tablet.get_cookie(COOKIE) is not None
    tablet.submit("/auth/sign-out", page="/")
    return tablet


def full_sign_in_and_pin(tablet: StaffClient, username: str, pin: str = PIN) -> None:
    assert tablet.sign_in(username, password_of(username)).status_code == 303
    password = password_of(username) or PASSWORDS[username]
    response = tablet.submit("/tablet/pin", {"password": password, "pin": pin, "again": pin})
    assert response.status_code == 303, text(response)


def switch(tablet: StaffClient, app, username: str, pin: str = PIN):
    return tablet.submit(
        "/tablet/switch", {"user_id": user_id(app, username), "pin": pin}, page="/tablet/switch"
    )


def signed_in_as(tablet: StaffClient) -> str:
    return text(tablet.get("/", follow_redirects=True))


def signed_in_with_password(app, username: str, ago: timedelta) -> None:
    """Move the user's sign-ins back in time, as if her password sign-in was `ago`."""
    with app.app_context():
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user_id(app, username))
            .values(started_at=utcnow() - ago)
        )
        db.session.commit()


def live_sessions(app, username: str) -> list[LoginSession]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(LoginSession).where(
                    LoginSession.user_id == user_id(app, username),
                    LoginSession.ended_at.is_(None),
                )
            )
        )
        db.session.expunge_all()
        return found


@pytest.mark.parametrize(
    ("pin", "refused"),
    [("1234", True), ("0000", True), ("4321", True), ("98765", True), ("1212", True),
     ("121212", True), ("2580", True), ("12a4", True), ("123", True), ("1234567", True),
     ("", True), ("٤٨٢٧", True), (PIN, False), ("90417", False), ("305518", False)],
)  # fmt: skip
def test_trivial_or_malformed_pins_are_refused(pin, refused):
    assert (pin_problem(pin) is not None) == refused


def test_a_manager_enrols_a_tablet_and_the_list_shows_it(app):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    [entry] = audit_entries(app, "tablet.enrol")
    assert entry.actor_id == user_id(app, "manager") and entry.new["ward_id"] == ward
    assert tablet.sign_in("manager").status_code == 303
    page = text(tablet.get("/tablets/"))
    assert "Rowan tablet 1" in page and "This tablet" in page and "by Morgan Okafor" in page
    with app.app_context():
        stored = db.session.scalar(select(Tablet))
        assert stored.token_hash != tablet.get_cookie(COOKIE).value  # only the hash is kept


def test_a_nurse_switches_in_by_pin_and_the_last_nurse_is_signed_out(app):
    ward = nurse_ward(app)
    add_nurse(app, "extra", ward)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    full_sign_in_and_pin(tablet, "extra", "90417")
    assert "Extra Test" in signed_in_as(tablet)

    switch_page = text(tablet.get("/tablet/switch"))
    assert "Niamh Byrne" in switch_page and "Extra Test" in switch_page
    response = switch(tablet, app, "nurse")
    assert response.status_code == 303
    assert "Niamh Byrne" in signed_in_as(tablet)
    assert live_sessions(app, "extra") == []
    [session] = live_sessions(app, "nurse")
    with app.app_context():
        tablet_id = db.session.scalar(select(Tablet.id))
    assert (session.method, session.tablet_id) == ("pin", tablet_id)
    [entry] = audit_entries(app, "auth.switch")
    assert entry.actor_id == user_id(app, "nurse")
    assert entry.new == {
        "tablet_id": tablet_id,
        "tablet": "Rowan tablet 1",
        "from_user_id": user_id(app, "extra"),
    }
    with app.app_context():
        assert chain.verify(db.session).ok


def test_the_sign_in_page_of_an_enrolled_tablet_offers_the_switch(app):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    page = text(tablet.get("/auth/sign-in"))
    assert "Switch nurse" in page and "Niamh Byrne" in page
    response = tablet.post(
        "/tablet/switch",
        data={
            "user_id": user_id(app, "nurse"),
            "pin": PIN,
            "csrf_token": tablet.csrf_token("/auth/sign-in"),
        },
    )
    assert response.status_code == 303 and "Niamh Byrne" in signed_in_as(tablet)


def test_no_pin_switch_without_an_enrolled_tablet(app):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    elsewhere = StaffClient(app.test_client())
    response = elsewhere.get("/tablet/switch")
    assert response.status_code == 303
    assert "not an enrolled ward tablet" in text(elsewhere.get(response.location))
    refused = elsewhere.post(
        "/tablet/switch",
        data={"user_id": user_id(app, "nurse"), "pin": PIN, "csrf_token": elsewhere.csrf_token()},
    )
    assert refused.status_code == 303 and live_sessions(app, "nurse") == []


def test_a_pin_works_only_on_tablets_of_the_nurses_own_ward(app):
    with app.app_context():
        other_ward = db.session.scalar(select(User.ward_id).where(User.username == "nurse2"))
    tablet = enrolled_tablet(app, other_ward, "Willow tablet")
    # nurse belongs to Rowan: a full sign-in here is allowed, a PIN switch is not
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    assert "Niamh Byrne" not in text(tablet.get("/tablet/switch"))
    response = switch(tablet, app, "nurse")
    assert response.status_code == 422 and live_sessions(app, "nurse") == []


def test_a_pin_expires_twelve_hours_after_the_last_full_sign_in_on_that_tablet(app):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    signed_in_with_password(app, "nurse", ago=timedelta(hours=12, minutes=1))
    response = switch(tablet, app, "nurse")
    assert response.status_code == 422
    said = " ".join(flashes(response.get_data(as_text=True)))
    assert "cannot switch by PIN on this tablet now" in said
    assert live_sessions(app, "nurse") == []
    # the password starts the twelve hours again
    assert tablet.sign_in("nurse").status_code == 303
    tablet.submit("/auth/sign-out", page="/")
    assert switch(tablet, app, "nurse").status_code == 303


def test_five_wrong_pins_require_the_password(app):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    for attempt in range(5):
        response = switch(tablet, app, "nurse", "9137")
        assert response.status_code == 422, attempt
    assert "Too many wrong PINs" in text(response)
    assert switch(tablet, app, "nurse", PIN).status_code == 422  # even the right one now
    failed = audit_entries(app, "auth.pin_failed")
    assert len(failed) == 5 and all(e.actor_id is None for e in failed)  # the typist is unknown
    assert len(audit_entries(app, "auth.pin_blocked")) == 1
    assert tablet.sign_in("nurse").status_code == 303
    tablet.submit("/auth/sign-out", page="/")
    assert switch(tablet, app, "nurse", PIN).status_code == 303


def test_the_right_pin_does_not_forgive_the_wrong_ones_before_it(app):
    """Wrong PINs count until the next password sign-in: a guesser gets five in all, not five
    between each time the nurse uses her own PIN."""
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    for _ in range(3):
        assert switch(tablet, app, "nurse", "9137").status_code == 422
    assert switch(tablet, app, "nurse", PIN).status_code == 303
    tablet.submit("/auth/sign-out", page="/")
    for _ in range(2):
        assert switch(tablet, app, "nurse", "9137").status_code == 422
    assert switch(tablet, app, "nurse", PIN).status_code == 422


def test_a_tablet_with_too_many_wrong_pins_waits(app):
    """Wrong PINs for several nurses on one tablet add up, as failed sign-ins from one address
    do: after CARELOG_SIGN_IN_CLIENT_LIMIT of them the tablet takes passwords only for a while."""
    app.config["CARELOG_SIGN_IN_CLIENT_LIMIT"] = 6
    ward = nurse_ward(app)
    for name in ("extra1", "extra2"):
        add_nurse(app, name, ward)
    tablet = enrolled_tablet(app, ward)
    for name in ("extra1", "extra2"):
        full_sign_in_and_pin(tablet, name, "90417")
        tablet.submit("/auth/sign-out", page="/")
    for name in ("extra1", "extra2", "extra1", "extra2", "extra1", "extra2"):
        assert switch(tablet, app, name, "9137").status_code == 422
    response = switch(tablet, app, "extra1", "90417")
    assert response.status_code == 422
    assert "Too many wrong PINs on this tablet" in text(response)


def test_a_pin_session_ends_when_the_pin_would_stop_working(app):
    """Switched in 11 hours after her password sign-in, her session ends an hour later, not
    twelve: a PIN never stretches the password's hours."""
    import time_machine

    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    signed_in_with_password(app, "nurse", ago=timedelta(hours=11))
    assert switch(tablet, app, "nurse").status_code == 303
    [pin_session] = live_sessions(app, "nurse")
    assert pin_session.method == "pin"
    began = utcnow()
    for minutes in (10, 20, 30, 40, 50, 58):  # in use all along: never idle
        with time_machine.travel(began + timedelta(minutes=minutes), tick=False):
            assert tablet.get("/ward/").status_code == 200, minutes
    with time_machine.travel(began + timedelta(minutes=62), tick=False):
        response = tablet.get("/ward/")
        assert response.status_code == 302 and "/auth/sign-in" in response.location


def test_a_pin_is_chosen_only_after_a_full_sign_in_and_stored_hashed(app):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    with app.app_context():
        stored = db.session.scalar(select(User.pin_hash).where(User.username == "nurse"))
    assert stored.startswith("$argon2id$") and PIN not in stored
    assert [e.action for e in audit_entries(app, "user.pin")] == ["user.pin"]
    assert "pin_hash" not in str(audit_entries(app, "user.pin")[0].new)
    tablet.submit("/auth/sign-out", page="/")
    assert switch(tablet, app, "nurse").status_code == 303
    # signed in by PIN: choosing a new PIN asks for the password first
    response = tablet.get("/tablet/pin")
    assert response.status_code == 303
    shown = tablet.get(response.location, follow_redirects=True).get_data(as_text=True)
    assert "Sign in with your password" in " ".join(flashes(shown))
    refused = tablet.submit(
        "/tablet/pin",
        {"password": PASSWORDS["nurse"], "pin": "90417", "again": "90417"},
        page="/",
    )
    assert refused.status_code == 303 and len(audit_entries(app, "user.pin")) == 1


def test_an_easy_pin_or_a_wrong_password_is_refused_with_a_reason(signed_in, app):
    nurse = signed_in("nurse")
    password = PASSWORDS["nurse"]
    response = nurse.submit("/tablet/pin", {"password": password, "pin": "1111", "again": "1111"})
    assert response.status_code == 200
    assert "one digit repeated" in " ".join(field_errors(response.get_data(as_text=True), "pin"))
    response = nurse.submit("/tablet/pin", {"password": password, "pin": PIN, "again": "4828"})
    assert "differ" in " ".join(field_errors(response.get_data(as_text=True), "again"))
    # Someone at a tablet she left signed in cannot choose her PIN without her password.
    response = nurse.submit("/tablet/pin", {"password": "a guess", "pin": PIN, "again": PIN})
    said = " ".join(field_errors(response.get_data(as_text=True), "password"))
    assert "not your password" in said
    assert audit_entries(app, "user.pin") == []


def test_care_managers_have_no_pin(signed_in):
    """A PIN would open a care manager's powers too: they sign in with their password."""
    assert signed_in("manager").get("/tablet/pin").status_code == 403


def test_revoking_a_tablet_ends_every_session_on_it_and_refuses_its_cookie(app, signed_in):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    elsewhere = signed_in("nurse2")  # a sign-in on another browser is left alone
    with app.app_context():
        tablet_id = db.session.scalar(select(Tablet.id))
    manager = signed_in("manager")
    response = manager.submit(f"/tablets/{tablet_id}/revoke", {"reason": "Lost"}, page="/tablets/")
    assert response.status_code == 303
    signed_out = tablet.get("/ward/")  # at once
    assert signed_out.status_code == 302 and "/auth/sign-in" in signed_out.location
    assert live_sessions(app, "nurse") == []
    assert elsewhere.get("/ward/").status_code == 200
    [entry] = audit_entries(app, "tablet.revoke")
    assert entry.reason == "Lost" and entry.actor_id == user_id(app, "manager")
    refused = tablet.post(
        "/tablet/switch",
        data={"user_id": user_id(app, "nurse"), "pin": PIN, "csrf_token": tablet.csrf_token()},
    )
    assert refused.status_code == 303 and live_sessions(app, "nurse") == []
    assert tablet.get_cookie(COOKIE) is None  # the stale cookie is dropped
    assert "Revoked" in text(manager.get("/tablets/"))


def test_revoking_needs_a_reason_and_an_unknown_tablet_is_refused(app, signed_in):
    ward = nurse_ward(app)
    enrolled_tablet(app, ward)
    manager = signed_in("manager")
    with app.app_context():
        tablet_id = db.session.scalar(select(Tablet.id))
    manager.submit(f"/tablets/{tablet_id}/revoke", {"reason": ""}, page="/tablets/")
    manager.submit("/tablets/999999/revoke", {"reason": "Lost"}, page="/tablets/")
    assert audit_entries(app, "tablet.revoke") == []
    with app.app_context():
        assert db.session.scalar(select(Tablet.revoked_at)) is None


def test_enrolling_needs_a_name_and_a_real_ward(app, signed_in):
    manager = signed_in("manager")
    for data in ({"name": "", "ward_id": 1}, {"name": "T", "ward_id": 999}, {"name": "T"}):
        response = manager.submit("/tablets/enrol", data, page="/tablets/")
        assert response.status_code == 422, data
        assert manager.get_cookie(COOKIE) is None
    assert audit_entries(app, "tablet.enrol") == []


def test_enrolling_makes_the_managers_own_sign_in_one_on_the_tablet(app, signed_in):
    """Revoking the tablet signs out the manager who enrolled it from it too, and a browser
    already enrolled is not enrolled a second time."""
    ward = nurse_ward(app)
    tablet = StaffClient(app.test_client())
    assert tablet.sign_in("manager").status_code == 303
    tablet.submit("/tablets/enrol", {"name": "Rowan 1", "ward_id": ward}, page="/tablets/")
    again = tablet.submit("/tablets/enrol", {"name": "Rowan 2", "ward_id": ward}, page="/tablets/")
    assert again.status_code == 422 and "already enrolled as Rowan 1" in text(again)
    with app.app_context():
        tablet_id = db.session.scalar(select(Tablet.id))
    signed_in("admin").submit(f"/tablets/{tablet_id}/revoke", {"reason": "Lost"}, page="/tablets/")
    assert tablet.get("/tablets/").status_code == 302


def test_a_deactivated_nurse_needs_her_password_again(app):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    tablet.submit("/auth/sign-out", page="/")
    admin = Actor(user_id(app, "admin"), "admin")
    with app.app_context():
        staff_accounts.set_active(admin, user_id(app, "nurse"), False, "Left")
        staff_accounts.set_active(admin, user_id(app, "nurse"), True, "Came back")
    assert switch(tablet, app, "nurse").status_code == 422


def test_an_admins_password_reset_clears_the_pin(app):
    ward = nurse_ward(app)
    tablet = enrolled_tablet(app, ward)
    full_sign_in_and_pin(tablet, "nurse")
    with app.app_context():
        staff_accounts.set_password(
            Actor(user_id(app, "admin"), "admin"), user_id(app, "nurse"), "a-brand-new-password"
        )
        assert db.session.scalar(select(User.pin_hash).where(User.username == "nurse")) is None
