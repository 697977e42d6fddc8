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


def test_resident_history_is_rebuilt_from_the_trail_at_its_own_times(empty_app):
    """Upgrading a database made before resident_version replays each resident's admission and
    changes from the audit trail, at the times they were recorded, with who and why; a resident
    the trail does not explain gets the record as it stands."""
    import json
    from datetime import date, datetime

    from sqlalchemy import MetaData, Table

    assert flask_db(empty_app, "upgrade", "1c41f9b30bbb").exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        meta = MetaData()
        ward, resident, trail = (Table(n, meta, autoload_with=conn) for n in
                                 ("ward", "resident", "audit_entry"))  # fmt: skip
        conn.execute(ward.insert(), {"id": 1, "name": "Rowan", "created_at": datetime(2026, 1, 1)})
        common = {"ward_id": 1, "family_name": "Hughes", "date_of_birth": date(1940, 2, 3),
                  "admitted_on": date(2026, 1, 5), "preferred_product": "Own emollient",
                  "sessions_per_week": 3, "defer_sessions": False, "avoid_left_hand": False,
                  "avoid_right_hand": False, "created_at": datetime(2026, 1, 5)}  # fmt: skip
        conn.execute(resident.insert(), [
            {**common, "id": 1, "given_name": "Margaret", "room": "R10", "allergies": "Lanolin",
             "light_pressure_only": True},
            {**common, "id": 2, "given_name": "Untracked", "room": "R11", "allergies": None,
             "light_pressure_only": False},
        ])  # fmt: skip
        # As chain.snapshot wrote it: every column but the id and created_at, dates as text.
        admitted = {column.name: None for column in resident.columns}
        admitted.update(common, given_name="Margaret", room="R03", light_pressure_only=False)
        admitted = {k: v.isoformat() if isinstance(v, date) else v for k, v in admitted.items()
                    if k not in ("id", "created_at")}  # fmt: skip
        for number, (action, at, new, reason) in enumerate([
            ("resident.admit", "2026-01-05T09:00:00.000000Z", admitted, None),
            ("resident.update", "2026-03-01T14:30:00.000000Z",
             {"room": "R10", "allergies": "Lanolin", "light_pressure_only": True}, "GP review"),
        ], start=1):  # fmt: skip
            conn.execute(trail.insert(), {
                "id": number, "recorded_at": at, "action": action, "entity": "resident",
                "entity_id": "1", "resident_id": 1, "new_values": json.dumps(new),
                "reason": reason, "prev_hash": f"{number - 1:064d}", "hash": f"{number:064d}",
            })  # fmt: skip
    assert flask_db(empty_app, "upgrade").exit_code == 0
    with empty_app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT resident_id, version_no, recorded_at, action, reason, \"values\" "
                 "FROM resident_version ORDER BY resident_id, version_no")
        ).all()  # fmt: skip
    history = [(r[0], r[1], str(r[2])[:16], r[3], r[4]) for r in rows]
    assert history[:2] == [
        (1, 1, "2026-01-05 09:00", "admit", None),
        (1, 2, "2026-03-01 14:30", "update", "GP review"),
    ]
    values = [v if isinstance(v, dict) else json.loads(v) for v in (r[5] for r in rows)]
    assert (values[0]["room"], values[0]["allergies"]) == ("R03", None)
    assert (values[1]["room"], values[1]["allergies"]) == ("R10", "Lanolin")
    assert [(h[0], h[3]) for h in history[2:]] == [(2, "history_began")]
    assert values[2]["given_name"] == "Untracked"
    assert_models_match(empty_app)


def test_sessions_made_before_their_standing_was_kept_get_it_from_their_current_version(
    empty_app,
):
    """Upgrading fills each session's current_* columns from its current version."""
    from datetime import date, datetime

    from sqlalchemy import MetaData, Table, select

    assert flask_db(empty_app, "upgrade", "c4e6a8b0d2f1").exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        meta = MetaData()
        ward, user, resident, session, version = (
            Table(n, meta, autoload_with=conn)
            for n in ("ward", "user", "resident", "care_session", "care_session_version")
        )

        def filled(table, **given):
            """The row with a plain value in every other column that must have one."""
            for column in table.columns:
                if column.name not in given and not column.nullable and not column.server_default:
                    kind = column.type.python_type
                    given[column.name] = {int: 0, bool: False, str: "x"}.get(kind)
            return given

        conn.execute(ward.insert(), {"id": 1, "name": "Rowan", "created_at": datetime(2026, 1, 1)})
        conn.execute(user.insert(), filled(user, id=1, username="n", full_name="N", role="nurse",
                                           created_at=datetime(2026, 1, 1)))  # fmt: skip
        conn.execute(resident.insert(), {"id": 1, "ward_id": 1, "given_name": "A",
                                         "family_name": "B", "room": "1",
                                         "date_of_birth": date(1940, 1, 1),
                                         "admitted_on": date(2026, 1, 1),
                                         "preferred_product": "Cream", "sessions_per_week": 3,
                                         "defer_sessions": False, "avoid_left_hand": False,
                                         "avoid_right_hand": False, "light_pressure_only": False,
                                         "created_at": datetime(2026, 1, 1)})  # fmt: skip
        conn.execute(session.insert(), {"id": 7, "resident_id": 1, "recorded_by_id": 1,
                                        "recorded_at": datetime(2026, 2, 1, 11),
                                        "current_version": 2})  # fmt: skip
        common = {"session_id": 7, "created_by_id": 1, "content_digest": "d",
                  "duration_minutes": 10, "late": False, "precautions_confirmed": True,
                  "repeat_confirmed": False}  # fmt: skip
        conn.execute(version.insert(), [
            {**common, "version_no": 1, "kind": "original", "submission_key": "k1",
             "created_at": datetime(2026, 2, 1, 11), "occurred_at": datetime(2026, 2, 1, 10),
             "outcome": "completed", "sleep_after_value": None, "sleep_after_status": None,
             "sleep_after_rater": None},
            {**common, "version_no": 2, "kind": "follow_up", "submission_key": "k2",
             "created_at": datetime(2026, 2, 2, 9), "occurred_at": datetime(2026, 2, 1, 10),
             "outcome": "completed", "sleep_after_value": 7, "sleep_after_status": "answered",
             "sleep_after_rater": "self"},
        ])  # fmt: skip
    assert flask_db(empty_app, "upgrade").exit_code == 0
    with empty_app.app_context(), db.engine.connect() as conn:
        table = Table("care_session", MetaData(), autoload_with=conn)
        row = conn.execute(
            select(
                table.c.current_occurred_at,
                table.c.current_outcome,
                table.c.current_kind,
                table.c.current_sleep_after_status,
            )  # fmt: skip
        ).one()
    assert tuple(row) == (datetime(2026, 2, 1, 10), "completed", "follow_up", "answered")
