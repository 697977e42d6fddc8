"""The ratings of massages given, as plain rows: for charts and trends over many residents.

Columns only, no objects: a ward's year is some 50,000 rows. Each row is (when, then the value
and rater of relaxation before, relaxation after, mood before, mood after); `rated_pairs` reads
them back as Ratings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import DateTime, type_coerce

from carelog.care.models import CareSessionVersion as Version
from carelog.care.queries import current_between, current_dialect, of_ward, session_lookup
from carelog.care.vocabulary import GIVEN
from carelog.extensions import db
from carelog.reports.document import Rating

RATED = (
    Version.relaxation_before_value, Version.relaxation_before_rater,
    Version.relaxation_after_value, Version.relaxation_after_rater,
    Version.mood_before_value, Version.mood_before_rater,
    Version.mood_after_value, Version.mood_after_rater,
)  # fmt: skip


def given_ratings(
    start: datetime, end: datetime, *, ward_id: int | None = None, resident_id: int | None = None
) -> dict[int, tuple[tuple, ...]]:
    """Per resident (of a ward, or one resident), the massages given between two instants,
    oldest first."""
    dialect = current_dialect()
    session = session_lookup(dialect)
    # The stored UTC time as the plain type: the app's aware conversion would cost more than
    # the rest of the row, and `local` reads a plain time as UTC.
    when = type_coerce(Version.occurred_at, DateTime())
    query = current_between(session, start, end, session.c.resident_id, when, *RATED).where(
        Version.outcome.in_([o.value for o in GIVEN])
    )
    if ward_id is not None:
        query = of_ward(query, session, ward_id, dialect)
    if resident_id is not None:
        query = query.where(session.c.resident_id == resident_id)
    found: defaultdict[int, list[tuple]] = defaultdict(list)
    for resident, *row in db.session.execute(query):
        found[resident].append(tuple(row))
    return {resident: tuple(sorted(rows, key=lambda r: r[0])) for resident, rows in found.items()}


def _rating(value: int | None, rater: str | None) -> Rating:
    return Rating(value=value, rater="observer" if rater == "observer" else "self")


def rated_pairs(row: tuple) -> tuple[tuple[Rating, Rating], tuple[Rating, Rating]]:
    """(relaxation before and after, mood before and after) of a row."""
    _, rb, rbr, ra, rar, mb, mbr, ma, mar = row
    return (_rating(rb, rbr), _rating(ra, rar)), (_rating(mb, mbr), _rating(ma, mar))
