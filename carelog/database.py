"""The declarative base, UTC time handling and the SQLite settings carelog relies on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase, Session, registry, scoped_session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15000  # under gunicorn's 30 s worker timeout
WRITE_OPTION = "carelog_write"
T = TypeVar("T")


_CLOCK: ContextVar[datetime | None] = ContextVar("carelog_clock", default=None)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (the seeder's clock inside clock_at)."""
    return _CLOCK.get() or datetime.now(UTC)


@contextlib.contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Make utcnow() answer `moment` inside the block, so that records and their audit entries
    carry the time of the event they record. Only the demo seeder lays down the past."""
    token = _CLOCK.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _CLOCK.reset(token)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base class of every model, with constraint names Alembic can rely on."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def configure_engine(engine: Engine) -> None:
    """Apply the per-connection settings carelog needs on SQLite; PostgreSQL needs none."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from pysqlite so that BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A write that starts as a read gets SQLITE_BUSY at once in WAL mode, whatever the
        # busy timeout; taking the write lock up front makes writers queue instead.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def existing(session: Session | scoped_session, model: type[T], ident: Any, **options: Any) -> T:
    """A row the caller already knows exists (a view checked the id); otherwise a LookupError."""
    found = session.get(model, ident, **options)
    if found is None:
        raise LookupError(f"there is no {model.__name__} {ident}")
    return found


@contextlib.contextmanager
def write_transaction(session: Session | scoped_session) -> Iterator[Session]:
    """Run a block as one write transaction that commits on success and rolls back on error."""
    plain: Session = session() if isinstance(session, scoped_session) else session
    if plain.in_transaction():
        plain.rollback()  # end the request's read snapshot; nothing unwritten is pending here
    plain.connection(execution_options={WRITE_OPTION: True})
    try:
        yield plain
        plain.commit()
    except BaseException:
        plain.rollback()
        raise


def append_only_ddl(dialect: str, table: str, verbs: tuple[str, ...] = ("UPDATE", "DELETE")):
    """Triggers that refuse the given verbs (and TRUNCATE on PostgreSQL) on a table."""
    message = f"{table} is append-only: records are never changed or deleted"
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            for verb in verbs
        ]
    if dialect == "postgresql":
        return [
            f"CREATE FUNCTION {table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            f"CREATE TRIGGER {table}_no_change BEFORE {' OR '.join(verbs)} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()",
        ]
    raise ValueError(f"no append-only triggers for {dialect}")


def drop_append_only_ddl(
    dialect: str, table: str, verbs: tuple[str, ...] = ("UPDATE", "DELETE")
) -> list[str]:
    """Undo append_only_ddl, for downgrades."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER {table}_no_{verb.lower()}" for verb in verbs]
    return [f"DROP FUNCTION {table}_refuse_change() CASCADE"]


def render_migration_type(type_, object_, autogen_context):
    """Write UTC timestamps into migrations as plain DateTime, so migrations stand alone."""
    if type_ == "type" and isinstance(object_, UTCDateTime):
        return "sa.DateTime()"
    return False


def without_index(column):
    """The column behind a unary plus, which tells SQLite not to use its index for a term.

    SQLite's documented way to steer its planner; on PostgreSQL +x is an expression, which no
    index of x serves either.
    """
    return UnaryExpression(column.expression, operator=operators.custom_op("+"), type_=column.type)
