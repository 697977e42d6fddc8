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

import threading

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import paragraph

STANDING_LIMIT = 32  # paragraphs kept per thread; the guide has a handful
_standing = threading.local()


class Paragraph(paragraph.Paragraph):
    """A Paragraph whose line breaking is done once for each width it is asked about."""

    _wrapped: tuple[float, tuple[float, float]] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        # A split that found no room drops the lines (blPara): then they are broken again.
        if self._wrapped and self._wrapped[0] == availWidth and hasattr(self, "blPara"):
            return self._wrapped[1]
        size = super().wrap(availWidth, availHeight)
        self._wrapped = (availWidth, size)
        return size


def standing(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph whose words are the same in every report (the reading guide's definitions),
    read and laid out once, then placed again in each report this thread makes.

    Each thread keeps its own: platypus hangs the canvas on a flowable while drawing it, so two
    reports drawn at once (a batch and a single report) must not share one. Platypus also marks
    a flowable it had to move to the next page, and would refuse to move it a second time: the
    mark belongs to one document, so it is cleared each time the paragraph is handed out.
    """
    kept: dict[tuple[str, str], Paragraph] | None = getattr(_standing, "paragraphs", None)
    if kept is None or len(kept) >= STANDING_LIMIT:  # a bound, should varying text come here
        kept = _standing.paragraphs = {}
    found = kept.get((text, style.name))
    if found is None:
        found = kept[(text, style.name)] = Paragraph(text, style)
    found.__dict__.pop("_postponed", None)
    return found
