"""The board's lines as HTML, each drawn once for what it shows.

A line's HTML depends only on what it shows: the resident's and the consent's columns the board
loads (any other raises, see board.ON_THE_BOARD), the row's own fields, the link and the day. So
a line is kept under exactly those values and drawn again only when one of them changes: after
a nurse saves a session, one line of 150 is drawn, not all of them. Nothing can be stale: a
changed value is a different key. Each worker process keeps its own memo, bounded in size.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from operator import attrgetter
from threading import Lock

from flask import get_template_attribute
from markupsafe import Markup

from carelog.care.board import CONSENT_SHOWN, LOOKBACK_DAYS, RESIDENT_SHOWN, TODAY_WORDS, BoardRow

LINE_PLACEHOLDER = 987654321  # in the link pattern, where each line puts its resident's id
MEMO_SIZE = 4096  # lines: a few wards of 150, for each link a role sees
_resident_values = attrgetter(*(column.key for column in RESIDENT_SHOWN))
_consent_values = attrgetter(*(column.key for column in CONSENT_SHOWN))
_row_values = attrgetter(
    *(field.name for field in fields(BoardRow) if field.name not in ("resident", "consent"))
)


def line_key(row: BoardRow, link_pattern: str, today: date) -> tuple:
    """Every value a board line shows, and nothing else."""
    return (
        _resident_values(row.resident),
        _consent_values(row.consent) if row.consent is not None else None,
        _row_values(row),
        link_pattern,
        today,
    )


class LineMemo:
    """Drawn lines by their key; emptied when full (a day's lines are drawn again in one page)."""

    def __init__(self, size: int = MEMO_SIZE):
        self.size = size
        self.lines: dict[tuple, Markup] = {}
        self.lock = Lock()

    def line(self, row: BoardRow, link_pattern: str, today: date) -> Markup:
        key = line_key(row, link_pattern, today)
        drawn = self.lines.get(key)
        if drawn is None:
            draw = get_template_attribute("care/_board_line.html", "board_line")
            drawn = draw(
                row, link_pattern, str(LINE_PLACEHOLDER), today, TODAY_WORDS, LOOKBACK_DAYS
            )
            with self.lock:
                if len(self.lines) >= self.size:
                    self.lines.clear()
                self.lines[key] = drawn
        return drawn


memo = LineMemo()


def board_lines(rows: list[BoardRow], link_pattern: str, today: date) -> Markup:
    """The board's lines, in order, as one piece of HTML."""
    return Markup("").join(memo.line(row, link_pattern, today) for row in rows)
