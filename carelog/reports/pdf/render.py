"""Render monthly resident reports and ward batches to PDF bytes (no Flask, no database)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from io import BytesIO

from reportlab.platypus import Flowable, KeepTogether, PageBreak, SimpleDocTemplate, Spacer

from carelog.reports.document import BatchReport, PageSize, ResidentReport
from carelog.reports.pdf import formatting as fmt
from carelog.reports.pdf import styles as st
from carelog.reports.pdf.appendix import corrections, observations, reading_guide
from carelog.reports.pdf.header import header
from carelog.reports.pdf.page import FurnishedCanvas, footer_lines
from carelog.reports.pdf.sections import charts, session_table, summary
from carelog.reports.pdf.tables import grid, p
from carelog.reports.pdf.trend_page import trend_page
from carelog.reports.summary import summarise
from carelog.reports.trends import MonthTrend


class RunningHead(Flowable):
    """A zero-size marker that sets the running head for this page and those after it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.width = self.height = 0

    def draw(self) -> None:
        self.canv.running_head = self.text


class PageMark(Flowable):
    """A zero-size marker that notes the page it lands on under a key, for a PageRef to print."""

    def __init__(self, key: object) -> None:
        super().__init__()
        self.key = key
        self.width = self.height = 0

    def draw(self) -> None:
        self.canv.page_marks[self.key] = self.canv.getPageNumber()


class PageRef(Flowable):
    """The page a PageMark landed on, printed when the pages are furnished (it may come later)."""

    def __init__(self, key: object, size: float = 8) -> None:
        super().__init__()
        self.key = key
        self.size = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.size * 1.2

    def draw(self) -> None:
        x, y = self.canv.absolutePosition(0, self.size * 0.25)
        refs = self.canv.page_refs
        refs.setdefault(self.canv.getPageNumber(), []).append((x, y, self.key, self.size))


class Deferred(Flowable):
    """A placeholder that the document replaces with its flowables when it reaches it."""

    def __init__(self, make: Callable[[], list[Flowable]]) -> None:
        super().__init__()
        self.make = make


class _ReportDoc(SimpleDocTemplate):
    """A document that builds deferred sections just in time, so a batch is never all in memory."""

    def filterFlowables(self, flowables: list[Flowable]) -> None:
        while flowables and isinstance(flowables[0], Deferred):
            flowables[0:1] = flowables[0].make()


def _build(
    story: list[Flowable],
    page_size: PageSize,
    title: str,
    footer: tuple[str, str, str],
    author: str = "carelog",
    subject: str = "",
) -> bytes:
    """Lay the story out on numbered pages and return the PDF bytes; consumes the story."""
    buffer = BytesIO()
    doc = _ReportDoc(
        buffer,
        pagesize=st.PAGE_SIZES[page_size],
        leftMargin=st.MARGIN_X,
        rightMargin=st.MARGIN_X,
        topMargin=st.MARGIN_TOP,
        bottomMargin=st.MARGIN_BOTTOM,
        title=st.printable(title),
        author=st.printable(author),
        subject=st.printable(subject),
        creator="carelog",
    )
    doc.build(story, canvasmaker=partial(FurnishedCanvas, footer=footer))
    return buffer.getvalue()


def _frame_width(page_size: PageSize) -> float:
    """Return the usable text width of the page."""
    return st.PAGE_SIZES[page_size][0] - 2 * st.MARGIN_X


def _running_head(report: ResidentReport) -> str:
    """Return the line printed at the top of every page of a resident's report."""
    r = report.resident
    room = f"Room {r.room}" if r.room else ""
    parts = (r.full_name, room, report.ward_name, fmt.month_label(report.month, report.figures_to))
    return " · ".join(part for part in parts if part)


def resident_story(
    report: ResidentReport, page_size: PageSize, trend: Sequence[MonthTrend] | None = None
) -> list[Flowable]:
    """Return the flowables of one resident's report, from header to reading guide, and the
    page of the 12 months to the report's month if asked for."""
    width = _frame_width(page_size)
    s = summarise(report)
    return [
        RunningHead(_running_head(report)),
        *header(report, width),
        *summary(report, s, width),
        *charts(report, width),
        *session_table(report, width),
        *observations(report, width),
        # Kept with the section before it: the guide never stands alone on a last page.
        KeepTogether([*corrections(report, width), *reading_guide(report, s)]),
        *(trend_page(trend, width) if trend else []),
    ]


def render_resident_report(
    report: ResidentReport, trend: Sequence[MonthTrend] | None = None
) -> bytes:
    """Render one resident's monthly report to PDF bytes, with a last page of the 12 months to
    its month if `trend` is given."""
    title = f"Hand massage record {report.resident.full_name} {report.month.label}"
    footer = footer_lines(
        report.generated_by,
        report.generated_at,
        report.timezone,
        report.fingerprint,
        report.report_id,
        report.verify_url,
    )
    subject = f"Monthly hand massage record, {report.home_name}, {report.month}"
    story = resident_story(report, report.page_size, trend)
    return _build(story, report.page_size, title, footer, report.generated_by, subject)


def _cover(batch: BatchReport, width: float) -> list[Flowable]:
    """Return the batch cover: one row per resident with the month's headline figures."""
    rows: list[list] = [
        [
            "Resident",
            "Room" if batch.ward_name else "Ward, room",
            "Given / planned",
            "Relaxation: median change",
            "Mood: median change",
            "Declined",
            "Adverse observations",
            "Page",
        ]
    ]
    for index, report in enumerate(batch.residents):
        s = summarise(report)
        rows.append(
            [
                report.resident.full_name,
                report.resident.room
                if batch.ward_name
                else f"{report.ward_name}, {report.resident.room}",
                f"{s.given} / {s.planned}",
                f"{fmt.signed(s.relaxation.median_change)} (n = {s.relaxation.n_pairs})",
                f"{fmt.signed(s.mood.median_change)} (n = {s.mood.n_pairs})",
                str(s.declined),
                str(s.observations),
                PageRef(index),
            ]
        )
    shares = (0.22, 0.13, 0.10, 0.15, 0.14, 0.08, 0.12, 0.06)
    table = grid(rows, [width * share for share in shares], zebra=True)
    intro = (
        f"{len(batch.residents)} residents. Each resident's report starts on a new page, the "
        "one given in the last column. "
        "Median change is after minus before over sessions with both ratings; higher is better."
    )
    return [
        RunningHead(
            f"{batch.home_name} · {batch.scope_label} · "
            f"{fmt.month_label(batch.month, batch.figures_to)}"
        ),
        p(
            f"Hand massage monthly records: {fmt.month_label(batch.month, batch.figures_to)}",
            st.TITLE,
        ),
        p(f"{batch.home_name} · {batch.scope_label}", st.SUBTITLE),
        p(intro, st.BODY),
        Spacer(0, 4),
        table if batch.residents else p("No residents in this batch.", st.BODY),
    ]


def render_batch(batch: BatchReport, progress: Callable[[int, int], None] | None = None) -> bytes:
    """Render a cover page and every resident's report, each on new pages, as one PDF.

    `progress(done, total)` is called as layout reaches each resident, for a progress bar.
    """
    width = _frame_width(batch.page_size)
    total = len(batch.residents)
    story = _cover(batch, width)

    def story_of(index: int, report: ResidentReport) -> list[Flowable]:
        if progress is not None:
            progress(index, total)
        return resident_story(report, batch.page_size)

    for index, report in enumerate(batch.residents):
        story += [PageBreak(), PageMark(index), Deferred(partial(story_of, index, report))]
    title = f"Hand massage records {batch.home_name} {batch.scope_label} {batch.month.label}"
    footer = footer_lines(
        batch.generated_by,
        batch.generated_at,
        batch.timezone,
        batch.fingerprint,
        batch.report_id,
        batch.verify_url,
    )
    subject = f"Monthly hand massage records, {batch.home_name}, {batch.scope_label}, {batch.month}"
    return _build(story, batch.page_size, title, footer, batch.generated_by, subject)
