"""Separation of duties: an admin alone cannot give anyone, themselves included, clinical access;
a care manager or a second admin approves; the last active admin stays."""

from __future__ import annotations

from sqlalchemy import select

from carelog.accounts import staff_accounts
from carelog.accounts.auth_views import AWAITING_APPROVAL
from carelog.accounts.models import AccessRequest, User
from carelog.accounts.roles import Role
from carelog.audit.actor import Actor
from carelog.extensions import db
from tests.conftest import StaffClient
from tests.helpers.pages import flashes
from tests.helpers.records import approve_access, audit_entries, user_id

PASSWORD = "a-long-enough-password-1"
COMMAND_LINE = Actor(None, None, None, "carelog command line")


def _account(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _second_admin(app, username: str = "admin2") -> None:
    with app.app_context():
        staff_accounts.create_user(
            COMMAND_LINE, username=username, full_name="Second Admin", role=Role.ADMIN,
            password=PASSWORD,
        )  # fmt: skip


def _create(admin, username: str, role: str, ward_id: str = "0"):
    return admin.submit(
        "/admin/users/new",
        {"username": username, "full_name": f"New {role}", "role": role, "ward_id": ward_id,
         "registration_number": "", "password": PASSWORD},
    )  # fmt: skip


def _edit_role(admin, app, username: str, role: str):
    user = _account(app, username)
    return admin.submit(
        f"/admin/users/{user.id}",
        {"full_name": user.full_name, "role": role, "ward_id": str(user.ward_id or 0),
         "registration_number": user.registration_number or "", "password": ""},
    )  # fmt: skip


def _sign_in_page(app, username: str) -> tuple[int, str]:
    response = StaffClient(app.test_client()).sign_in(username, PASSWORD)
    return response.status_code, response.get_data(as_text=True)


def test_a_clinical_account_made_by_an_admin_waits_for_a_care_manager(app, signed_in):
    """The account exists but cannot sign in (and says why) until a care manager approves; the
    admin who asked cannot approve it; both steps are in the trail."""
    admin, manager = signed_in("admin"), signed_in("manager")
    assert _create(admin, "new.manager", "care_manager").status_code == 303
    user = _account(app, "new.manager")
    assert (user.role, user.awaiting_approval) == ("care_manager", True)
    status, page = _sign_in_page(app, "new.manager")
    assert status == 200 and AWAITING_APPROVAL in page

    refused = approve_access(app, admin, "new.manager")
    assert refused.status_code == 303
    listing = admin.get("/admin/access").get_data(as_text=True)
    assert "Someone other than the person who asked must decide." in flashes(listing)
    assert "Someone else decides this one." in listing
    assert _account(app, "new.manager").awaiting_approval

    assert approve_access(app, manager, "new.manager").status_code == 303
    assert not _account(app, "new.manager").awaiting_approval
    assert _sign_in_page(app, "new.manager")[0] == 303
    [asked] = audit_entries(app, "access.request", user.id)
    [approved] = audit_entries(app, "access.approve", user.id)
    assert (asked.actor, asked.new["role"]) == ("admin", "care_manager")
    assert (approved.actor, approved.new["awaiting_approval"]) == ("manager", False)


def test_an_admin_cannot_give_themselves_clinical_access(app, signed_in):
    """Changing one's own role to auditor only asks; the role stays admin until a second admin
    approves; nobody approves their own request."""
    _second_admin(app)
    admin = signed_in("admin")
    response = _edit_role(admin, app, "admin", "auditor")
    assert response.status_code == 303
    assert _account(app, "admin").role == "admin", "the role must not change on the admin's word"
    assert admin.get("/audit/").status_code == 403
    approve_access(app, admin, "admin")
    assert _account(app, "admin").role == "admin"

    second = StaffClient(app.test_client())
    assert second.sign_in("admin2", PASSWORD).status_code == 303
    assert approve_access(app, second, "admin").status_code == 303
    assert _account(app, "admin").role == "auditor"


def test_a_role_change_to_clinical_access_waits_and_can_be_refused_with_a_reason(app, signed_in):
    """An admin made an auditor: held; a refusal needs a note and leaves the role as it was."""
    _second_admin(app)
    admin, manager = signed_in("admin"), signed_in("manager")
    _edit_role(admin, app, "admin2", "auditor")
    assert _account(app, "admin2").role == "admin"
    with app.app_context():
        request_id = db.session.scalar(
            select(AccessRequest.id).where(AccessRequest.user_id == user_id(app, "admin2"))
        )
    assert request_id is not None
    refuse = {"decision": "refuse", "note": ""}
    manager.submit(f"/admin/access/{request_id}", refuse, page="/admin/access")
    assert "Say why the request is refused." in flashes(manager.get("/admin/access").get_data(True))
    manager.submit(
        f"/admin/access/{request_id}",
        {"decision": "refuse", "note": "Not on the rota"},
        page="/admin/access",
    )
    assert _account(app, "admin2").role == "admin"
    [refusal] = audit_entries(app, "access.refuse", user_id(app, "admin2"))
    assert refusal.reason == "Not on the rota"


def test_the_last_active_admin_keeps_the_role(app, signed_in):
    """Neither a role change nor a deactivation may leave the home without an admin."""
    admin = signed_in("admin")
    response = _edit_role(admin, app, "admin", "auditor")
    assert response.status_code == 200
    assert "This is the last active admin account: add another admin first." in flashes(
        response.get_data(as_text=True)
    )
    with app.app_context():
        assert db.session.scalar(select(AccessRequest.id)) is None

    _second_admin(app)
    with app.app_context():
        admin_id, second_id = user_id(app, "admin"), user_id(app, "admin2")
        second = Actor(second_id, "admin2", None, None)
        staff_accounts.set_active(second, admin_id, False, "Left the home")
        try:
            staff_accounts.set_active(Actor(admin_id, "admin", None, None), second_id, False, "x")
        except staff_accounts.FieldError as error:
            assert "last active admin" in error.message
        else:
            raise AssertionError("the last active admin was deactivated")
        assert db.session.get(User, second_id).active


def test_accounts_made_on_the_command_line_need_no_approval(app):
    """Whoever runs the server is trusted to set up the first accounts."""
    with app.app_context():
        staff_accounts.create_user(
            COMMAND_LINE, username="cli.nurse", full_name="Cli Nurse", role=Role.AUDITOR,
            password=PASSWORD,
        )  # fmt: skip
    assert not _account(app, "cli.nurse").awaiting_approval
    assert _sign_in_page(app, "cli.nurse")[0] == 303
