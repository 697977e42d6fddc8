"""Small charts for a page of many residents: each session's change on one scale, drawn from
reportlab.graphics shapes like the monthly charts (charts.py), small enough to show a whole ward.

A dot per session at after minus before: above the line the resident was better after the
massage than before it. The scale runs to 5 either way; a larger change is drawn on the edge.
The resident's own ratings are filled circles, an observer's hollow triangles: the two are
never joined or pooled."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String

from carelog.reports.pdf.charts import GRID, Period
from carelog.reports.pdf.styles import FONT, INK, colors

WIDTH, HEIGHT = 240, 64
LEFT, RIGHT, BOTTOM, TOP = 20, 4, 6, 6
DOT = 2.6


def _y(change: float, reach: int) -> float:
    return BOTTOM + (change + reach) / (2 * reach) * (HEIGHT - BOTTOM - TOP)


def change_strip(
    changes: Sequence[tuple[int, int, str]], period: Period, reach: int = 5
) -> Drawing:
    """(day index, after minus before, rater) of each session, on a line for "no change"."""
    d = Drawing(WIDTH, HEIGHT)
    d.add(Rect(LEFT, BOTTOM, WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM - TOP, fillColor=None,
               strokeColor=GRID, strokeWidth=0.5))  # fmt: skip
    zero = _y(0, reach)
    d.add(Line(LEFT, zero, WIDTH - RIGHT, zero, strokeColor=INK, strokeWidth=0.6))
    for text, change in ((f"+{reach}", reach), ("0", 0), (f"−{reach}", -reach)):
        d.add(String(LEFT - 4, _y(change, reach) - 2.5, text, fontName=FONT, fontSize=7,
                     textAnchor="end", fillColor=INK))  # fmt: skip
    span = WIDTH - LEFT - RIGHT
    for place, change, rater in changes:
        x = LEFT + (place - 0.5) / period.days * span
        y = _y(max(-reach, min(reach, change)), reach)
        if rater == "observer":
            r = DOT * 1.2
            d.add(Polygon([x - r, y - r * 0.8, x + r, y - r * 0.8, x, y + r],
                          fillColor=colors.white, strokeColor=INK, strokeWidth=0.7))  # fmt: skip
        else:
            d.add(Circle(x, y, DOT, fillColor=INK, strokeColor=INK, strokeWidth=0.4))
    return d
