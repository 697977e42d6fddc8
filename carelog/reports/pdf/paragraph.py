"""reportlab's Paragraph, laid out once per width.

Platypus asks a paragraph for its size more than once at the same width (a table measuring its
rows, then splitting them across pages; KeepTogether measuring, then the frame placing), and
reportlab breaks the lines afresh each time: a tenth of a monthly report's cost. The lines depend
only on the text, the style and the width, so the first answer is kept for that width.
"""

from __future__ import annotations

from reportlab.platypus import paragraph


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
