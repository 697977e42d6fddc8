"""A reportlab drawing as SVG to place inline in a page: the same drawing as the PDF's, with an
accessible name, no fixed size, the page's own font, and ids that cannot clash with another
drawing on the same page."""

from __future__ import annotations

import itertools
import re

from markupsafe import Markup, escape
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing

from carelog.reports.pdf.styles import FONT, FONT_BOLD

_numbers = itertools.count(1)
_PROLOG = re.compile(r"^.*?(?=<svg )", re.S)
_TITLE = re.compile(r"<title>.*?</title>\s*<desc>.*?</desc>", re.S)
_SIZE = re.compile(r'<svg width="[\d.]+" height="[\d.]+"')
_STYLE = re.compile(r'style="([^"]*)"')
_LONG_NUMBER = re.compile(r"(?<=[\s\",(])(-?\d+\.\d\d)\d+")  # 417.7777777 -> 417.77
_DEFAULTS = (' stroke-linecap="butt"', ' fill-rule="evenodd"', ' transform=""')


def _as_attributes(match: re.Match) -> str:
    """style="stroke: red; stroke-width: 2" as stroke="red" stroke-width="2": the page's
    Content-Security-Policy forbids inline styles, not SVG's presentation attributes."""
    pairs = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
    return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in pairs)


def inline_svg(drawing: Drawing, title: str) -> Markup:
    """The drawing as an <svg> element named by `title`, scaled to the width of its box."""
    number = next(_numbers)
    text = renderSVG.drawToString(drawing)
    text = _PROLOG.sub("", text, count=1)
    text = _SIZE.sub(
        f'<svg class="chart" role="img" aria-labelledby="chart-title-{number}"', text, count=1
    )
    text = _TITLE.sub(f'<title id="chart-title-{number}">{escape(title)}</title>', text, count=1)
    text = text.replace('id="clip"', f'id="chart-clip-{number}"').replace(
        "url(#clip)", f"url(#chart-clip-{number})"
    )
    text = text.replace(' id="group"', "")
    text = text.replace(f"font-family: {FONT_BOLD};", "font-family: inherit; font-weight: bold;")
    text = text.replace(f"font-family: {FONT};", "font-family: inherit;")
    text = _STYLE.sub(_as_attributes, text)
    return Markup(_smaller(text))  # noqa: S704 - reportlab's own output, the title escaped above


def _smaller(text: str) -> str:
    """Drop what the browser would assume anyway and the digits no screen can show (a page of
    150 small charts halves in size)."""
    text = _LONG_NUMBER.sub(r"\1", text)
    for default in _DEFAULTS:
        text = text.replace(default, "")
    return text
