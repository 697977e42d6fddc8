"""How a resident stands this week and today, from counts alone: the board's rules for met, due,
later and overdue, and for today's record. Pure: no Flask, no database."""

from __future__ import annotations

from datetime import date

from carelog.care.vocabulary import GIVEN, Outcome


def week_state(
    given: int,
    target: int,
    today: date,
    days_since_last: int | None = None,
    plan_days: frozenset[int] = frozenset(),
) -> str:
    """met when the weekly target is reached. Otherwise overdue when behind the week's pace,
    when the days left cannot hold what is missing, or when the last massage was longer ago than
    the target allows (seven days over the target, rounded up, or the longest gap between the
    plan's days if longer). Then later when the plan names other days for the rest of the week
    (today is not one of them, and the plan's days still to come can hold what is missing);
    due if none of these.

    The week's pace is the target times the days already past this week, over seven, rounded
    down; with plan days, the plan's days already past (at most the target)."""
    still_needed = max(target - given, 0)
    if still_needed == 0:
        return "met"
    weekday = today.weekday()  # weeks start on Monday
    if plan_days:
        behind_pace = given < min(target, sum(1 for d in plan_days if d < weekday))
    else:
        behind_pace = given < target * weekday // 7
    cannot_catch_up = still_needed > 7 - weekday
    allowed_gap = max(-(-7 // target), _longest_gap(plan_days))
    gap_too_long = days_since_last is not None and days_since_last > allowed_gap
    if behind_pace or cannot_catch_up or gap_too_long:
        return "overdue"
    plan_days_to_come = sum(1 for d in plan_days if d > weekday)
    if plan_days and weekday not in plan_days and still_needed <= plan_days_to_come:
        return "later"
    return "due"


def _longest_gap(plan_days: frozenset[int]) -> int:
    """The most days from one of the plan's weekdays to the next, round the week."""
    days = sorted(plan_days)
    if not days:
        return 0
    return max((b - a) % 7 or 7 for a, b in zip(days, [*days[1:], days[0]], strict=True))


def today_state(outcomes_today: list[str]) -> str:
    """Given beats declined beats not done; nothing recorded is not_yet."""
    if any(o in GIVEN for o in outcomes_today):
        return "given"
    if Outcome.DECLINED in outcomes_today:
        return "declined"
    if Outcome.NOT_DONE in outcomes_today:
        return "not_done"
    return "not_yet"
