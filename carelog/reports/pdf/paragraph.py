"""reportlab's Paragraph, laid out once per width; and paragraphs that read the same in every
report, laid out once per thread.

Platypus asks a paragraph for its size more than once at the same width (a table measuring its
rows, then splitting them across pages; KeepTogether measuring, then the frame placing), and
reportlab breaks the lines afresh each time: a tenth of a monthly report's cost. The lines depend
only on the text, the style and the width, so the first answer is kept for that width.

The reading guide's definitions are the same words in every report, yet reading their markup
and breaking their lines cost an eighth of a report. `standing` keeps them from one report to
the next.
"""

from __future__ import annotations

import copy
import threading

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import paragraph

STANDING_LIMIT = 32  # paragraphs kept per thread; the guide has a handful
_standing = threading.local()

# What reportlab's Paragraph.wrap sets, and our record of the width it was set for: the layout.
LAYOUT = ("width", "height", "blPara", "_wrapWidths", "_wrapped")


class Paragraph(paragraph.Paragraph):
    """A Paragraph whose line breaking is done once for each width it is asked about."""

    _wrapped: tuple[float, tuple[float, float]] | None = None
    _layout_kept_by: Paragraph | None = None  # the standing paragraph this one was copied from

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        # A split that found no room drops the lines (blPara): then they are broken again.
        if self._wrapped and self._wrapped[0] == availWidth and hasattr(self, "blPara"):
            return self._wrapped[1]
        size = super().wrap(availWidth, availHeight)
        self._wrapped = (availWidth, size)
        if self._layout_kept_by is not None:  # the next report's copy starts laid out
            laid_out = {name: self.__dict__[name] for name in LAYOUT if name in self.__dict__}
            self._layout_kept_by.__dict__.update(laid_out)
        return size


def standing(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph whose words are the same in every report (the reading guide's definitions):
    read once, laid out once per width, and handed out as a copy to each report this thread
    makes.

    A copy, because platypus writes on the flowables it places: the canvas while drawing one,
    "moved to the next page once already" (it would refuse to move it again), "no longer kept
    with the next" once a heading has been kept with its text. Those belong to one report; the
    copy shares only the words and their lines. Each thread keeps its own, so that two reports
    made at once never lay out the same paragraph together.
    """
    kept: dict[tuple[str, str], Paragraph] | None = getattr(_standing, "paragraphs", None)
    if kept is None or len(kept) >= STANDING_LIMIT:  # a bound, should varying text come here
        kept = _standing.paragraphs = {}
    original = kept.get((text, style.name))
    if original is None:
        original = kept[(text, style.name)] = Paragraph(text, style)
    handed = copy.copy(original)
    handed._layout_kept_by = original
    return handed
