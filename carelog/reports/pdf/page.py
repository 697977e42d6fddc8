"""The page furniture of every report: running head, footer with report id, checkpoint and a QR
code to the integrity page, and "page X of Y" (pages are held back until the count is known)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache

from reportlab.graphics.barcode import qrencoder
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from carelog.reports.document import AuditFingerprint
from carelog.reports.pdf import formatting as fmt
from carelog.reports.pdf import styles as st


class FurnishedCanvas(Canvas):
    """A canvas that holds pages back until the end to print "page X of Y" and the footer."""

    def __init__(self, *args, footer: tuple[str, str, str], **kwargs) -> None:
        # Start in the report's own (embedded) font: Helvetica would be listed, unembedded.
        kwargs.update(initialFontName=st.FONT, initialFontSize=8)
        super().__init__(*args, **kwargs)
        self.running_head = ""
        self.page_marks: dict[object, int] = {}
        self.page_refs: dict[int, list[tuple[float, float, object, float]]] = {}
        self.footer_lines = footer
        self._held: list[dict] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        verify_url = self.footer_lines[2]
        if verify_url:  # drawn once, placed on every page: a QR code is hundreds of squares
            self.beginForm(QR_FORM)
            draw_qr(self, verify_url, QR_SIZE)
            self.endForm()
        total = len(self._held)
        for number, state in enumerate(self._held, start=1):
            self.__dict__.update(state)
            self._furnish(number, total)
            super().showPage()
        super().save()

    def _furnish(self, number: int, total: int) -> None:
        """Draw the running head, the audit fingerprint, the page number and any page refs."""
        width, height = self._pagesize
        left, right = st.MARGIN_X, width - st.MARGIN_X
        self.saveState()
        for x, y, key, size in self.page_refs.get(number, []):
            self.setFont(st.FONT, size)
            self.drawString(x, y, str(self.page_marks.get(key, "")))
        self.setFillColor(st.INK)
        self.setStrokeColor(st.RULE)
        self.setLineWidth(0.5)
        self.setFont(st.FONT, 8)
        self.drawString(left, height - 11 * mm, st.fit(self.running_head, st.FONT, 8, right - left))
        self.line(left, height - 12.5 * mm, right, height - 12.5 * mm)
        self.line(left, 13 * mm, right, 13 * mm)
        generated, fingerprint, verify_url = self.footer_lines
        qr_room = QR_SIZE + 2 * mm if verify_url else 0
        self.drawString(left, 9.5 * mm, st.fit(generated, st.FONT, 8, right - left - 70 - qr_room))
        self.setFont(st.FONT_BOLD, 9)
        self.drawRightString(right - qr_room, 9.5 * mm, f"Page {number} of {total}")
        self.setFont(st.FONT, 7.5)
        self.drawString(left, 6 * mm, st.fit(fingerprint, st.FONT, 7.5, right - left - qr_room))
        if verify_url:
            self.translate(right - QR_SIZE, 1.5 * mm)
            self.doForm(QR_FORM)
        self.restoreState()


# The Reed-Solomon generator polynomial depends only on how many error-correction bytes a block
# has, yet reportlab builds it afresh for every block of every code: half the encoding time. It
# is a pure function of that count and its result is never changed, so it is kept.
qrencoder.QRUtil.getErrorCorrectPolynomial = staticmethod(
    cache(qrencoder.QRUtil.getErrorCorrectPolynomial)
)


QR_SIZE = 11 * mm
QR_FORM = "carelog-verify-qr"
QR_MASK = 0


# What a QR code's alphanumeric mode holds, at 5.5 bits a character instead of 8.
ALPHANUMERIC_TAIL = re.compile(r"[0-9A-Z $%*+./:-]*\Z")


def qr_segments(value: str) -> list[qrencoder.QR]:
    """`value` as QR segments: its tail of capitals and digits (a report's id and checkpoint)
    in alphanumeric mode, what comes before (the server's address, as typed) byte for byte."""
    tail = ALPHANUMERIC_TAIL.search(value)
    assert tail is not None  # it matches at least the empty string at the end
    head, tail_text = value[: tail.start()], tail.group()
    if len(tail_text) < 12:  # a short tail saves less than a second segment's header costs
        return [qrencoder.QR8bitByte(value)]
    return ([qrencoder.QR8bitByte(head)] if head else []) + [qrencoder.QRAlphaNum(tail_text)]


def draw_qr(canvas: Canvas, value: str, size: float) -> None:
    """A QR code of `value`, `size` square with its lower left at the origin: reportlab's own
    encoder, drawn as one path (its widget would draw each module as a shape, 30 times slower)."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    for segment in qr_segments(value):
        code.addData(segment)
    code.version = code.calculate_version()
    # Any of the eight masks is valid; choosing the "best" renders all eight (most of the cost).
    code.makeImpl(False, QR_MASK)
    modules = code.getModuleCount()
    cell = size / modules
    path = canvas.beginPath()
    for row in range(modules):
        dark = [code.isDark(row, column) for column in range(modules)] + [False]
        start = None
        for column, on in enumerate(dark):  # a run of dark modules is one rectangle
            if on and start is None:
                start = column
            elif not on and start is not None:
                path.rect(start * cell, size - (row + 1) * cell, (column - start) * cell, cell)
                start = None
    canvas.setFillColor(st.INK)
    canvas.drawPath(path, stroke=0, fill=1)


def footer_lines(
    generated_by: str,
    generated_at: datetime,
    timezone: str,
    fp: AuditFingerprint,
    report_id: str = "",
    verify_url: str = "",
) -> tuple[str, str, str]:
    """The footer: report id, who generated it and when; the audit checkpoint; the QR target."""
    who = st.printable(generated_by)
    when = f"{fmt.stamp(generated_at)} ({st.printable(timezone)})"
    made = f"Report {report_id} · generated" if report_id else "Generated"
    return (
        f"{made} by {who} on {when}",
        f"Audit checkpoint (check it under Audit trail › Integrity): "
        f"{st.printable(fp.head_hash)}:{fp.entry_count}",
        verify_url,
    )
