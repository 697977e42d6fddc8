"""Which sleep rating counts for a night: one rule for the report's figures and its reading guide.

Pure: no Flask, no SQLAlchemy, so the PDF renderer reads the rule's words from here.
"""

from __future__ import annotations

SLEEP_RULE = (
    "One value per night: the next-morning rating counts over a later session's before-rating; "
    "when ratings of the same kind disagree, the lowest counts and the night is listed."
)


def counted_sleep(values: list[int]) -> tuple[int | None, tuple[int, ...]]:
    """The value that counts for a night, and all its ratings if they disagree."""
    if not values:
        return None, ()
    return min(values), (tuple(values) if len(set(values)) > 1 else ())
