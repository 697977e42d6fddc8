"""Hand-worked examples for the report statistics."""

from __future__ import annotations

import pytest

from carelog.reports.document import Rating
from carelog.reports.stats import (
    PairedSummary,
    interquartile_range,
    median,
    paired_summary,
    quartiles,
    sleep_comparison,
)


def r(value: int | None, rater: str = "self", absence: str | None = None) -> Rating:
    return Rating(value=value, rater=rater, absence=absence)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3, 1, 2], 2), ([4, 1, 3, 2], 2.5), ([5], 5), ([6, 6, 6, 6], 6), ([], None)],
)
def test_median_odd_even_single_equal_empty(values: list[int], expected: float | None) -> None:
    assert median(values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4, 5], (2.0, 4.0)),
        ([4, 1, 3, 2], (1.75, 3.25)),
        ([7], (7.0, 7.0)),
        ([2, 4], (2.5, 3.5)),
        ([3, 3, 3], (3.0, 3.0)),
        ([], None),
    ],
)
def test_quartiles_by_linear_interpolation(
    values: list[int], expected: tuple[float, float] | None
) -> None:
    assert quartiles(values) == expected


def test_interquartile_range() -> None:
    assert interquartile_range([1, 2, 3, 4, 5]) == 2.0
    assert interquartile_range([9]) == 0.0
    assert interquartile_range([]) is None


def test_paired_summary_with_missing_declined_unable_and_observer() -> None:
    pairs = [
        (r(2), r(5)),
        (r(4, "observer"), r(4, "observer")),
        (r(6), r(3)),
        (r(1), r(3)),
        (r(None), r(7, "observer")),
        (r(5), r(None, absence="declined")),
        (r(None, absence="unable"), r(None, absence="not_assessed")),
    ]
    # complete pairs: before 2,4,6,1 -> sorted 1,2,4,6; after 5,4,3,3 -> sorted 3,3,4,5
    # changes +3, 0, -3, +2 -> sorted -3, 0, 2, 3; Q1 = -3 + 0.75 * 3, Q3 = 2 + 0.25 * 1
    assert paired_summary(pairs) == PairedSummary(
        n_pairs=4,
        median_before=3.0,
        median_after=3.5,
        median_change=1.0,
        change_iqr=(-0.75, 2.25),
        improved=2,
        same=1,
        worse=1,
        n_missing=4,
        n_observer=3,
    )


def test_paired_summary_single_session() -> None:
    s = paired_summary([(r(3), r(5))])
    assert (s.n_pairs, s.median_before, s.median_after, s.median_change) == (1, 3, 5, 2)
    assert s.change_iqr == (2.0, 2.0)
    assert (s.improved, s.same, s.worse, s.n_missing) == (1, 0, 0, 0)


def test_paired_summary_two_sessions() -> None:
    s = paired_summary([(r(3), r(5)), (r(4), r(4))])
    assert (s.median_before, s.median_after, s.median_change) == (3.5, 4.5, 1.0)
    assert s.change_iqr == (0.5, 1.5)
    assert (s.improved, s.same, s.worse) == (1, 1, 0)


def test_paired_summary_all_equal() -> None:
    s = paired_summary([(r(5), r(5))] * 4)
    assert (s.n_pairs, s.median_change, s.change_iqr) == (4, 0.0, (0.0, 0.0))
    assert (s.improved, s.same, s.worse) == (0, 4, 0)


def test_paired_summary_all_worse() -> None:
    s = paired_summary([(r(8), r(6)), (r(7), r(6)), (r(5), r(1))])
    assert (s.median_change, s.change_iqr) == (-2.0, (-3.0, -1.5))
    assert (s.improved, s.same, s.worse) == (0, 0, 3)


def test_paired_summary_nothing_rated() -> None:
    s = paired_summary([(r(None), r(None, absence="declined"))])
    assert s.n_pairs == 0 and s.n_missing == 2
    assert s.median_before is s.median_after is s.median_change is s.change_iqr is None
    assert paired_summary([]).n_missing == 0


def test_sleep_after_massage_against_other_nights() -> None:
    nights = [(7, True), (5, False), (None, True), (9, True), (4, False), (6, False), (None, False)]
    s = sleep_comparison(nights)
    assert (s.median_after_massage, s.n_after_massage) == (8.0, 2)
    assert (s.median_other, s.n_other) == (5.0, 3)
    assert s.n_missing == 2


def test_rating_cannot_have_both_value_and_absence() -> None:
    with pytest.raises(ValueError):
        Rating(value=3, absence="declined")
