"""The command line: create-user for the first accounts, demo --if-empty for `make run`."""

from __future__ import annotations

from sqlalchemy import func, select

from carelog.accounts.models import User, Ward
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from carelog.ops import demo
from carelog.residents.models import Consent, Resident
from tests.conftest import StaffClient
from tests.helpers.commands import run_flask

PASSWORD = "a-long-enough-password-1"


def invoke(app, *args: str):
    """Run `flask --app carelog ...` in-process.

    The real `flask` executable pushes an app context for every command; app.cli does not,
    and carelog's commands do not ask for one (no @with_appcontext), so push it here.
    """
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def create_user(app, *args: str):
    """Run `flask --app carelog create-user ...` in-process."""
    return invoke(app, "create-user", *args)


def counts(app) -> dict[str, int]:
    """Rows in each table the commands touch."""
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Ward, User, Resident, Consent, AuditEntry)
        }


def stored_user(app, username: str) -> User | None:
    """An account as stored."""
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def test_create_user_makes_an_account_that_can_sign_in(app):
    """A nurse made on the command line belongs to the ward named and can sign in."""
    result = create_user(
        app,
        "Kofi.Asante",
        "--full-name",
        "Kofi Asante",
        "--role",
        "nurse",
        "--ward",
        "Willow",
        "--registration-number",
        "NMC 01B2345C",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "Created kofi.asante (nurse)." in result.output
    user = stored_user(app, "kofi.asante")
    with app.app_context():
        willow = db.session.scalar(select(Ward.id).where(Ward.name == "Willow"))
    assert (user.full_name, user.role, user.ward_id, user.registration_number, user.active) == (
        "Kofi Asante",
        "nurse",
        willow,
        "NMC 01B2345C",
        True,
    )
    assert PASSWORD not in user.password_hash

    browser = StaffClient(app.test_client())
    assert browser.sign_in("kofi.asante", PASSWORD).status_code == 303
    assert "Kofi Asante" in browser.get("/residents/").get_data(as_text=True)
    assert (
        StaffClient(app.test_client()).sign_in("kofi.asante", "wrong-password-0").status_code == 200
    )

    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "user.create", AuditEntry.entity_id == str(user.id)
            )
        )
    assert entry.actor == "command-line"
    assert entry.new["username"] == "kofi.asante"
    assert user.password_hash not in entry.new_values
    assert PASSWORD not in entry.new_values


def test_create_user_makes_an_admin_without_a_ward(app, database_url):
    """The first admin of a home needs no ward; this runs the real `flask` executable."""
    process = run_flask(
        database_url,
        "create-user",
        "second.admin",
        "--full-name",
        "Sam Admin",
        "--role",
        "admin",
        "--password",
        PASSWORD,
    )
    assert process.returncode == 0, process.stderr
    assert "Created second.admin (admin)." in process.stdout
    assert stored_user(app, "second.admin").ward_id is None
    assert StaffClient(app.test_client()).sign_in("second.admin", PASSWORD).status_code == 303


def test_create_user_refuses_bad_input_with_a_clear_message(app):
    """Unknown ward, short password, unknown role or a taken username: non-zero exit, no account."""
    before = counts(app)
    cases = [
        (["--role", "nurse", "--ward", "Nowhere", "--password", PASSWORD], "no ward called"),
        (["--role", "nurse", "--ward", "Rowan", "--password", "elevenchars"], "12 characters"),
        (["--role", "matron", "--password", PASSWORD], "matron"),
    ]
    for args, message in cases:
        result = create_user(app, "new.person", "--full-name", "New Person", *args)
        assert result.exit_code != 0, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert stored_user(app, "new.person") is None
        assert counts(app) == before, args

    result = create_user(
        app, "NURSE", "--full-name", "Someone Else", "--role", "auditor", "--password", PASSWORD
    )
    assert result.exit_code != 0, result.output
    assert "The username nurse is taken" in result.output
    assert stored_user(app, "nurse").full_name == "Niamh Byrne"
    assert counts(app) == before


def test_create_user_refuses_a_nurse_without_a_ward(app):
    """As on the admin's form, a nurse must belong to a ward (else they would see no one)."""
    before = counts(app)
    result = create_user(
        app, "wardless", "--full-name", "No Ward", "--role", "nurse", "--password", PASSWORD
    )
    assert result.exit_code != 0, result.output
    assert "ward" in result.output.lower()
    assert stored_user(app, "wardless") is None
    assert counts(app) == before


def test_demo_if_empty_leaves_a_seeded_home_alone(app, database_url):
    """On a home that has staff, `flask --app carelog demo --if-empty` changes nothing."""
    before = counts(app)
    result = invoke(app, "demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "demo data left as it is" in result.output
    assert counts(app) == before

    process = run_flask(database_url, "demo", "--if-empty")
    assert process.returncode == 0, process.stderr
    assert "demo data left as it is" in process.stdout
    for username, _, _, _, password in demo.DEMO_ACCOUNTS:
        assert f"{username:<8} / {password}" in process.stdout, username
    assert counts(app) == before
