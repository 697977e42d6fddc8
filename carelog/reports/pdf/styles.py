"""Fonts, colours, paragraph styles and page constants shared by the report modules."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from xml.sax.saxutils import escape

import font_source_sans_pro
from reportlab.graphics import shapes
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "CarelogSans"


FONT_BOLD = "CarelogSans-Bold"


FONT_ITALIC = "CarelogSans-Italic"


FONT_BOLD_ITALIC = "CarelogSans-BoldItalic"


PAGE_SIZES = {"A4": A4, "letter": LETTER}


MARGIN_X = 16 * mm


MARGIN_TOP = 17 * mm


MARGIN_BOTTOM = 18 * mm


INK = colors.black


MUTED = colors.Color(0.3, 0.3, 0.3)


RULE = colors.Color(0.55, 0.55, 0.55)


HEADER_FILL = colors.Color(0.86, 0.86, 0.86)


ZEBRA_FILL = colors.Color(0.95, 0.95, 0.95)


MASSAGE_FILL = colors.Color(0.2, 0.2, 0.2)


PLACEHOLDER = "?"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _register_fonts() -> frozenset[int]:
    """Embed Source Sans Pro from the font-source-sans-pro package; return its code points."""
    files = font_source_sans_pro.font_files_ttf
    faces = {
        FONT: "SourceSansPro",
        FONT_BOLD: "SourceSansProBold",
        FONT_ITALIC: "SourceSansProIt",
        FONT_BOLD_ITALIC: "SourceSansProBoldIt",
    }
    for name, key in faces.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, files[key]))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD_ITALIC
    )
    # A drawing (chart, QR code) starts in reportlab's default font, Helvetica, which a PDF
    # viewer supplies itself; start it in ours so that every font in a report is embedded.
    shapes.STATE_DEFAULTS["fontName"] = FONT
    return frozenset(pdfmetrics.getFont(FONT).face.charToGlyph)


COVERED = _register_fonts()


def printable(text: object) -> str:
    """Return text in NFC with control characters dropped and glyphs the font lacks shown as "?"."""
    s = unicodedata.normalize("NFC", _CONTROL.sub("", str(text)))
    if COVERED.issuperset(map(ord, s)):
        return s
    return "".join(c if ord(c) in COVERED or c in "\n\t" else PLACEHOLDER for c in s)


def clip(text: str, limit: int) -> str:
    """Return text cut to limit characters, saying so, so that one table row fits a page."""
    return text if len(text) <= limit else text[:limit] + " … [shortened; see the record]"


def fit(text: str, font: str, size: float, width: float) -> str:
    """Return printable text cut with "…" to fit width points on one line (at most 400 chars)."""
    s = printable(text[:400]).replace("\n", " ")
    if pdfmetrics.stringWidth(s, font, size) <= width:
        return s
    while s and pdfmetrics.stringWidth(s + "…", font, size) > width:
        s = s[: max(0, min(len(s) - 1, int(len(s) * 0.9)))]
    return s + "…"


def markup(text: object, limit: int | None = None) -> str:
    """Return user text made safe for a Paragraph: escaped, printable, line breaks kept."""
    s = printable(text)
    safe = escape(s if limit is None else clip(s, limit), {'"': "&quot;", "'": "&#39;"})
    return safe.replace("\n", "<br/>").replace("\t", " ")


@cache
def style(
    name: str,
    size: float = 9,
    bold: bool = False,
    italic: bool = False,
    leading: float | None = None,
    align: int = 0,
    color: colors.Color = INK,
    space_before: float = 0,
    space_after: float = 0,
    keep_with_next: bool = False,
) -> ParagraphStyle:
    """Return a (cached) paragraph style in the report font."""
    font = {
        (False, False): FONT,
        (True, False): FONT_BOLD,
        (False, True): FONT_ITALIC,
        (True, True): FONT_BOLD_ITALIC,
    }[(bold, italic)]
    return ParagraphStyle(
        name,
        fontName=font,
        fontSize=size,
        leading=leading or size * 1.2,
        alignment=align,
        textColor=color,
        spaceBefore=space_before,
        spaceAfter=space_after,
        keepWithNext=keep_with_next,
        splitLongWords=True,
        wordWrap=None,
    )


TITLE = style("title", 16, bold=True, leading=19, space_after=2)


SUBTITLE = style("subtitle", 10.5, color=MUTED, space_after=4)


H2 = style("h2", 11.5, bold=True, leading=14, space_before=8, space_after=3, keep_with_next=True)


BODY = style("body", 9, leading=11.5)


SMALL = style("small", 7.5, leading=9, color=MUTED)
GUIDE = style("guide", 8, leading=10)  # the reading guide: every definition, compactly


CELL = style("cell", 8, leading=9.6)


CELL_BOLD = style("cell-bold", 8, bold=True, leading=9.6)
CARD_NAME = style("card-name", 15, bold=True, leading=18)  # a door card: read from a step away


CELL_RIGHT = style("cell-right", 8, leading=9.6, align=TA_RIGHT)


LABEL = style("label", 8, bold=True, leading=9.6, color=MUTED)


NOTICE = style("notice", 9, italic=True, leading=11.5, space_before=6)
