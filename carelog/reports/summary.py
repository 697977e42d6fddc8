"""The numbers printed in a monthly report, derived from its data with voided entries left out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from carelog.care.vocabulary import NOT_DONE_REASON_WORDS
from carelog.reports.document import ResidentReport
from carelog.reports.stats import PairedSummary, SleepComparison, paired_summary, sleep_comparison

NOT_DONE_REASONS = tuple(NOT_DONE_REASON_WORDS)


class AccountedFor:
    """Planned care and what became of it: given, declined, not done, or missed. For a
    resident's month in the report and for a ward's week or month on the manager's page."""

    __slots__ = ()
    planned: int
    given: int
    declined: int
    not_done: int

    @property
    def missed(self) -> int:
        """Planned sessions with no entry at all: neither given, declined nor not done."""
        return max(0, self.planned - self.given - self.declined - self.not_done)

    @property
    def accounted(self) -> int:
        """The base of the shares: the planned sessions, or every entry if there were more."""
        return max(self.planned, self.given + self.declined + self.not_done)

    @property
    def shares(self) -> dict[str, int]:
        """Given, declined, not done and missed as whole percentages of `accounted` that add up
        to exactly 100 (largest remainders get the rounding), or {} when nothing was planned."""
        counts = {
            "given": self.given,
            "declined": self.declined,
            "not_done": self.not_done,
            "missed": self.missed,
        }
        if not self.accounted:
            return {}
        exact = {k: 100 * v / self.accounted for k, v in counts.items()}
        whole = {k: int(v) for k, v in exact.items()}
        by_remainder = sorted(exact, key=lambda k: exact[k] - whole[k], reverse=True)
        for key in by_remainder[: 100 - sum(whole.values())]:
            whole[key] += 1
        return whole

    def share(self, kind: str) -> str:
        """One of the shares as printed: "69 %", or a dash when nothing was planned."""
        shares = self.shares
        return f"{shares[kind]} %" if shares else "–"


@dataclass(frozen=True, slots=True)
class ResidentSummary(AccountedFor):
    """Counts and statistics for one resident-month; voided sessions excluded throughout."""

    planned: int
    given: int
    completed: int
    stopped_early: int
    declined: int
    not_done: int
    not_done_reasons: tuple[tuple[str, int], ...]
    voided: int
    relaxation: PairedSummary
    mood: PairedSummary
    sleep: SleepComparison
    observations: int
    recorders: tuple[str, ...]

    @property
    def ratings_missing(self) -> int:
        """Return relaxation and mood ratings without a value in sessions that took place."""
        return self.relaxation.n_missing + self.mood.n_missing

    @property
    def ratings_by_observer(self) -> int:
        """Return relaxation and mood ratings given by an observer in sessions that took place."""
        return self.relaxation.n_observer + self.mood.n_observer


def summarise(report: ResidentReport) -> ResidentSummary:
    """Compute the report's counts and statistics; ratings count only from sessions given."""
    counted = report.counted_sessions
    given = [s for s in counted if s.given]
    outcomes = Counter(s.outcome for s in counted)
    reasons = Counter(s.not_done_reason or "other" for s in counted if s.outcome == "not_done")
    names = {s.given_by for s in counted} | {s.recorded_by for s in counted if s.recorded_by}
    return ResidentSummary(
        planned=report.planned_sessions,
        given=len(given),
        completed=outcomes["completed"],
        stopped_early=outcomes["stopped_early"],
        declined=outcomes["declined"],
        not_done=outcomes["not_done"],
        not_done_reasons=tuple((r, reasons[r]) for r in NOT_DONE_REASONS if reasons[r]),  # type: ignore[index]
        voided=len(report.sessions) - len(counted),
        relaxation=paired_summary((s.relaxation_before, s.relaxation_after) for s in given),
        mood=paired_summary((s.mood_before, s.mood_after) for s in given),
        sleep=sleep_comparison((n.value, n.massage_that_day) for n in report.sleep_nights),
        observations=sum(len(s.observations) for s in counted),
        recorders=tuple(sorted(names, key=str.casefold)),
    )
