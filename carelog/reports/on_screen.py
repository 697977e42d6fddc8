"""A resident's charts on screen: the monthly PDF's own drawings over the last 1, 3, 6 or 12
months, as inline SVG, with the resident's and an observer's ratings summarised apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from markupsafe import Markup
from reportlab.graphics.shapes import Drawing

from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import current_versions
from carelog.care.vocabulary import MOOD, RELAXATION, Scale
from carelog.extensions import db
from carelog.local_time import local_day_bounds
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
    start, _ = local_day_bounds(span.first_day)
    _, end = local_day_bounds(span.last_day)
    return db.session.execute(
        current_versions(CareSession)
        .where(
            CareSession.resident_id == resident.id,
            CareSessionVersion.occurred_at >= start,
            CareSessionVersion.occurred_at < end,
        )
        .order_by(CareSessionVersion.occurred_at)
    ).all()


@lru_cache(maxsize=256)
def _drawn(kind: str, rows: tuple[SessionRow, ...] | tuple[SleepNight, ...], span: Span) -> Markup:
    """A chart as SVG, remembered under everything it shows: drawing a year of points costs
    far more than comparing them, and a past day's points do not change."""
    draw: Callable[..., Drawing] = {
        "relaxation": relaxation_chart,
        "mood": mood_chart,
        "sleep": sleep_chart,
    }[kind]
    drawing = draw(rows, span, CHART_WIDTH)
    return inline_svg(drawing, f"{kind.capitalize()}, {span.label}")


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
            _drawn(scale.key, sessions, span),
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
        _drawn("sleep", nights, span),
        sleep_comparison((n.value, n.massage_that_day) for n in nights),
    )
