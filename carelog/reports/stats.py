"""Descriptive statistics for one resident's monthly ratings: medians, quartiles, counts."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


class RatingLike(Protocol):
    """A rating as the report model holds it: a value or None, and who rated."""

    @property
    def value(self) -> int | None: ...

    @property
    def rater(self) -> str: ...


@dataclass(frozen=True, slots=True)
class PairedSummary:
    """Before/after ratings on one scale over the sessions of a month."""

    n_pairs: int
    median_before: float | None
    median_after: float | None
    median_change: float | None
    change_iqr: tuple[float, float] | None
    improved: int
    same: int
    worse: int
    n_missing: int
    n_observer: int


@dataclass(frozen=True, slots=True)
class SleepComparison:
    """Sleep on nights after a massage day against all other nights of the month."""

    median_after_massage: float | None
    n_after_massage: int
    median_other: float | None
    n_other: int
    n_missing: int


def median(values: Sequence[float]) -> float | None:
    """Return the median of the values (mean of the middle two for an even count), None if empty."""
    return float(statistics.median(values)) if values else None


def quartiles(values: Sequence[float]) -> tuple[float, float] | None:
    """Return (Q1, Q3) by linear interpolation between order statistics, None if empty.

    This is ``statistics.quantiles(method="inclusive")`` (R type 7, numpy's default):
    for n = 1 both quartiles equal the value; for n = 2, [a, b] gives
    (a + (b - a) / 4, a + 3 * (b - a) / 4).
    """
    if not values:
        return None
    if len(values) == 1:
        only = float(values[0])
        return (only, only)
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return (float(q1), float(q3))


def interquartile_range(values: Sequence[float]) -> float | None:
    """Return Q3 - Q1 using the inclusive method of ``quartiles``, None if empty."""
    q = quartiles(values)
    return None if q is None else q[1] - q[0]


def paired_summary(pairs: Iterable[tuple[RatingLike, RatingLike]]) -> PairedSummary:
    """Summarise (before, after) ratings; a pair counts only when both sides have a value.

    Medians before and after are taken over complete pairs, so they describe the same sessions;
    the change is after minus before for each pair (higher is better, so positive = improved).
    Every rating without a value (missing, declined, unable, not assessed) adds one to n_missing;
    every rating with a value given by an observer adds one to n_observer, and is included.
    """
    before: list[int] = []
    after: list[int] = []
    n_missing = 0
    n_observer = 0
    for pair in pairs:
        for rating in pair:
            if rating.value is None:
                n_missing += 1
            elif rating.rater == "observer":
                n_observer += 1
        b, a = pair
        if b.value is not None and a.value is not None:
            before.append(b.value)
            after.append(a.value)
    changes = [a - b for b, a in zip(before, after, strict=True)]
    return PairedSummary(
        n_pairs=len(changes),
        median_before=median(before),
        median_after=median(after),
        median_change=median(changes),
        change_iqr=quartiles(changes),
        improved=sum(c > 0 for c in changes),
        same=sum(c == 0 for c in changes),
        worse=sum(c < 0 for c in changes),
        n_missing=n_missing,
        n_observer=n_observer,
    )


@dataclass(frozen=True, slots=True)
class ByRater:
    """Before/after pairs summarised apart for the resident's own ratings and an observer's."""

    self_rated: PairedSummary
    observer: PairedSummary
    mixed: int  # pairs with one rating by each: compared in neither summary


def paired_by_rater(pairs: Iterable[tuple[RatingLike, RatingLike]]) -> ByRater:
    """Summarise the pairs rated by the resident and those rated by an observer separately.

    A pair belongs to a rater when both its ratings have a value and were given by that rater;
    the resident's word and an observer's reading of the same scale are never pooled.
    """
    own: list[tuple[RatingLike, RatingLike]] = []
    observed: list[tuple[RatingLike, RatingLike]] = []
    mixed = 0
    for before, after in pairs:
        if before.value is None or after.value is None:
            continue
        if before.rater != after.rater:
            mixed += 1
        elif before.rater == "observer":
            observed.append((before, after))
        else:
            own.append((before, after))
    return ByRater(paired_summary(own), paired_summary(observed), mixed)


def sleep_comparison(nights: Iterable[tuple[int | None, bool]]) -> SleepComparison:
    """Compare sleep values on nights after a massage day with the other nights.

    Each night is (value or None, whether a massage was given on the day before that night).
    """
    after_massage: list[int] = []
    other: list[int] = []
    n_missing = 0
    for value, massage_day in nights:
        if value is None:
            n_missing += 1
        elif massage_day:
            after_massage.append(value)
        else:
            other.append(value)
    return SleepComparison(
        median_after_massage=median(after_massage),
        n_after_massage=len(after_massage),
        median_other=median(other),
        n_other=len(other),
        n_missing=n_missing,
    )
