"""Monthly charts drawn with reportlab.graphics so they read in black and white."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker

from carelog.report_model import (
    MOOD,
    MOOD_WORDS,
    RELAXATION,
    ReportMonth,
    Scale,
    SessionRow,
    SleepNight,
)
from carelog.report_styles import FONT, FONT_BOLD, INK, MASSAGE_FILL, RULE, colors

HEIGHT = 132
LEFT = 84
RIGHT = 6
BOTTOM = 30
TOP = 24
TICK_FONT = 7
WHITE = colors.white
GRID = colors.Color(0.8, 0.8, 0.8)


def _frame(width: float, title: str, month: ReportMonth, x_title: str) -> Drawing:
    """Return a drawing with the chart title and the x-axis title placed."""
    d = Drawing(width, HEIGHT)
    d.add(String(0, HEIGHT - 11, title, fontName=FONT_BOLD, fontSize=9, fillColor=INK))
    d.add(
        String(
            LEFT + (width - LEFT - RIGHT) / 2,
            2,
            f"{x_title} {month.label}",
            fontName=FONT,
            fontSize=TICK_FONT,
            textAnchor="middle",
            fillColor=INK,
        )
    )
    return d


def _legend(d: Drawing, items: Sequence[tuple[Callable[[float, float], None], str]]) -> None:
    """Draw legend entries right-aligned on the title line; each draws its own sample."""
    x = d.width - RIGHT
    y = HEIGHT - 10
    for draw_sample, text in reversed(items):
        x -= len(text) * 3.9
        d.add(String(x, y - 2.5, text, fontName=FONT, fontSize=7.5, fillColor=INK))
        x -= 26
        draw_sample(x, y)
        x -= 14


def _marker(kind: str, size: float, fill: colors.Color):
    """Return a black-outlined marker of the given kind and fill."""
    m = makeMarker(kind, size=size)
    m.fillColor = fill
    m.strokeColor = INK
    m.strokeWidth = 0.8
    return m


def _line_sample(dash: tuple[float, float] | None, kind: str, size: float, fill: colors.Color):
    """Return a legend sampler drawing a short line with a marker in the middle."""

    def draw(d: Drawing, x: float, y: float) -> None:
        d.add(Line(x, y, x + 22, y, strokeColor=INK, strokeWidth=0.8, strokeDashArray=dash))
        m = _marker(kind, size, fill)
        m.x, m.y = x + 11, y
        d.add(m)

    return draw


def _axes(plot: LinePlot | VerticalBarChart, width: float) -> None:
    """Place the plot area and style its value axis like the other charts."""
    plot.x, plot.y = LEFT, BOTTOM
    plot.width, plot.height = width - LEFT - RIGHT, HEIGHT - BOTTOM - TOP
    axis = plot.yValueAxis if isinstance(plot, LinePlot) else plot.valueAxis
    axis.labels.fontName = FONT
    axis.labels.fontSize = TICK_FONT
    axis.visibleGrid = True
    axis.gridStrokeColor = GRID
    axis.gridStrokeWidth = 0.4
    axis.strokeColor = INK


def _day_position(start_day: int, hour: int, minute: int) -> float:
    """Place a session within its day's slot by time of day (morning left, evening right)."""
    return start_day + ((hour + minute / 60) - 12) / 24 * 0.8


def before_after_chart(
    sessions: Sequence[SessionRow],
    month: ReportMonth,
    scale: Scale,
    width: float,
    tick_label: Callable[[float], str],
) -> Drawing:
    """Return a chart of one scale before and after each counted session across the month."""
    title = f"{scale.title} before and after each session (higher is better)"
    d = _frame(width, title, month, "Day of")
    points: dict[str, list[tuple[float, int]]] = {"before": [], "after": []}
    for s in sessions:
        if s.voided or not s.given:
            continue
        x = _day_position(s.start.day, s.start.hour, s.start.minute)
        for side in points:
            value = getattr(s, f"{scale.key}_{side}").value
            if value is not None:
                points[side].append((x, value))
    plot = LinePlot()
    _axes(plot, width)
    series = [(side, pts) for side, pts in points.items() if pts]
    plot.data = [pts for _, pts in series] or [[(1, scale.low)]]
    for i, (side, _) in enumerate(series):
        before = side == "before"
        plot.lines[i].strokeColor = INK
        plot.lines[i].strokeWidth = 0.6 if before else 0.9
        plot.lines[i].strokeDashArray = (2.5, 2) if before else None
        plot.lines[i].symbol = _marker(*(("Circle", 6.5, WHITE) if before else ("Square", 4, INK)))
    if not series:
        plot.lines[0].strokeColor = None
    xa = plot.xValueAxis
    xa.valueMin, xa.valueMax = 0.5, month.days + 0.5
    xa.valueSteps = list(range(1, month.days + 1))
    xa.labels.fontName, xa.labels.fontSize = FONT, TICK_FONT
    xa.labelTextFormat = "%d"
    ya = plot.yValueAxis
    ya.valueMin, ya.valueMax = scale.low, scale.high
    ya.valueSteps = list(range(scale.low, scale.high + 1))
    ya.labelTextFormat = tick_label
    d.add(plot)
    _legend(
        d,
        [
            (lambda x, y: _line_sample((2.5, 2), "Circle", 6.5, WHITE)(d, x, y), "before"),
            (lambda x, y: _line_sample(None, "Square", 4, INK)(d, x, y), "after"),
        ],
    )
    return d


def relaxation_chart(sessions: Sequence[SessionRow], month: ReportMonth, width: float) -> Drawing:
    """Return relaxation (0-10) before and after each session, anchors written on the axis."""

    def label(v: float) -> str:
        v = int(v)
        words = {RELAXATION.low: RELAXATION.low_word, RELAXATION.high: RELAXATION.high_word}
        return f"{words[v]}  {v}" if v in words else (str(v) if v % 2 == 0 else "")

    return before_after_chart(sessions, month, RELAXATION, width, label)


def mood_chart(sessions: Sequence[SessionRow], month: ReportMonth, width: float) -> Drawing:
    """Return mood (1-5) before and after each session, every level labelled with its word."""

    def label(v: float) -> str:
        return f"{MOOD_WORDS[int(v) - 1]}  {int(v)}"

    return before_after_chart(sessions, month, MOOD, width, label)


def sleep_chart(nights: Sequence[SleepNight], month: ReportMonth, width: float) -> Drawing:
    """Return sleep by night as bars: black after a massage day, white on other nights."""
    d = _frame(
        width, "Sleep each night (0 = very badly, 10 = very well)", month, "Night beginning on"
    )
    by_day = {n.night_of.day: n for n in nights if n.night_of.month == month.month}
    chart = VerticalBarChart()
    _axes(chart, width)
    chart.data = [
        [by_day[day].value if day in by_day else None for day in range(1, month.days + 1)]
    ]
    chart.categoryAxis.categoryNames = [str(day) for day in range(1, month.days + 1)]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = TICK_FONT
    chart.categoryAxis.strokeColor = INK
    chart.barSpacing = 0
    chart.groupSpacing = 2.5
    chart.bars.strokeColor = INK
    chart.bars.strokeWidth = 0.6
    chart.bars[0].fillColor = WHITE
    for i in range(month.days):
        night = by_day.get(i + 1)
        if night is not None and night.massage_that_day:
            chart.bars[(0, i)].fillColor = MASSAGE_FILL
    va = chart.valueAxis
    va.valueMin, va.valueMax = 0, 10
    va.valueSteps = list(range(0, 11))
    va.labelTextFormat = lambda v: {0: "very badly  0", 10: "very well  10"}.get(
        int(v), str(int(v)) if int(v) % 2 == 0 else ""
    )
    d.add(chart)

    def swatch(fill: colors.Color) -> Callable[[float, float], None]:
        return lambda x, y: d.add(
            Rect(x + 6, y - 4, 10, 8, fillColor=fill, strokeColor=INK, strokeWidth=0.6)
        )

    _legend(d, [(swatch(MASSAGE_FILL), "after a massage day"), (swatch(WHITE), "other night")])
    return d


__all__ = ["mood_chart", "relaxation_chart", "sleep_chart", "RULE"]
