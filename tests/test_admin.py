"""The admin's pages through the real forms: wards, accounts, passwords, deactivation, audit."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from carelog.accounts.models import User, Ward
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from tests.conftest import PASSWORDS, StaffClient
from tests.helpers.records import approve_access, audit_entries, count

NEW_PASSWORD = "a-long-enough-password-1"


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages shown next to a form field, as the person reads them."""
    pattern = rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>'
    return [html.unescape(m) for m in re.findall(pattern, page, re.S)]


def flashes(page: str) -> list[str]:
    """The flash messages at the top of a page."""
    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page)]


def user_named(app, username: str) -> User | None:
    """The account with this username, read from the database."""
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def ward_named(app, name: str) -> Ward | None:
    """The ward with this name, read from the database."""
    with app.app_context():
        return db.session.scalar(select(Ward).where(Ward.name == name))


def can_sign_in(app, username: str, password: str) -> bool:
    """Whether a fresh browser gets in with these credentials."""
    response = StaffClient(app.test_client()).sign_in(username, password)
    return response.status_code == 303


def user_row(page: str, username: str) -> str:
    """The row of the staff list that shows this username."""
    for row in re.findall(r"<tr.*?</tr>", page, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        if len(cells) > 1 and cells[1] == username:
            return row
    raise AssertionError(f"{username} is not in the staff list")


def user_form(user: User, **changes) -> dict:
    """The account form as the admin would submit it, starting from the stored values."""
    data = {
        "full_name": user.full_name,
        "role": user.role,
        "ward_id": str(user.ward_id or 0),
        "registration_number": user.registration_number or "",
        "password": "",
    }
    data.update(changes)
    return data


def test_admin_adds_a_ward_and_duplicate_names_are_refused(app, signed_in):
    """A new ward is saved and audited; a name already used, in any case, is refused on the form."""
    admin = signed_in("admin")
    response = admin.submit("/admin/wards", {"name": "  Hawthorn "})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/wards")
    ward = ward_named(app, "Hawthorn")
    assert ward is not None
    assert "Hawthorn" in admin.get("/admin/wards").get_data(as_text=True)
    [entry] = audit_entries(app, "ward.create", ward.id)
    assert entry.actor == "admin"
    assert entry.new["name"] == "Hawthorn"

    wards, entries = count(app, Ward), count(app, AuditEntry)
    for clash in ("Hawthorn", "rowan", "WILLOW"):
        response = admin.submit("/admin/wards", {"name": clash})
        assert response.status_code == 200, clash
        errors = field_errors(response.get_data(as_text=True), "name")
        assert errors == [f"There is already a ward called {clash}."], clash
    response = admin.submit("/admin/wards", {"name": "   "})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "name") == ["Please fill this in."]
    assert (count(app, Ward), count(app, AuditEntry)) == (wards, entries)


def test_admin_renames_a_ward_with_old_and_new_names_in_the_trail(app, signed_in):
    """Renaming keeps the id and records both names; taking another ward's name is refused."""
    admin = signed_in("admin")
    rowan = ward_named(app, "Rowan")
    response = admin.submit(f"/admin/wards/{rowan.id}", {"name": "Rowan East"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Ward, rowan.id).name == "Rowan East"
    [entry] = audit_entries(app, "ward.update", rowan.id)
    assert (entry.old, entry.new, entry.actor) == (
        {"name": "Rowan"},
        {"name": "Rowan East"},
        "admin",
    )

    entries = count(app, AuditEntry)
    response = admin.submit(f"/admin/wards/{rowan.id}", {"name": "willow"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_errors(page, "name") == ["There is already a ward called willow."]
    with app.app_context():
        assert db.session.get(Ward, rowan.id).name == "Rowan East"
    assert count(app, AuditEntry) == entries


def test_admin_creates_an_account_for_each_role(app, signed_in):
    """Each role gets an account that signs in; the trail holds its details but no password."""
    admin, manager = signed_in("admin"), signed_in("manager")
    rowan = ward_named(app, "Rowan")
    for role in ("nurse", "care_manager", "auditor", "admin"):
        username = f"new.{role}"
        registration = "NMC 12A3456E" if role == "nurse" else ""
        response = admin.submit(
            "/admin/users/new",
            {
                "username": username,
                "full_name": f"New {role}",
                "role": role,
                "ward_id": str(rowan.id if role == "nurse" else 0),
                "registration_number": registration,
                "password": NEW_PASSWORD,
            },
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        assert response.headers["Location"].endswith("/admin/users")
        user = user_named(app, username)
        assert (user.role, user.full_name, user.active) == (role, f"New {role}", True)
        assert user.ward_id == (rowan.id if role == "nurse" else None)
        assert user.registration_number == (registration or None)
        if role != "admin":  # clinical access waits for a second person (separation of duties)
            assert user.awaiting_approval and not can_sign_in(app, username, NEW_PASSWORD), role
            assert approve_access(app, manager, username).status_code == 303
        assert can_sign_in(app, username, NEW_PASSWORD), role

        [entry] = audit_entries(app, "user.create", user.id)
        assert entry.actor == "admin"
        assert entry.new["username"] == username
        assert entry.new["role"] == role
        assert entry.new["registration_number"] == (registration or None)
        assert "password_hash" not in entry.new
        assert user.password_hash not in entry.new_values
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "NMC 12A3456E" in user_row(page, "new.nurse")


def test_account_form_refuses_bad_answers_and_saves_nothing(app, signed_in):
    """No ward for a nurse, a short or missing password, a taken username: refused on the form."""
    admin = signed_in("admin")
    rowan = ward_named(app, "Rowan")
    valid = {
        "username": "fresh.nurse",
        "full_name": "Fresh Nurse",
        "role": "nurse",
        "ward_id": str(rowan.id),
        "registration_number": "",
        "password": NEW_PASSWORD,
    }
    cases = [
        ({"ward_id": "0"}, "ward_id", "A nurse must belong to a ward."),
        ({"password": "elevenchars"}, "password", "Use at least 12 characters."),
        ({"password": ""}, "password", "Set a first password for the account."),
        ({"username": "nurse"}, "username", "The username nurse is taken. Choose another."),
        ({"username": "NURSE"}, "username", "The username nurse is taken. Choose another."),
        ({"username": "Manager"}, "username", "The username manager is taken. Choose another."),
        ({"username": "a b"}, "username", "Use letters, digits, dots, dashes or underscores only."),
        ({"full_name": " "}, "full_name", "Please fill this in."),
    ]
    users, entries = count(app, User), count(app, AuditEntry)
    for changes, field, message in cases:
        response = admin.submit("/admin/users/new", {**valid, **changes})
        assert response.status_code == 200, changes
        page = response.get_data(as_text=True)
        assert message in field_errors(page, field), (changes, field_errors(page, field))
        assert NEW_PASSWORD not in page, "a password must never be sent back in a page"
        assert (count(app, User), count(app, AuditEntry)) == (users, entries), changes
    assert user_named(app, "fresh.nurse") is None
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.username == "nurse"))
        assert nurse.full_name == "Niamh Byrne"


def test_admin_edits_an_account_with_old_and_new_values_in_the_trail(app, signed_in):
    """Name, ward and registration number change; the username stays; the trail shows both."""
    admin = signed_in("admin")
    nurse = user_named(app, "nurse")
    rowan, willow = ward_named(app, "Rowan"), ward_named(app, "Willow")
    assert nurse.ward_id == rowan.id
    response = admin.submit(
        f"/admin/users/{nurse.id}",
        user_form(
            nurse,
            username="someone.else",
            full_name="Niamh Byrne-Walsh",
            ward_id=str(willow.id),
            registration_number="NMC 99Z9999Z",
        ),
    )
    assert response.status_code == 303
    edited = user_named(app, "nurse")
    assert (edited.full_name, edited.ward_id, edited.registration_number) == (
        "Niamh Byrne-Walsh",
        willow.id,
        "NMC 99Z9999Z",
    )
    assert user_named(app, "someone.else") is None
    assert edited.password_hash == nurse.password_hash, "an empty password field keeps it"
    [entry] = audit_entries(app, "user.update", nurse.id)
    assert entry.actor == "admin"
    assert entry.old == {
        "full_name": "Niamh Byrne",
        "ward_id": rowan.id,
        "registration_number": nurse.registration_number,
    }
    assert entry.new == {
        "full_name": "Niamh Byrne-Walsh",
        "ward_id": willow.id,
        "registration_number": "NMC 99Z9999Z",
    }
    assert can_sign_in(app, "nurse", PASSWORDS["nurse"])

    entries = count(app, AuditEntry)
    response = admin.submit(f"/admin/users/{nurse.id}", user_form(edited, ward_id="0"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_errors(page, "ward_id") == ["A nurse must belong to a ward."]
    assert user_named(app, "nurse").ward_id == willow.id
    assert count(app, AuditEntry) == entries


def test_admin_resets_a_password(app, signed_in):
    """After a reset the old password fails, the new one works, and open sessions are ended."""
    admin = signed_in("admin")
    nurse_tablet = signed_in("nurse")
    nurse = user_named(app, "nurse")
    response = admin.submit(f"/admin/users/{nurse.id}", user_form(nurse, password="short"))
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "password") == [
        "Use at least 12 characters."
    ]
    assert can_sign_in(app, "nurse", PASSWORDS["nurse"])

    response = admin.submit(f"/admin/users/{nurse.id}", user_form(nurse, password=NEW_PASSWORD))
    assert response.status_code == 303
    assert not can_sign_in(app, "nurse", PASSWORDS["nurse"])
    assert can_sign_in(app, "nurse", NEW_PASSWORD)
    after = nurse_tablet.get("/residents/")
    assert after.status_code == 302
    assert "/auth/sign-in" in after.headers["Location"]

    [entry] = audit_entries(app, "user.password", nurse.id)
    assert entry.actor == "admin"
    stored = user_named(app, "nurse").password_hash
    for text in (entry.old_values, entry.new_values, entry.reason):
        assert text is None or (stored not in text and NEW_PASSWORD not in text)


def test_admin_deactivates_and_reactivates_an_account_with_a_reason(app, signed_in):
    """A reason is required; the account stays, is listed as Deactivated and cannot sign in."""
    admin = signed_in("admin")
    nurse_tablet = signed_in("nurse")
    nurse = user_named(app, "nurse")
    edit_page = f"/admin/users/{nurse.id}"
    toggle = f"/admin/users/{nurse.id}/active"

    entries = count(app, AuditEntry)
    response = admin.submit(toggle, {"reason": "  "}, page=edit_page)
    assert response.status_code == 303
    shown = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Say why the account is being deactivated or reactivated." in flashes(shown)
    assert user_named(app, "nurse").active
    assert count(app, AuditEntry) == entries
    assert nurse_tablet.get("/residents/").status_code == 200

    response = admin.submit(toggle, {"reason": "Left the home's employment"}, page=edit_page)
    assert response.status_code == 303
    deactivated = user_named(app, "nurse")
    assert deactivated is not None and not deactivated.active
    assert count(app, User) == len(PASSWORDS)
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "Deactivated" in user_row(listing, "nurse")
    assert "Active" in user_row(listing, "nurse2")
    assert not can_sign_in(app, "nurse", PASSWORDS["nurse"])
    after = nurse_tablet.get("/residents/")
    assert after.status_code == 302, "a deactivated account's open session must end"
    [entry] = audit_entries(app, "user.deactivate", nurse.id)
    assert (entry.old, entry.new, entry.reason, entry.actor) == (
        {"active": True},
        {"active": False},
        "Left the home's employment",
        "admin",
    )

    response = admin.submit(toggle, {"reason": "Returned from leave"}, page=edit_page)
    assert response.status_code == 303
    assert user_named(app, "nurse").active
    assert can_sign_in(app, "nurse", PASSWORDS["nurse"])
    assert "Active" in user_row(admin.get("/admin/users").get_data(as_text=True), "nurse")
    [entry] = audit_entries(app, "user.reactivate", nurse.id)
    assert (entry.old, entry.new, entry.reason) == (
        {"active": False},
        {"active": True},
        "Returned from leave",
    )


def test_admin_cannot_deactivate_themselves(app, signed_in):
    """The last way in must not be locked by accident: self-deactivation is refused."""
    admin = signed_in("admin")
    me = user_named(app, "admin")
    entries = count(app, AuditEntry)
    response = admin.submit(
        f"/admin/users/{me.id}/active", {"reason": "Testing"}, page=f"/admin/users/{me.id}"
    )
    assert response.status_code == 303
    shown = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot deactivate your own account." in flashes(shown)
    assert user_named(app, "admin").active
    assert count(app, AuditEntry) == entries
    assert admin.get("/admin/users").status_code == 200


def test_password_hashes_never_reach_the_audit_trail(app, signed_in):
    """After creating, editing, resetting and deactivating, no hash or password is in any entry."""
    admin = signed_in("admin")
    rowan = ward_named(app, "Rowan")
    admin.submit(
        "/admin/users/new",
        {
            "username": "trail.check",
            "full_name": "Trail Check",
            "role": "nurse",
            "ward_id": str(rowan.id),
            "registration_number": "",
            "password": NEW_PASSWORD,
        },
    )
    user = user_named(app, "trail.check")
    assert user is not None
    second_password = "another-long-password-2"
    admin.submit(f"/admin/users/{user.id}", user_form(user, password=second_password))
    admin.submit(f"/admin/users/{user.id}", user_form(user, full_name="Trail Checked"))
    admin.submit(
        f"/admin/users/{user.id}/active", {"reason": "Done"}, page=f"/admin/users/{user.id}"
    )
    assert can_sign_in(app, "nurse", PASSWORDS["nurse"])

    actions = {entry.action for entry in audit_entries(app, entity_id=user.id)}
    assert {"user.create", "user.password", "user.update", "user.deactivate"} <= actions
    with app.app_context():
        hashes = set(db.session.scalars(select(User.password_hash)))
    secrets = hashes | {NEW_PASSWORD, second_password, *PASSWORDS.values(), "$argon2"}
    for entry in audit_entries(app):
        for text in (entry.old_values, entry.new_values, entry.reason):
            if text:
                assert not any(secret in text for secret in secrets), (entry.id, entry.action)
                assert "password" not in text, (entry.id, entry.action)


def test_accents_scripts_and_markup_round_trip_in_admin_pages(app, signed_in):
    """Names in any script are stored exactly; markup typed into a name is shown, never run."""
    admin = signed_in("admin")
    ward_name = "Łucja & Zoë <b>wing</b>"
    response = admin.submit("/admin/wards", {"name": ward_name})
    assert response.status_code == 303
    ward = ward_named(app, ward_name)
    assert ward is not None
    full_name = "Дмитрий Siobhán <script>alert(1)</script> &amp;"
    response = admin.submit(
        "/admin/users/new",
        {
            "username": "dmitrii",
            "full_name": full_name,
            "role": "nurse",
            "ward_id": str(ward.id),
            "registration_number": "",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    user = user_named(app, "dmitrii")
    assert user.full_name == full_name
    [entry] = audit_entries(app, "user.create", user.id)
    assert entry.new["full_name"] == full_name

    for url in ("/admin/users", f"/admin/users/{user.id}", "/admin/wards"):
        page = admin.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page, url
        assert "<b>wing</b>" not in page, url
        assert "&lt;b&gt;wing&lt;/b&gt;" in page, url
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "Дмитрий Siobhán &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;" in listing
    assert "Łucja &amp; Zoë" in listing
    approve_access(app, signed_in("manager"), "dmitrii")
    assert can_sign_in(app, "dmitrii", NEW_PASSWORD)


def test_ward_names_differing_only_in_accented_capitals_clash(app, signed_in):
    """'Żurawia' and 'żurawia' are the same ward to a person, whatever the database's lower()."""
    admin = signed_in("admin")
    assert admin.submit("/admin/wards", {"name": "Żurawia"}).status_code == 303
    wards = count(app, Ward)
    response = admin.submit("/admin/wards", {"name": "żurawia"})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), "name")
    assert errors == ["There is already a ward called żurawia."]
    assert count(app, Ward) == wards
