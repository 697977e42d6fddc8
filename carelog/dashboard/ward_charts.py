"""A ward's residents side by side: each one's change in relaxation at every massage of the last
four weeks as a small chart, with the median change and how many sessions improved relaxation
and mood, the resident's own ratings and an observer's apart.

Two queries whatever the ward's size: its residents, and the ratings of its given sessions.
Each resident's panel (chart, figures and HTML) is remembered under everything it shows: the
resident's name and room, the ratings, the span and the link. A changed value is a different
key, so nothing can be stale; after a nurse saves a session, that resident's panel alone is
drawn again."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask import get_template_attribute, url_for
from markupsafe import Markup
from sqlalchemy import DateTime, select, type_coerce
from sqlalchemy.orm import load_only

from carelog.care.models import CareSessionVersion as Version
from carelog.care.queries import (
    current_between,
    current_dialect,
    of_ward,
    on_the_board,
    session_lookup,
)
from carelog.care.vocabulary import GIVEN
from carelog.extensions import db
from carelog.local_time import local, local_day_bounds
from carelog.reports.document import Rating
from carelog.reports.pdf.small_charts import change_strip
from carelog.reports.span import Span
from carelog.reports.stats import ByRater, paired_by_rater
from carelog.residents.models import Resident
from carelog.web.svg import inline_svg

DAYS = 28
RATED = (
    Version.relaxation_before_value, Version.relaxation_before_rater,
    Version.relaxation_after_value, Version.relaxation_after_rater,
    Version.mood_before_value, Version.mood_before_rater,
    Version.mood_after_value, Version.mood_after_rater,
)  # fmt: skip
SHOWN = (Resident.given_name, Resident.family_name, Resident.preferred_name, Resident.room)
LINK_PLACEHOLDER = 987654321  # in the link pattern, where each panel puts its resident's id


@dataclass(frozen=True, slots=True)
class Figures:
    """What a resident's panel shows, worked out from the ratings alone."""

    svg: Markup
    given: int
    relaxation: ByRater
    mood: ByRater


def _ratings_by_resident(ward_id: int, span: Span) -> dict[int, tuple[tuple, ...]]:
    """Per resident, (when, the eight rating columns) of each massage given in the span."""
    dialect = current_dialect()
    session = session_lookup(dialect)
    start, _ = local_day_bounds(span.first_day)
    _, end = local_day_bounds(span.last_day)
    # The stored UTC time as the plain type: the app's aware conversion would cost more than
    # the rest of the row, and `local` reads a plain time as UTC.
    when = type_coerce(Version.occurred_at, DateTime())
    query = current_between(session, start, end, session.c.resident_id, when, *RATED).where(
        Version.outcome.in_([o.value for o in GIVEN])
    )
    found: defaultdict[int, list[tuple]] = defaultdict(list)
    for resident_id, *row in db.session.execute(of_ward(query, session, ward_id, dialect)):
        found[resident_id].append(tuple(row))
    return {
        resident_id: tuple(sorted(rows, key=lambda row: row[0]))
        for resident_id, rows in found.items()
    }


def _rating(value: int | None, rater: str | None) -> Rating:
    return Rating(value=value, rater="observer" if rater == "observer" else "self")


def figures(rows: tuple[tuple, ...], span: Span) -> Figures:
    """The small chart and the figures of one resident's massages (rows as the query gives)."""
    relaxation, mood, changes = [], [], []
    for occurred_at, *columns in rows:
        rb, ra, mb, ma = (_rating(*columns[i : i + 2]) for i in range(0, 8, 2))
        relaxation.append((rb, ra))
        mood.append((mb, ma))
        place = span.index(local(occurred_at).date())
        both = rb.value is not None and ra.value is not None
        if place is not None and both and rb.rater == ra.rater:
            changes.append((place, ra.value - rb.value, ra.rater))  # type: ignore[operator]
    svg = inline_svg(change_strip(changes, span), f"Change in relaxation, {span.label}")
    return Figures(svg, len(rows), paired_by_rater(relaxation), paired_by_rater(mood))


@lru_cache(maxsize=2048)
def panel(shown: tuple, rows: tuple[tuple, ...], span: Span, link: str) -> Markup:
    """One resident's panel as HTML; `shown` is (id, display name, room)."""
    draw = get_template_attribute("dashboard/_ward_panel.html", "ward_panel")
    resident_id, name, room = shown
    return draw(link.replace(str(LINK_PLACEHOLDER), str(resident_id)), name, room,
                figures(rows, span))  # fmt: skip


def ward_panels(ward_id: int, today: date) -> tuple[Span, Markup]:
    """The four weeks to today, and a panel for each resident on the ward's board today."""
    span = Span(today - timedelta(days=DAYS - 1), today)
    people = db.session.scalars(
        select(Resident)
        .options(load_only(*SHOWN, raiseload=True))
        .where(Resident.ward_id == ward_id, on_the_board(today))
        .order_by(Resident.room, Resident.family_name)
    ).all()
    rows = _ratings_by_resident(ward_id, span)
    link = url_for("residents.show", resident_id=LINK_PLACEHOLDER, months=1)
    return span, Markup("").join(
        panel((p.id, p.display_name, p.room), rows.get(p.id, ()), span, link) for p in people
    )
