"""Table building blocks for reports: safe cells that wrap, and the ruled grid style."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Table, TableStyle
from reportlab.platypus.tables import CellStyle

from carelog.reports.pdf import styles as st
from carelog.reports.pdf.paragraph import Paragraph

CELL_LIMIT = 1200


NAME_LIMIT = 120


CELL_PADDING = 3


def p(text: str, style=st.CELL, limit: int = CELL_LIMIT) -> Paragraph:
    """Return a Paragraph of user or free text, escaped and cut to limit characters."""
    return Paragraph(st.markup(text, limit), style)


def cell(text: str, width: float, bold: bool = False) -> str | Paragraph:
    """Return table-cell text: plain lines when its words fit the column, else a Paragraph
    (which also breaks a word too long for the column).

    Line breaks become spaces and long text is cut in proportion to the column width, so that
    no row can outgrow a page. Plain lines cost a fifth of a Paragraph to lay out and draw,
    and most cells are plain.
    """
    s = st.printable(text).replace("\n", " ").replace("\t", " ")
    font, style = (st.FONT_BOLD, st.CELL_BOLD) if bold else (st.FONT, st.CELL)
    room = width - 2 * CELL_PADDING
    if stringWidth(s, font, style.fontSize) <= room:
        return s
    s = st.clip(s, int(room * 5.5))
    lines = simpleSplit(s, font, style.fontSize, room)
    if all(stringWidth(line, font, style.fontSize) <= room for line in lines):
        return "\n".join(lines)
    return Paragraph(st.markup(s), style)


def _cell_style(font: str) -> CellStyle:
    """The style of a grid cell: 8-point type on 9.6, top-aligned, close padding."""
    style = CellStyle(font)
    style.fontname, style.fontsize, style.leading = font, 8, 9.6
    style.valign = "TOP"
    style.topPadding, style.bottomPadding = 1.5, 2
    style.leftPadding = style.rightPadding = CELL_PADDING
    return style


def grid(
    rows: list[list], widths: Sequence[float], header_rows: int = 1, zebra: bool = False
) -> Table:
    """Return a ruled table with a grey header that repeats on every page it spans.

    String cells go through ``cell``; pass a Paragraph for a cell that needs its own markup.
    """
    rows = [
        [
            cell(c, w, i < header_rows) if isinstance(c, str) else c
            for c, w in zip(r, widths, strict=True)
        ]
        for i, r in enumerate(rows)
    ]
    # Every cell of a kind shares one style: set once, rather than command by command per cell.
    heading, body = _cell_style(st.FONT_BOLD), _cell_style(st.FONT)
    styles = [[heading if i < header_rows else body] * len(widths) for i in range(len(rows))]
    table = Table(
        rows,
        colWidths=list(widths),
        repeatRows=header_rows,
        hAlign="LEFT",
        cellStyles=styles,
    )
    cmds = [
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), st.HEADER_FILL),
        ("GRID", (0, 0), (-1, -1), 0.4, st.RULE),
    ]
    if zebra:
        cmds.append(("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [None, st.ZEBRA_FILL]))
    table.setStyle(TableStyle(cmds))
    return table
