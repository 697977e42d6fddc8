"""Running in production: the secret key, a busy SQLite database, and the health check."""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import stat

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

import carelog
from carelog import create_app, database
from carelog.accounts import staff_accounts
from carelog.accounts.models import LoginSession
from carelog.accounts.roles import Role
from carelog.audit.actor import Actor
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from tests.conftest import StaffClient, app_config, database_path

STRONG_SECRET = "0123456789abcdef" * 2  # exactly the 32-character minimum
BUSY_TIMEOUT_MS = 200


@pytest.fixture
def instance_path(tmp_path, monkeypatch):
    """Build every app of this test with a temporary instance folder, not the checkout's."""
    path = tmp_path / "instance"
    monkeypatch.setitem(
        globals(), "create_app", functools.partial(create_app, instance_path=str(path))
    )
    return path


@pytest.fixture
def production_environment(monkeypatch, tmp_path):
    """A process environment with no CARELOG_* or FLASK_DEBUG settings but a database URL."""
    for name in list(os.environ):
        if name.startswith("CARELOG_") or name == "FLASK_DEBUG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("CARELOG_DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite'}")
    return monkeypatch


@contextlib.contextmanager
def _built(settings: dict | None):
    """An app from create_app, its engine disposed afterwards."""
    application = create_app(settings)
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("secret", ["dev", "", "change-me", "x" * 31])
def test_a_weak_secret_key_is_refused_outside_testing(instance_path, tmp_path, secret):
    """A default or short SECRET_KEY stops the app from starting unless it is under test."""
    url = f"sqlite:///{tmp_path / 'weak.sqlite'}"
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url})


def test_a_weak_secret_key_from_the_environment_is_refused(instance_path, production_environment):
    """The production path (no test config: instance/config.py, then CARELOG_*) refuses it too."""
    production_environment.setenv("CARELOG_SECRET_KEY", "dev")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    production_environment.setenv("CARELOG_SECRET_KEY", STRONG_SECRET)
    with _built(None) as application:
        assert application.secret_key == STRONG_SECRET
    assert not (instance_path / "secret_key").exists()


def test_a_missing_secret_key_is_generated_once_and_kept_private(
    instance_path, production_environment
):
    """With no key configured, one is written to instance/secret_key (0600) and reused."""
    key_file = instance_path / "secret_key"
    assert not key_file.exists()
    with _built(None) as first:
        generated = first.secret_key
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == generated
    assert len(generated) >= 32
    assert generated not in carelog.config.WEAK_SECRETS

    with _built(None) as second:
        assert second.secret_key == generated
    assert key_file.read_text().strip() == generated


def test_workers_with_the_generated_key_accept_each_others_sessions(instance_path, database_url):
    """Two app instances (two gunicorn workers) share the key: one's cookie works on the other."""
    settings = {"SQLALCHEMY_DATABASE_URI": database_url}  # not TESTING, no SECRET_KEY
    with _built(settings) as first, _built(settings) as second:
        assert first.secret_key == second.secret_key
        nurse = StaffClient(first.test_client())
        assert nurse.sign_in("nurse").status_code == 303
        cookie = nurse.get_cookie("carelog_session").value

        other_worker = second.test_client()
        other_worker.set_cookie("carelog_session", cookie)
        assert "/auth/sign-in" not in other_worker.get("/").headers["Location"]

    # Negative control: an app with another key does not accept the cookie.
    with _built(app_config(database_url)) as stranger:
        foreign = stranger.test_client()
        foreign.set_cookie("carelog_session", cookie)
        assert "/auth/sign-in" in foreign.get("/").headers["Location"]


@pytest.fixture
def small_sqlite_app(tmp_path, monkeypatch):
    """A migrated SQLite database with one nurse, and an app with a short busy timeout."""
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS)
    url = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    application = create_app(app_config(url))
    with application.app_context():
        upgrade()
        staff_accounts.create_user(
            Actor(None, "test", None, None),
            username="nurse",
            full_name="Niamh Byrne",
            role=Role.NURSE,
            password="nurse-demo-password",
        )
    yield application
    with application.app_context():
        db.engine.dispose()


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
        sessions = db.session.scalar(select(func.count()).select_from(LoginSession))
        return entries, sessions


def test_a_busy_sqlite_database_answers_503_never_500(small_sqlite_app):
    """While another process holds the write lock, a write answers 503 with Retry-After."""
    app = small_sqlite_app
    path = database_path(app.config["SQLALCHEMY_DATABASE_URI"])
    nurse = StaffClient(app.test_client())
    token = nurse.csrf_token()
    form = {"username": "nurse", "password": "nurse-demo-password", "csrf_token": token}
    before = _counts(app)

    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        assert nurse.get("/auth/sign-in").status_code == 200  # reads go on under WAL
        page = nurse.post("/auth/sign-in", data=form)
        as_json = nurse.post("/auth/sign-in", data=form, headers={"Accept": "application/json"})
        holder.execute("ROLLBACK")

    assert page.status_code == 503
    assert int(page.headers["Retry-After"]) > 0
    text = page.get_data(as_text=True)
    assert "busy" in text and "Nothing was saved" in text
    assert as_json.status_code == 503
    assert int(as_json.headers["Retry-After"]) > 0
    assert as_json.get_json()["error"] == "Busy, please try again"
    assert _counts(app) == before

    assert nurse.post("/auth/sign-in", data=form).status_code == 303
    entries, sessions = _counts(app)
    assert (entries, sessions) == (before[0] + 1, before[1] + 1)


def test_the_health_check_answers_ok_when_the_database_is_reachable(client):
    """GET /healthz is public and answers 200 {"status": "ok"}."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_the_health_check_answers_503_when_the_database_is_not(tmp_path):
    """Negative control: with a database that cannot be opened, /healthz says so with a 503."""
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'carelog.sqlite'}"
    with _built(app_config(url)) as application:
        response = application.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
