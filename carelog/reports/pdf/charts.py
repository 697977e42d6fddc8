"""Charts of a month (in the PDF) or of a span of months (on screen, as SVG), drawn from
reportlab.graphics shapes so that they read in black and white.

Built from plain shapes rather than the chart widgets: a third of the cost, and every label
placed where a reader expects it. Ratings given by the resident and by an observer are drawn
as separate series with their own markers, never joined into one line."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from carelog.care.vocabulary import MOOD, MOOD_WORDS, RELAXATION, SLEEP, Scale
from carelog.reports.document import SessionRow, SleepNight
from carelog.reports.pdf.styles import FONT, FONT_BOLD, INK, MASSAGE_FILL, colors

HEIGHT = 142


LEFT = 84


RIGHT = 6


BOTTOM = 30


TOP = 34  # the title, and under it the legend


TICK_FONT = 7


WHITE = colors.white


GRID = colors.Color(0.78, 0.78, 0.78)


BEFORE_DASH = (2.5, 2)


CIRCLE_R = 3.2


SQUARE = 4.2


OBSERVER_DASH = (0.8, 1.6)


Sample = Callable[[Drawing, float, float], None]


class Period(Protocol):
    """The days a chart spans: a report's Month, or a Span of months on screen."""

    @property
    def days(self) -> int: ...

    def index(self, day: date) -> int | None: ...

    def ticks(self) -> list[tuple[int, str]]: ...

    def caption(self, x_title: str) -> str: ...


@dataclass(frozen=True, slots=True)
class _Area:
    """The plot rectangle of a chart and its mapping from (day, value) to points."""

    width: float
    days: int
    low: int
    high: int

    @property
    def marker(self) -> float:
        """How large markers are drawn: full size for a month, smaller as the days crowd."""
        return max(0.45, min(1.0, math.sqrt(31 / self.days)))

    def x(self, day: float) -> float:
        """Return the x of a day position; day d is centred in its slot."""
        return LEFT + (day - 0.5) / self.days * (self.width - LEFT - RIGHT)

    def y(self, value: float) -> float:
        """Return the y of a value on the scale."""
        return BOTTOM + (value - self.low) / (self.high - self.low) * (HEIGHT - BOTTOM - TOP)


def _text(
    x: float,
    y: float,
    text: str,
    size: float = TICK_FONT,
    anchor: str = "start",
    bold: bool = False,
) -> String:
    """Return a black string in the report font."""
    font = FONT_BOLD if bold else FONT
    return String(x, y, text, fontName=font, fontSize=size, textAnchor=anchor, fillColor=INK)


def _axes(title: str, x_title: str, period: Period, area: _Area, ticks: dict[int, str]) -> Drawing:
    """Return a drawing with title, value grid and labels, and the day axis."""
    d = Drawing(area.width, HEIGHT)
    x0, x1 = area.x(0.5), area.x(area.days + 0.5)
    base = area.y(area.low)
    # Lines first, then words: lines painted alike sit together, which the PDF draws as one.
    for value in range(area.low + 1, area.high + 1):
        d.add(Line(x0, area.y(value), x1, area.y(value), strokeColor=GRID, strokeWidth=0.4))
    d.add(Line(x0, base, x1, base, strokeColor=INK, strokeWidth=0.4))
    for value in ticks:
        d.add(Line(x0 - 3, area.y(value), x0, area.y(value), strokeColor=INK, strokeWidth=0.5))
    days = period.ticks()
    for day, _ in days:
        d.add(Line(area.x(day), base, area.x(day), base - 2.5, strokeColor=INK, strokeWidth=0.5))
    d.add(Line(x0, base, x0, area.y(area.high), strokeColor=INK, strokeWidth=0.6))
    d.add(_text(0, HEIGHT - 11, title, 9, bold=True))
    for value, label in ticks.items():
        d.add(_text(x0 - 5, area.y(value) - 2.4, label, anchor="end"))
    for day, label in days:
        d.add(_text(area.x(day), base - 10, label, anchor="middle"))
    d.add(_text((x0 + x1) / 2, 2, period.caption(x_title), anchor="middle"))
    return d


def _legend(d: Drawing, items: Sequence[tuple[Sample, str]]) -> None:
    """Draw legend entries right-aligned on a line of their own under the title (on the title
    line a long title ran into them), each with its own sample."""
    x = d.width - RIGHT
    y = HEIGHT - 22
    for draw_sample, text in reversed(items):
        x -= stringWidth(text, FONT, 7.5)
        d.add(_text(x, y - 2.5, text, 7.5))
        x -= 26
        draw_sample(d, x, y)
        x -= 14


def _circle(size: float = 1.0) -> Sample:
    """The resident's "before" marker: a hollow circle."""
    return lambda d, x, y: d.add(
        Circle(x, y, CIRCLE_R * size, fillColor=WHITE, strokeColor=INK, strokeWidth=0.8)
    )


def _square(size: float = 1.0) -> Sample:
    """The resident's "after" marker: a filled square, smaller than the circle so both show."""
    side = SQUARE * size
    return lambda d, x, y: d.add(
        Rect(
            x - side / 2, y - side / 2, side, side, fillColor=INK, strokeColor=INK, strokeWidth=0.5
        )
    )


def _triangle(fill: colors.Color, size: float = 1.0) -> Sample:
    """An observer's marker: a triangle, hollow before and filled after."""
    r = CIRCLE_R * 1.15 * size
    return lambda d, x, y: d.add(
        Polygon(
            [x - r, y - r * 0.8, x + r, y - r * 0.8, x, y + r],
            fillColor=fill,
            strokeColor=INK,
            strokeWidth=0.7,
        )
    )


def _series(d: Drawing, pts: list[tuple[float, float]], dash, width: float, mark: Sample) -> None:
    """Draw a series as a line joining its points in time order, then its markers."""
    if len(pts) > 1:
        flat = [c for pt in pts for c in pt]
        d.add(PolyLine(flat, strokeColor=INK, strokeWidth=width, strokeDashArray=dash))
    for x, y in pts:
        mark(d, x, y)


def _line_sample(dash, mark: Sample) -> Sample:
    """Return a legend sample: a short line with the series marker in the middle."""

    def draw(d: Drawing, x: float, y: float) -> None:
        d.add(Line(x, y, x + 22, y, strokeColor=INK, strokeWidth=0.8, strokeDashArray=dash))
        mark(d, x + 11, y)

    return draw


def _series_styles(size: float) -> dict[tuple[str, str], tuple]:
    """(rater, side) -> (dash, line width, marker, legend words) of each series."""
    return {
        ("self", "before"): (BEFORE_DASH, 0.6, _circle(size), "before"),
        ("self", "after"): (None, 0.9, _square(size), "after"),
        ("observer", "before"): (OBSERVER_DASH, 0.5, _triangle(WHITE, size), "before, observer"),
        ("observer", "after"): (OBSERVER_DASH, 0.5, _triangle(INK, size), "after, observer"),
    }


def before_after_chart(
    sessions: Sequence[SessionRow],
    period: Period,
    scale: Scale,
    width: float,
    ticks: dict[int, str],
) -> Drawing:
    """Return one scale before (circles, dashed) and after (squares, solid) each session; an
    observer's ratings as triangles joined by a dotted line of their own."""
    area = _Area(width, period.days, scale.low, scale.high)
    title = f"{scale.title} before and after each session (higher is better)"
    d = _axes(title, "Day of", period, area, ticks)
    points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for s in sessions:
        place = period.index(s.start.date())
        if s.voided or not s.given or place is None:
            continue
        hours = s.start.hour + s.start.minute / 60
        x = area.x(place + (hours - 12) / 24 * 0.8)
        for side in ("before", "after"):
            rating = getattr(s, f"{scale.key}_{side}")
            if rating.value is not None:
                points.setdefault((rating.rater, side), []).append((x, area.y(rating.value)))
    styles = _series_styles(area.marker)
    legend = []
    for key, (dash, line_width, mark, words) in styles.items():
        if key in points:
            _series(d, points[key], dash, line_width, mark)
        if key in points or key[0] == "self":
            legend.append((_line_sample(dash, mark), words))
    _legend(d, legend)
    return d


def relaxation_chart(sessions: Sequence[SessionRow], period: Period, width: float) -> Drawing:
    """Return relaxation (0-10) before and after each session, anchors written on the axis."""
    ticks = {v: str(v) for v in range(2, 10, 2)}
    ticks |= {0: f"{RELAXATION.low_word}  0", 10: f"{RELAXATION.high_word}  10"}
    return before_after_chart(sessions, period, RELAXATION, width, ticks)


def mood_chart(sessions: Sequence[SessionRow], period: Period, width: float) -> Drawing:
    """Return mood (1-5) before and after each session, every level labelled with its word."""
    ticks = {i: f"{word}  {i}" for i, word in enumerate(MOOD_WORDS, start=1)}
    return before_after_chart(sessions, period, MOOD, width, ticks)


def sleep_chart(nights: Sequence[SleepNight], period: Period, width: float) -> Drawing:
    """Return sleep by night as bars: dark after a massage day, white on other nights."""
    area = _Area(width, period.days, SLEEP.low, SLEEP.high)
    ticks = {v: str(v) for v in range(2, 10, 2)}
    ticks |= {0: f"{SLEEP.low_word}  0", 10: f"{SLEEP.high_word}  10"}
    title = "Sleep each night (0 = very badly, 10 = very well)"
    d = _axes(title, "Night beginning on the given day of", period, area, ticks)
    slot = area.x(2) - area.x(1)
    base = area.y(0)
    for n in nights:
        place = period.index(n.night_of)
        if n.value is None or place is None:
            continue
        fill = MASSAGE_FILL if n.massage_that_day else WHITE
        x = area.x(place) - slot * 0.36
        d.add(
            Rect(
                x,
                base,
                slot * 0.72,
                max(area.y(n.value) - base, 1.2),
                fillColor=fill,
                strokeColor=INK,
                strokeWidth=0.6,
            )
        )

    def swatch(fill: colors.Color) -> Sample:
        return lambda d, x, y: d.add(
            Rect(x + 6, y - 4, 10, 8, fillColor=fill, strokeColor=INK, strokeWidth=0.6)
        )

    _legend(d, [(swatch(MASSAGE_FILL), "after a massage day"), (swatch(WHITE), "other night")])
    return d
