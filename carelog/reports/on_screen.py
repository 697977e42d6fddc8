"""A resident's charts on screen: the monthly PDF's own drawings over the last 1, 3, 6 or 12
months, as inline SVG, with the resident's and an observer's ratings summarised apart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from markupsafe import Markup

from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import current_versions
from carelog.care.vocabulary import MOOD, RELAXATION, Scale
from carelog.extensions import db
from carelog.local_time import month_bounds
from carelog.reports.document import SessionRow, SleepNight
from carelog.reports.pdf.charts import mood_chart, relaxation_chart, sleep_chart
from carelog.reports.rows import session_row, sleep_nights
from carelog.reports.span import Span
from carelog.reports.stats import ByRater, SleepComparison, paired_by_rater, sleep_comparison
from carelog.residents.models import Resident
from carelog.web.svg import inline_svg

CHART_WIDTH = 520  # points; the SVG scales to its box, so a narrower drawing reads larger


@dataclass(frozen=True, slots=True)
class ScaleChart:
    """One scale's chart and its figures, the resident's and an observer's apart."""

    scale: Scale
    svg: Markup
    figures: ByRater


@dataclass(frozen=True, slots=True)
class ResidentCharts:
    months: int
    span: Span
    given: int
    scales: tuple[ScaleChart, ...]
    sleep_svg: Markup
    sleep: SleepComparison


def _sessions(resident: Resident, span: Span):
    start, end = month_bounds(span)
    return db.session.execute(
        current_versions(CareSession)
        .where(
            CareSession.resident_id == resident.id,
            CareSessionVersion.occurred_at >= start,
            CareSessionVersion.occurred_at < end,
        )
        .order_by(CareSessionVersion.occurred_at)
    ).all()


# Charts are remembered under everything they show: drawing a year of points costs far more
# than comparing them, and the points of days gone by do not change.


@lru_cache(maxsize=256)
def _scale_drawn(key: str, sessions: tuple[SessionRow, ...], span: Span) -> Markup:
    draw = relaxation_chart if key == RELAXATION.key else mood_chart
    return inline_svg(draw(sessions, span, CHART_WIDTH), f"{key.capitalize()}, {span.label}")


@lru_cache(maxsize=128)
def _sleep_drawn(nights: tuple[SleepNight, ...], span: Span) -> Markup:
    return inline_svg(sleep_chart(nights, span, CHART_WIDTH), f"Sleep, {span.label}")


def resident_charts(resident: Resident, months: int, today: date) -> ResidentCharts:
    """Relaxation, mood and sleep over the `months` months to today."""
    span = Span.months_to(months, today)
    rows = _sessions(resident, span)
    sessions = tuple(session_row(version, "", False, {}) for version, _ in rows)
    given = [s for s in sessions if s.given]
    nights = sleep_nights(resident, span, rows, until=today)
    scales = tuple(
        ScaleChart(
            scale,
            _scale_drawn(scale.key, sessions, span),
            paired_by_rater(
                (getattr(s, f"{scale.key}_before"), getattr(s, f"{scale.key}_after")) for s in given
            ),
        )
        for scale in (RELAXATION, MOOD)
    )
    return ResidentCharts(
        months,
        span,
        len(given),
        scales,
        _sleep_drawn(nights, span),
        sleep_comparison((n.value, n.massage_that_day) for n in nights),
    )
