"""A ward's residents side by side: each one's change in relaxation at every massage of the last
four weeks as a small chart, with the median change and how many sessions improved relaxation
and mood, the resident's own ratings and an observer's apart.

Two queries whatever the ward's size: its residents, and the ratings of its given sessions.
Each resident's panel (chart, figures and HTML) is remembered under everything it shows: the
resident's name and room, the ratings, the span and the link. A changed value is a different
key, so nothing can be stale; after a nurse saves a session, that resident's panel alone is
drawn again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask import get_template_attribute, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import load_only

from carelog.care.queries import on_the_board
from carelog.extensions import db
from carelog.local_time import local, month_bounds
from carelog.reports.given_ratings import given_ratings, rated_pairs
from carelog.reports.pdf.small_charts import change_strip
from carelog.reports.span import Span
from carelog.reports.stats import ByRater, paired_by_rater
from carelog.residents.models import Resident
from carelog.web.svg import inline_svg

DAYS = 28
SHOWN = (Resident.given_name, Resident.family_name, Resident.preferred_name, Resident.room)
LINK_PLACEHOLDER = 987654321  # in the link pattern, where each panel puts its resident's id


@dataclass(frozen=True, slots=True)
class Figures:
    """What a resident's panel shows, worked out from the ratings alone."""

    svg: Markup
    given: int
    relaxation: ByRater
    mood: ByRater


def figures(rows: tuple[tuple, ...], span: Span) -> Figures:
    """The small chart and the figures of one resident's massages (rows as the query gives)."""
    relaxation, mood, changes = [], [], []
    for row in rows:
        (rb, ra), mood_pair = rated_pairs(row)
        relaxation.append((rb, ra))
        mood.append(mood_pair)
        place = span.index(local(row[0]).date())
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
    rows = given_ratings(*month_bounds(span), ward_id=ward_id)
    link = url_for("residents.show", resident_id=LINK_PLACEHOLDER, months=1)
    return span, Markup("").join(
        panel((p.id, p.display_name, p.room), rows.get(p.id, ()), span, link) for p in people
    )
