"""Benchmarks run by `make bench` (`python -m bench`).

Each module bench/bench_*.py has a `main()` that measures something and returns a Table (or a
list of Tables, or a string); `python -m bench` runs every such module it finds and prints what
each returns. `python -m bench logging board` runs only bench_logging and bench_board.
"""

from __future__ import annotations

import os
import statistics
import time
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


def python_speed(additions: int = 5_000_000) -> float:
    """Milliseconds of CPU one core takes for a plain Python loop (best of three).

    A yardstick for comparing runs on different days: this shared machine's cores are not always
    equally fast, and the figures move with them.
    """
    best = float("inf")
    for _ in range(3):
        began = time.process_time()
        total = 0
        for number in range(additions):
            total += number
        best = min(best, time.process_time() - began)
    return best * 1000


def machine() -> str:
    """Cores, load average and core speed, to read the figures against."""
    one, five, _ = os.getloadavg()
    return (
        f"{os.cpu_count()} cores; load average {one:.1f} (1 min), {five:.1f} (5 min); "
        f"a Python loop of 5M additions took {python_speed():.0f} ms of CPU"
    )
