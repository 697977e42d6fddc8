"""The optional last page of a resident's monthly report: the 12 months to the report's month.

A bar per month of sessions planned (white) and given (dark), then the same table as on screen
(reports/_trends.html): given against planned, the median change in relaxation and mood with
the share improved, the resident's own ratings and an observer's apart, and the times of day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from carelog.reports.pdf import formatting as fmt
from carelog.reports.pdf import styles as st
from carelog.reports.pdf.charts import GRID, WHITE
from carelog.reports.pdf.paragraph import Paragraph
from carelog.reports.pdf.tables import grid
from carelog.reports.stats import PairedSummary
from carelog.reports.trends import TIMES_OF_DAY, MonthTrend

CHART_HEIGHT = 120
_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
LEFT, BOTTOM, TOP = 28, 22, 16


def _given_chart(trends: Sequence[MonthTrend], width: float) -> Drawing:
    """Planned (white) and given (dark) sessions in each month, side by side."""
    d = Drawing(width, CHART_HEIGHT)
    highest = max([t.planned for t in trends] + [t.given for t in trends] + [1])
    step = next(s for s in _STEPS if highest / s <= 5)
    top = step * math.ceil(highest / step)
    plot_height = CHART_HEIGHT - BOTTOM - TOP
    slot = (width - LEFT) / len(trends)

    def y(value: float) -> float:
        return BOTTOM + value / top * plot_height

    for value in range(0, top + 1, step):
        d.add(Line(LEFT, y(value), width, y(value), strokeColor=GRID, strokeWidth=0.4))
        d.add(String(LEFT - 4, y(value) - 2.5, str(value), fontName=st.FONT, fontSize=7,
                     textAnchor="end", fillColor=st.INK))  # fmt: skip
    for i, t in enumerate(trends):
        x = LEFT + i * slot + slot * 0.15
        bar = slot * 0.34
        for offset, value, fill in ((0, t.planned, WHITE), (bar, t.given, st.MASSAGE_FILL)):
            d.add(Rect(x + offset, BOTTOM, bar, max(y(value) - BOTTOM, 0.8), fillColor=fill,
                       strokeColor=st.INK, strokeWidth=0.6))  # fmt: skip
        label = t.month.label.split()[0][:3]
        d.add(String(x + bar, BOTTOM - 10, label, fontName=st.FONT, fontSize=7,
                     textAnchor="middle", fillColor=st.INK))  # fmt: skip
    d.add(String(LEFT, CHART_HEIGHT - 10, "Sessions planned (white) and given (dark) each month",
                 fontName=st.FONT_BOLD, fontSize=9, fillColor=st.INK))  # fmt: skip
    return d


def _change(s: PairedSummary) -> str:
    if not s.n_pairs:
        return "–"
    return f"{fmt.signed(s.median_change)} ({round(100 * s.improved / s.n_pairs)} %)"


def trend_page(trends: Sequence[MonthTrend], width: float) -> list[Flowable]:
    """A new page: the chart, the table, and what the figures mean."""
    header = [
        "Month", "Planned", "Given",
        "Relaxation, resident", "Relaxation, observer", "Mood, resident", "Mood, observer",
        " / ".join(name.lower() for name, _, _ in TIMES_OF_DAY).capitalize(),
    ]  # fmt: skip
    rows = [header]
    for t in trends:
        month = t.month.label + (f" (to {fmt.day(t.figures_to)})" if t.figures_to else "")
        share = f" ({t.given_share} %)" if t.given_share is not None else ""
        rows.append(
            [month, str(t.planned), f"{t.given}{share}",
             _change(t.relaxation.self_rated), _change(t.relaxation.observer),
             _change(t.mood.self_rated), _change(t.mood.observer),
             " / ".join(str(n) for n in t.times_of_day)]
        )  # fmt: skip
    fixed = [78, 40, 52] + [58] * 4
    hours = "; ".join(f"{name.lower()} {span}" for name, span, _ in TIMES_OF_DAY)
    return [
        PageBreak(),
        Paragraph(f"The 12 months to {trends[-1].month.label}", st.H2),
        Spacer(0, 4),
        _given_chart(trends, width),
        Spacer(0, 8),
        grid(rows, [*fixed, width - sum(fixed)], zebra=True),
        KeepTogether(
            [
                Spacer(0, 6),
                Paragraph(
                    "Planned follows this report's rule, month by month. For relaxation and mood: "
                    "the median change (after minus before) over the sessions where both were "
                    "rated by the same person, and in brackets the share of those sessions rated "
                    "better after the massage; the resident's own ratings and an observer's are "
                    f"never pooled. Massages given by time of day: {hours}.",
                    st.GUIDE,
                ),
            ]
        ),  # fmt: skip
    ]
