"""Charts drawn with fewer, larger shapes for the PDF.

A month's chart is a few hundred shapes (grid lines, ticks, a marker per rating, a bar per
night), and reportlab draws each one with its own graphics state: two thirds of a chart's cost.
Consecutive shapes that paint alike (same fill, outline, line width and dash) are drawn just as
well as one path of many outlines, so ``compacted`` merges them; where two merged markers
overlap, both outlines now show in full. The words, each of which reportlab would set in a text
object of its own, are set together in one, after the shapes: no word touches a shape (a test
checks it), so the picture is the same.

The on-screen SVG charts are left alone: their markers stay separate elements that a reader (or
a test) can pick out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reportlab.graphics.shapes import (
    FILL_NON_ZERO,
    Circle,
    Drawing,
    Line,
    Path,
    Polygon,
    Rect,
    Shape,
    String,
)
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.rl_config import _unset_

MERGED = (Line, Rect, Circle, Polygon)


BEZIER_CIRCLE = 0.5522847498  # the control-point distance of a quarter circle, radius 1


class CompactChart(Drawing):
    """A chart for the PDF: its shapes merged into paths, its words (title, legend, axis
    labels, about 40 a chart) set afterwards in one text object rather than one each."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__(width, height)
        self.words: list[String] = []

    def draw(self, showBoundary=_unset_) -> None:  # noqa: N803 - reportlab's own name
        super().draw(showBoundary)
        if self.words:
            _set_words(self.canv, self.words)


def compacted(drawing: Drawing) -> CompactChart:
    """Return the drawing as a CompactChart: each run of alike-painted lines, rectangles,
    circles and polygons merged into one path, and the words drawn last, together. The words
    stand clear of every shape (a test checks it), so drawing them last changes nothing."""
    chart = CompactChart(drawing.width, drawing.height)
    chart.contents = list(_merge_runs(s for s in drawing.contents if not isinstance(s, String)))
    chart.words = [s for s in drawing.contents if isinstance(s, String)]
    return chart


def _set_words(canvas, words: list[String]) -> None:
    """Every word at its place in one PDF text object, placed by its anchor as reportlab's
    renderer would."""
    text = canvas.beginText()
    font = colour = None
    for word in words:
        if (word.fontName, word.fontSize) != font:
            font = (word.fontName, word.fontSize)
            text.setFont(*font)
        if word.fillColor != colour:
            colour = word.fillColor
            text.setFillColor(colour)
        x = word.x
        if word.textAnchor in ("middle", "end"):
            width = stringWidth(word.text, word.fontName, word.fontSize)
            x -= width / 2 if word.textAnchor == "middle" else width
        text.setTextOrigin(x, word.y)
        text.textOut(word.text)
    canvas.drawText(text)


def _merge_runs(shapes: Iterable[Shape]) -> Iterator[Shape]:
    run: list[Shape] = []
    run_paint: tuple = ()
    for shape in shapes:
        paint = _paint(shape) if _mergeable(shape) else None
        if run and paint != run_paint:
            yield _as_one(run, run_paint)
            run = []
        if paint is None:
            yield shape
        else:
            run.append(shape)
            run_paint = paint
    if run:
        yield _as_one(run, run_paint)


def _mergeable(shape: Shape) -> bool:
    """A plain line, square-cornered rectangle, circle or polygon, fully opaque."""
    if not isinstance(shape, MERGED):
        return False
    if isinstance(shape, Rect) and (shape.rx or shape.ry):
        return False
    opacities = (getattr(shape, "fillOpacity", None), getattr(shape, "strokeOpacity", None))
    return all(opacity in (None, 1) for opacity in opacities)


def _paint(shape: Shape) -> tuple:
    """What decides how a shape is painted, apart from its outline."""
    fill = None if isinstance(shape, Line) else _colour(shape.fillColor)
    dash = shape.strokeDashArray
    return (
        fill,
        _colour(shape.strokeColor),
        shape.strokeWidth,
        tuple(dash) if dash else None,
        getattr(shape, "strokeLineCap", 0),
        getattr(shape, "strokeLineJoin", 0),
    )


def _colour(colour) -> tuple | None:
    return None if colour is None else tuple(colour.rgba())


def _as_one(run: list[Shape], paint: tuple) -> Shape:
    """One shape for the run: the shape itself if it is alone, else a path of every outline."""
    if len(run) == 1:
        return run[0]
    first = run[0]
    fill, stroke, width, dash, cap, join = paint
    path = Path(
        fillColor=None if fill is None else first.fillColor,
        strokeColor=None if stroke is None else first.strokeColor,
        strokeWidth=width,
        strokeDashArray=list(dash) if dash else None,
        strokeLineCap=cap,
        strokeLineJoin=join,
        autoclose="pdf",
        fillMode=FILL_NON_ZERO,
    )
    for shape in run:
        _outline(path, shape)
    return path


def _outline(path: Path, shape: Shape) -> None:
    """Add one shape's outline to the path, as a subpath of its own."""
    if isinstance(shape, Line):
        path.moveTo(shape.x1, shape.y1)
        path.lineTo(shape.x2, shape.y2)
    elif isinstance(shape, Rect):
        x, y, w, h = shape.x, shape.y, shape.width, shape.height
        path.moveTo(x, y)
        path.lineTo(x + w, y)
        path.lineTo(x + w, y + h)
        path.lineTo(x, y + h)
        path.closePath()
    elif isinstance(shape, Circle):
        _circle(path, shape.cx, shape.cy, shape.r)
    else:
        points = shape.points
        path.moveTo(points[0], points[1])
        for i in range(2, len(points), 2):
            path.lineTo(points[i], points[i + 1])
        path.closePath()


def _circle(path: Path, cx: float, cy: float, r: float) -> None:
    """A circle as four Bézier quarters, anticlockwise from its rightmost point."""
    k = BEZIER_CIRCLE * r
    path.moveTo(cx + r, cy)
    path.curveTo(cx + r, cy + k, cx + k, cy + r, cx, cy + r)
    path.curveTo(cx - k, cy + r, cx - r, cy + k, cx - r, cy)
    path.curveTo(cx - r, cy - k, cx - k, cy - r, cx, cy - r)
    path.curveTo(cx + k, cy - r, cx + r, cy - k, cx + r, cy)
    path.closePath()
