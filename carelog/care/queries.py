"""Queries over the current versions of sessions, shared by the board, history and reports."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import FromClause, Select, Table, and_, any_, func, or_, select
from sqlalchemy.sql.elements import BindParameter

from carelog.accounts.models import User
from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.vocabulary import GIVEN, VersionKind
from carelog.database import without_index
from carelog.extensions import db
from carelog.local_time import local_day_bounds
from carelog.residents.models import Resident


def on_the_board(day: date | BindParameter):
    """Residents admitted by the given day who have not left: one whose departure is dated that
    day leaves the board at once (her record stays open to managers and auditors)."""
    return and_(
        Resident.admitted_on <= day,
        or_(Resident.departed_on.is_(None), Resident.departed_on > day),
    )


def only_current(query: Select, include_voided: bool = False) -> Select:
    """Join a query on versions to its sessions, keeping each session's current version."""
    query = query.join(
        CareSession,
        and_(
            CareSessionVersion.session_id == CareSession.id,
            CareSessionVersion.version_no == CareSession.current_version,
        ),
    )
    if not include_voided:
        query = query.where(CareSessionVersion.kind != VersionKind.VOID.value)
    return query


def current_versions(*columns, include_voided: bool = False) -> Select:
    """The current version of every session (voided ones only if asked), with extra columns."""
    return only_current(select(CareSessionVersion, *columns), include_voided)


def in_ward_between(query: Select, ward_id: int, start, end) -> Select:
    """Sessions of a ward's residents that happened between two instants.

    The unary plus keeps SQLite from choosing the resident index before it has statistics
    (no ANALYZE yet): that index reads a ward's whole history, the date index a few days.
    """
    ward_residents = select(Resident.id).where(Resident.ward_id == ward_id)
    return query.where(
        without_index(CareSession.resident_id).in_(ward_residents),
        CareSessionVersion.occurred_at >= start,
        CareSessionVersion.occurred_at < end,
    )


def current_dialect() -> str:
    """The kind of database the session talks to ("sqlite" or "postgresql"), for the queries
    that are written differently for each."""
    return db.session.get_bind().dialect.name


def session_lookup(dialect: str) -> FromClause:
    """How a query over a few days of versions reaches each version's session row, to join on
    with `current_between`.

    Both databases read the few thousand versions of those days by date, then look up each one's
    session by its key. PostgreSQL, given a plain join, would rather hash the whole care_session
    table, which grows with every session ever recorded (twice the board's time with two years
    of 150 residents): a LATERAL subquery with LIMIT 1 keeps it to one key lookup per version.
    """
    if dialect != "postgresql":
        return CareSession.__table__
    return (
        select(CareSession.id, CareSession.resident_id, CareSession.current_version)
        .where(CareSession.id == CareSessionVersion.session_id)
        .limit(1)
        .lateral("session_of_version")
    )


def current_between(session: FromClause, start, end, *columns) -> Select:
    """The columns of the current, not voided, versions of sessions between two instants,
    joined to their session through `session_lookup`."""
    return (
        select(*columns)
        .select_from(CareSessionVersion)
        .join(
            session,
            and_(
                session.c.id == CareSessionVersion.session_id,
                session.c.current_version == CareSessionVersion.version_no,
            ),
        )
        .where(
            CareSessionVersion.kind != VersionKind.VOID.value,
            CareSessionVersion.occurred_at >= start,
            CareSessionVersion.occurred_at < end,
        )
    )


def summed_standing(
    ward_id, start, end, *aggregates, dialect: str, by_ward: bool = False
) -> Select:
    """One row per resident of a ward (every ward for None), or per ward with `by_ward`: the id
    and the aggregates (over CareSession's current_* columns) of the sessions, not voided, whose
    current version happened between two instants; read from the standing index, without a
    version (and, by ward, each session's resident for the ward they are on today)."""
    standing = CareSession
    group = Resident.ward_id if by_ward else standing.resident_id
    query = select(group, *aggregates).where(
        standing.current_kind != VersionKind.VOID.value,
        standing.current_occurred_at >= start,
        standing.current_occurred_at < end,
    )
    if by_ward:
        query = query.join(Resident, Resident.id == standing.resident_id)
    query = query.group_by(group)
    if ward_id is None:
        return query
    return of_ward(query, cast(Table, CareSession.__table__), ward_id, dialect)


def of_ward(query: Select, session: FromClause, ward_id, dialect: str) -> Select:
    """A query over `session_lookup` kept to one ward's residents. On PostgreSQL the ward's
    residents come once as an array rather than as a set probed for every version."""
    ward_residents = select(Resident.id).where(Resident.ward_id == ward_id)
    if dialect == "postgresql":
        # Not by the resident index either: PostgreSQL guesses a ward's share of the rows
        # too low and ANDs that index's 100,000 entries with the few by day.
        return query.where(
            without_index(session.c.resident_id)
            == any_(func.array(ward_residents.scalar_subquery()))
        )
    return query.where(
        without_index(session.c.resident_id).in_(ward_residents)
    )  # as in_ward_between


def history(resident_id: int, page: int, per_page: int = 20):
    """A resident's sessions, newest first, with the current version of each."""
    query = (
        current_versions(include_voided=True)
        .where(CareSession.resident_id == resident_id)
        .order_by(CareSessionVersion.occurred_at.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def earlier_alike(resident_id: int, occurred_at: datetime, outcome: str, window: timedelta):
    """The latest current session of the same kind (given, declined or not done) for the resident
    within `window` either side of `occurred_at`, with who recorded it; None if there is none."""
    alike = [o.value for o in GIVEN] if outcome in GIVEN else [outcome]
    query = only_current(select(CareSessionVersion, User)).join(
        User, User.id == CareSessionVersion.created_by_id
    )
    return db.session.execute(
        query.where(
            CareSession.resident_id == resident_id,
            CareSessionVersion.outcome.in_(alike),
            CareSessionVersion.occurred_at > occurred_at - window,
            CareSessionVersion.occurred_at < occurred_at + window,
        )
        .order_by(CareSessionVersion.occurred_at.desc())
        .limit(1)
    ).first()


def keys_saved_today(user_id: int, today: date) -> list[str]:
    """Submission keys this user saved today, so the tablet can drop drafts already saved."""
    start, end = local_day_bounds(today)
    return list(
        db.session.scalars(
            select(CareSessionVersion.submission_key).where(
                CareSessionVersion.created_by_id == user_id,
                CareSessionVersion.created_at >= start,
                CareSessionVersion.created_at < end,
            )
        )
    )
