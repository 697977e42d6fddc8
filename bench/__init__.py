"""Benchmarks run by `make bench` (`python -m bench`).

Each module bench/bench_*.py has a `main()` that measures something and returns a Table (or a
list of Tables, or a string); `python -m bench` runs every such module it finds and prints what
each returns. `python -m bench logging board` runs only bench_logging and bench_board.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Table:
    """A titled table of figures, with notes printed under it."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The table as aligned plain text."""
        cells = [[str(c) for c in self.columns]] + [[_cell(v) for v in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = [self.title, "=" * len(self.title)]
        for number, row in enumerate(cells):
            lines.append("  ".join(_align(v, w) for v, w in zip(row, widths, strict=True)))
            if number == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.extend(f"* {note}" for note in self.notes)
        return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _align(value: str, width: int) -> str:
    numeric = value.replace(",", "").replace(".", "").replace("-", "").isdigit()
    return value.rjust(width) if numeric else value.ljust(width)


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` of the values lie (inclusive method)."""
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(share * 100) - 1]


def machine() -> str:
    """Cores and load average, to read the figures against: other work on the machine slows them."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores; load average {one:.1f} (1 min), {five:.1f} (5 min)"
