"""A sheet of door cards for a ward: name, room, photo and a QR code per resident, eight to an
A4 page, to cut out and put by each door."""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, SimpleDocTemplate, Table, TableStyle

from carelog.reports.pdf import styles as st
from carelog.reports.pdf.page import draw_qr
from carelog.reports.pdf.paragraph import Paragraph

CARD_WIDTH, CARD_HEIGHT = 90 * mm, 60 * mm
GAP = 3 * mm
QR_SIDE = 34 * mm
PHOTO_SIDE = 24 * mm


@dataclass(frozen=True)
class DoorCard:
    name: str
    room: str
    ward: str
    code: str  # printed under the QR code, for typing by hand
    url: str  # what the QR code holds
    photo: bytes | None = None


class CardFlowable(Flowable):
    """One card, drawn with a cutting line around it."""

    def __init__(self, card: DoorCard):
        super().__init__()
        self.card = card
        self.width, self.height = CARD_WIDTH, CARD_HEIGHT

    def draw(self) -> None:
        canvas, card = self.canv, self.card
        canvas.setStrokeColor(st.RULE)
        canvas.setDash(2, 2)
        canvas.roundRect(0, 0, CARD_WIDTH, CARD_HEIGHT, 3 * mm, stroke=1, fill=0)
        canvas.setDash()
        left = 5 * mm
        top = CARD_HEIGHT - 5 * mm
        if card.photo:
            canvas.drawImage(
                ImageReader(io.BytesIO(card.photo)),
                left,
                top - PHOTO_SIDE,
                PHOTO_SIDE,
                PHOTO_SIDE,
                preserveAspectRatio=True,
            )
        name = Paragraph(escape(card.name), st.CARD_NAME)
        _, used = name.wrap(CARD_WIDTH - QR_SIDE - 13 * mm, 30 * mm)
        text_top = top - (PHOTO_SIDE + 3 * mm if card.photo else 0)
        name.drawOn(canvas, left, text_top - used)
        canvas.setFont(st.FONT, 10)
        canvas.setFillColor(st.INK)
        canvas.drawString(left, text_top - used - 5 * mm, f"Room {card.room} · {card.ward}")
        canvas.saveState()
        canvas.translate(CARD_WIDTH - QR_SIDE - 5 * mm, 10 * mm)
        draw_qr(canvas, card.url, QR_SIDE)
        canvas.restoreState()
        canvas.setFont(st.FONT, 8)
        canvas.drawCentredString(CARD_WIDTH - QR_SIDE / 2 - 5 * mm, 5.5 * mm, card.code)
        canvas.drawString(left, 5.5 * mm, "Scan on the ward board to open a session")


def render_door_cards(cards: list[DoorCard], title: str, page_size: str = "A4") -> bytes:
    """Every card of a ward on as many pages as needed, two across."""
    out = io.BytesIO()
    size = LETTER if page_size == "Letter" else A4
    document = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title,
        author="carelog",
    )
    flowables = [CardFlowable(card) for card in cards]
    rows = [
        flowables[i : i + 2] + [""] * (2 - len(flowables[i : i + 2]))
        for i in range(0, len(flowables), 2)
    ]
    if not rows:
        document.build([Paragraph("No residents on this ward.", st.CELL)])
        return out.getvalue()
    table = Table(rows, colWidths=[CARD_WIDTH + GAP] * 2, rowHeights=CARD_HEIGHT + GAP)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    document.build([Paragraph(escape(title), st.H2), table])
    return out.getvalue()
