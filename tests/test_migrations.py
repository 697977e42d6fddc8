"""The migrations build the models' schema on an empty database, and can be undone and redone."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from carelog import create_app
from carelog.extensions import db
from tests.conftest import app_config


@pytest.fixture
def empty_app(backend, tmp_path, request):
    """The app on a brand-new database with no tables at all."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
        drop = None
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"carelog_migrations_{uuid.uuid4().hex[:12]}"
        admin_url = server.url().replace("+psycopg", "")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        url = server.url(name)

        def drop():
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    application = create_app(app_config(url))
    yield application
    with application.app_context():
        db.engine.dispose()
    if drop:
        drop()


def flask_db(app, *args: str):
    """Run `flask db ...` against the app, as an operator would."""
    return app.test_cli_runner().invoke(args=["db", *args])


def tables(app) -> set[str]:
    """The tables the database holds now."""
    with app.app_context():
        names = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
        return names


def triggers(app) -> set[str]:
    """The user-defined triggers in the database."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        return set(conn.execute(text(query)).scalars())


def stamped_revisions(app) -> set[str]:
    """The revisions the database says it is at."""
    with app.app_context(), db.engine.connect() as conn:
        return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def head_revisions(app) -> set[str]:
    """The newest revisions in migrations/."""
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return set(ScriptDirectory.from_config(config).get_heads())


def assert_models_match(app) -> None:
    """`flask db check` finds nothing to migrate (its all-clear goes to the real stdout)."""
    result = flask_db(app, "check")
    assert result.exit_code == 0, result.output
    assert "New upgrade operations detected" not in result.output


MODEL_TABLES = {"ward", "user", "resident", "consent", "login_session", "audit_entry"}


def test_migrations_on_an_empty_database_match_the_models(empty_app):
    """upgrade then check is clean; downgrade to base empties it; upgrade again is clean."""
    assert tables(empty_app) == set()

    result = flask_db(empty_app, "upgrade")
    assert result.exit_code == 0, result.output
    assert tables(empty_app) >= MODEL_TABLES | {"alembic_version"}
    assert_models_match(empty_app)
    assert stamped_revisions(empty_app) == head_revisions(empty_app)
    append_only = triggers(empty_app)
    assert any(name.startswith("audit_entry_no_") for name in append_only), append_only

    result = flask_db(empty_app, "downgrade", "base")
    assert result.exit_code == 0, result.output
    assert tables(empty_app) <= {"alembic_version"}
    assert triggers(empty_app) == set()

    result = flask_db(empty_app, "upgrade")
    assert result.exit_code == 0, result.output
    assert tables(empty_app) >= MODEL_TABLES
    assert triggers(empty_app) == append_only
    assert_models_match(empty_app)


def test_check_reports_a_schema_that_differs_from_the_models(empty_app):
    """Negative control: a column the models do not have makes `flask db check` fail."""
    assert flask_db(empty_app, "upgrade").exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE ward ADD COLUMN stray_column INTEGER"))
    result = flask_db(empty_app, "check")
    assert result.exit_code != 0, result.output
    assert "New upgrade operations detected" in result.output
    assert "stray_column" in result.output
