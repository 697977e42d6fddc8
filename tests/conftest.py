"""Fixtures: a migrated demo home on real SQLite and real PostgreSQL, clients signed in by role."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Literal

import psycopg
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from carelog import create_app
from carelog.accounts import passwords
from carelog.extensions import db
from carelog.ops import demo
from tests import postgres


class RememberingHasher(PasswordHasher):
    """carelog's argon2id, with the same parameters, remembering what each (hash, password) it
    has checked came to. Every test copies the same seeded accounts, so the suite would check
    the same few passwords against the same hashes thousands of times, at 0.14 s a check: a
    third of the request tests' time. argon2 verification is a pure function, so the answer is
    the one argon2 gave the first time. Tests that count checks put their own hasher in."""

    def __init__(self) -> None:
        super().__init__()
        self._outcomes: dict[tuple[str | bytes, str | bytes], Exception | None] = {}

    def verify(self, hash, password) -> Literal[True]:  # noqa: A002 - argon2's own name
        key = (hash, password)
        if key not in self._outcomes:
            try:
                super().verify(hash, password)
                self._outcomes[key] = None
            except (VerificationError, InvalidHashError) as refused:
                self._outcomes[key] = refused
        if (refused := self._outcomes[key]) is not None:
            raise type(refused)(*refused.args)
        return True


passwords._hasher = RememberingHasher()

BACKENDS = ("sqlite", "postgresql")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORDS = {name: password for name, _, _, _, password in demo.DEMO_ACCOUNTS}
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# `make test` runs in three parts: the request tests on two workers (`-m "not serial and not
# browser"`); the browser tests, two Chromiums at a time (`-m browser`: their clocks are faked
# and they wait for what they expect to see, so they time nothing); then, alone, the tests that
# time things or load the machine (`-m serial`).
BROWSER = "tests/browser/"
SERIAL = (
    "tests/test_load.py",
    "tests/test_crash_durability.py",
    "tests/test_faults.py",
    "tests/test_audit_concurrency.py",
    "tests/test_backup.py",
)


def pytest_addoption(parser):
    parser.addoption(
        "--backend",
        choices=(*BACKENDS, "both"),
        default="both",
        help="Run database tests on SQLite, PostgreSQL or both (the default).",
    )


def pytest_collection_modifyitems(items):
    for item in items:
        if item.nodeid.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)
        if item.nodeid.startswith(BROWSER):
            item.add_marker(pytest.mark.browser)
    # The longest tests go first, so that one worker takes each while the other runs the rest
    # rather than one starting last with the other idle: first within their database's run, as
    # pytest groups the tests by database (each switch would build that template again).
    runs: dict[str | None, int] = {}
    for item in items:
        runs.setdefault(_backend_of(item), len(runs))
    items.sort(
        key=lambda item: (runs[_backend_of(item)], item.get_closest_marker("longest") is None)
    )


def _backend_of(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("backend") if callspec else None


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend")
        params = BACKENDS if chosen == "both" else (chosen,)
        metafunc.parametrize("backend", params, scope="session")


def app_config(url: str, **extra) -> dict:
    """Settings for an app under test on the given database."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": url,
        **extra,
    }


def build_template(url: str) -> None:
    """Migrate an empty database and seed the demo home into it, once per backend."""
    app = create_app(app_config(url))
    with app.app_context():
        upgrade()
        demo.seed(with_sessions=False)
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole run, started from the machine's binaries."""
    server = postgres.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def template_database(backend, tmp_path_factory, request):
    """The URL of a migrated, seeded database that each test copies."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        build_template(f"sqlite:///{path}")
        return str(path)
    server = request.getfixturevalue("postgres_server")
    with psycopg.connect(server.url().replace("+psycopg", ""), autocommit=True) as conn:
        # Built again (not reused) should pytest ever come back to this database's tests.
        conn.execute("DROP DATABASE IF EXISTS carelog_template WITH (FORCE)")
        conn.execute("CREATE DATABASE carelog_template")
    build_template(server.url("carelog_template"))
    return server.url("carelog_template")


@pytest.fixture(scope="session")
def template_copies(backend, template_database, request):
    """PostgreSQL copies of the template, each made while the test before it runs."""
    if backend != "postgresql":
        yield None
        return
    server = request.getfixturevalue("postgres_server")
    copies = postgres.TemplateCopies(server.url().replace("+psycopg", ""), "carelog_template")
    yield copies
    copies.close()


@pytest.fixture
def database_url(backend, template_database, template_copies, tmp_path, request):
    """A fresh copy of the template database for one test."""
    if backend == "sqlite":
        copy = tmp_path / "carelog.sqlite"
        shutil.copyfile(template_database, copy)
        yield f"sqlite:///{copy}"
        return
    server = request.getfixturevalue("postgres_server")
    name = template_copies.take()
    yield server.url(name)
    template_copies.drop(name)


@pytest.fixture
def app(database_url):
    """The app on a fresh copy of the demo home."""
    application = create_app(app_config(database_url))
    yield application
    with application.app_context():
        db.engine.dispose()


class StaffClient:
    """A test client that signs in and posts forms with their CSRF token, like a browser."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name)

    def csrf_token(self, page: str = "/auth/sign-in") -> str:
        """Read the CSRF token from a page, as the browser's form would carry it."""
        response = self.client.get(page, follow_redirects=True)
        match = CSRF_PATTERN.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def sign_in(self, username: str, password: str | None = None):
        """Sign in through the form."""
        token = self.csrf_token("/auth/sign-in")
        return self.client.post(
            "/auth/sign-in",
            data={
                "username": username,
                "password": password or PASSWORDS[username],
                "csrf_token": token,
            },
        )

    def submit(self, url: str, data: dict | None = None, page: str | None = None, **kwargs):
        """Post a form with a valid CSRF token taken from the page it lives on."""
        fields = {"csrf_token": self.csrf_token(page or url), **(data or {})}
        return self.client.post(url, data=fields, **kwargs)


@pytest.fixture
def client(app):
    """An anonymous browser."""
    return StaffClient(app.test_client())


@pytest.fixture
def signed_in(app):
    """A factory of clients signed in as a demo account: signed_in('nurse')."""

    def make(username: str) -> StaffClient:
        staff = StaffClient(app.test_client())
        response = staff.sign_in(username)
        assert response.status_code == 303, response.get_data(as_text=True)
        return staff

    return make


def database_path(url: str) -> Path:
    """The file behind a SQLite URL."""
    return Path(make_url(url).database)
