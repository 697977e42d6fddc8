"""Plain frozen data describing a resident-month report and a ward batch, filled by a query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from carelog.care.vocabulary import MOOD, RELAXATION, SLEEP
from carelog.reports.month import Month

Absence = Literal["declined", "unable", "not_assessed", "missing"]


Rater = Literal["self", "observer"]


Hands = Literal["left", "right", "both"]


Pressure = Literal["light", "normal"]


Assent = Literal["agreed", "nonverbal", "declined", "withdrew"]


Outcome = Literal["completed", "stopped_early", "declined", "not_done"]


NotDoneReason = Literal["unwell", "asleep", "away", "deferred", "other"]


ObservationKind = Literal["redness", "bruise", "skin_tear", "pain", "distress"]


ConsentBasis = Literal["resident", "best_interests", "lpa"]


CorrectionKind = Literal["correction", "void"]


PageSize = Literal["A4", "letter"]


def _freeze(obj: object, *names: str) -> None:
    """Store each named sequence field of a frozen dataclass as a tuple."""
    for name in names:
        object.__setattr__(obj, name, tuple(getattr(obj, name)))


@dataclass(frozen=True, slots=True)
class Rating:
    """A value on a scale, or why there is none; and whether the resident or an observer rated."""

    value: int | None = None
    absence: Absence | None = None
    rater: Rater = "self"

    def __post_init__(self) -> None:
        if self.value is not None and self.absence is not None:
            raise ValueError("a rating has either a value or an absence, not both")

    @property
    def state(self) -> str:
        """Return "rated", or the reason there is no value ("missing" when none was given)."""
        return "rated" if self.value is not None else (self.absence or "missing")


@dataclass(frozen=True, slots=True)
class Observation:
    """Something noticed during a session, what was done and who was told."""

    kind: ObservationKind
    action_taken: str = ""
    told: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One recorded hand-massage session as it stands now (after any correction)."""

    start: datetime
    given_by: str
    outcome: Outcome
    duration_min: int = 10
    hands: Hands | None = None
    pressure: Pressure | None = None
    product: str = ""
    assent: Assent | None = None
    not_done_reason: NotDoneReason | None = None
    outcome_reason: str = ""
    relaxation_before: Rating = Rating()
    relaxation_after: Rating = Rating()
    mood_before: Rating = Rating()
    mood_after: Rating = Rating()
    sleep_before: Rating = Rating()
    sleep_after: Rating = Rating()
    late: bool = False
    corrected: bool = False
    voided: bool = False
    observations: tuple[Observation, ...] = ()
    note: str = ""
    recorded_by: str = ""
    entry_ref: str = ""
    override_reason: str = ""  # given despite a warning (consent, a hand, pressure): why
    precautions_confirmed: bool = True
    recorded_at: datetime | None = None  # when the entry was made, local time

    def __post_init__(self) -> None:
        _freeze(self, "observations")
        for scale, names in (
            (RELAXATION, ("relaxation_before", "relaxation_after")),
            (MOOD, ("mood_before", "mood_after")),
            (SLEEP, ("sleep_before", "sleep_after")),
        ):
            for name in names:
                value = getattr(self, name).value
                if value is not None and not scale.low <= value <= scale.high:
                    raise ValueError(f"{name}={value} is outside {scale.low}-{scale.high}")

    @property
    def given(self) -> bool:
        """Return True if a massage took place, whole or in part."""
        return self.outcome in ("completed", "stopped_early")

    @property
    def observer_rated(self) -> bool:
        """Return True if any rating of this session was given by an observer."""
        return any(r.value is not None and r.rater == "observer" for r in self.ratings())

    def ratings(self) -> tuple[Rating, ...]:
        """Return all six ratings in table order."""
        return (
            self.relaxation_before,
            self.relaxation_after,
            self.mood_before,
            self.mood_after,
            self.sleep_before,
            self.sleep_after,
        )


@dataclass(frozen=True, slots=True)
class Correction:
    """A correction or void made during the month, with its reason."""

    at: datetime
    by: str
    entry: str
    kind: CorrectionKind
    reason: str
    change: str = ""


@dataclass(frozen=True, slots=True)
class SleepNight:
    """Sleep for the night that began on night_of, and whether a massage was given that day."""

    night_of: date
    value: int | None
    massage_that_day: bool
    conflict: tuple[int, ...] = ()  # every rating given for the night, when they disagree

    def __post_init__(self) -> None:
        _freeze(self, "conflict")


@dataclass(frozen=True, slots=True)
class FactChange:
    """A change to the resident's record or consent during the month: when, what and why."""

    day: date
    what: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Resident:
    """Who the report is about."""

    full_name: str
    preferred_name: str
    room: str
    date_of_birth: date | None


@dataclass(frozen=True, slots=True)
class Consent:
    """The consent in force: who decided and how, when, when to review, and its scope."""

    basis: ConsentBasis
    decided_by: str
    decided_on: date
    review_on: date | None
    scope: str
    given: bool = True

    @property
    def decision(self) -> str:
        """What was decided, as printed: the scope consented to, or the refusal."""
        return self.scope if self.given else "DOES NOT CONSENT to hand massage"


@dataclass(frozen=True, slots=True)
class Precautions:
    """Resident-level precautions: short labels plus free text."""

    labels: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        _freeze(self, "labels")


@dataclass(frozen=True, slots=True)
class AuditFingerprint:
    """The audit chain's head hash and entry count when the report was made."""

    head_hash: str
    entry_count: int


@dataclass(frozen=True, slots=True)
class ResidentReport:
    """Everything printed in one resident's monthly report."""

    home_name: str
    ward_name: str
    resident: Resident
    month: Month
    consent: Consent | None
    precautions: Precautions
    planned_sessions: int
    sessions: tuple[SessionRow, ...]
    corrections: tuple[Correction, ...]
    sleep_nights: tuple[SleepNight, ...]
    generated_by: str
    generated_at: datetime
    timezone: str
    fingerprint: AuditFingerprint
    page_size: PageSize = "A4"
    admitted_on: date | None = None
    departed_on: date | None = None
    departure_reason: str = ""
    weekly_target: int | None = None
    usual_product: str = ""  # the preferred product in force; a session row names any other
    fact_changes: tuple[FactChange, ...] = ()  # during the month; the header shows its start
    figures_to: date | None = None  # set while the month is still running: the last day counted
    excluded_days: tuple[tuple[str, int], ...] = ()  # days left out of "planned", and why
    plan: tuple[tuple[str, str], ...] = ()  # the person-centred plan in force, (label, words)
    communication: tuple[tuple[str, str], ...] = ()  # communication needs in force, likewise
    photo: bytes | None = None  # the JPEG the record showed at the end of the period (if any)
    report_id: str = ""  # printed on every page; the download's audit entry names it
    verify_url: str = ""  # the integrity page for this report, printed as a QR code

    def __post_init__(self) -> None:
        _freeze(self, "sessions", "corrections", "sleep_nights", "fact_changes")
        object.__setattr__(self, "sessions", tuple(sorted(self.sessions, key=lambda s: s.start)))

    @property
    def counted_sessions(self) -> tuple[SessionRow, ...]:
        """Return the sessions that enter statistics: all but the voided ones."""
        return tuple(s for s in self.sessions if not s.voided)


@dataclass(frozen=True, slots=True)
class BatchReport:
    """Monthly reports for every resident of a ward, or of the whole home when ward_name is None."""

    home_name: str
    ward_name: str | None
    month: Month
    residents: tuple[ResidentReport, ...]
    generated_by: str
    generated_at: datetime
    timezone: str
    fingerprint: AuditFingerprint
    page_size: PageSize = "A4"
    figures_to: date | None = None
    report_id: str = ""
    verify_url: str = ""

    def __post_init__(self) -> None:
        _freeze(self, "residents")

    @property
    def scope_label(self) -> str:
        """Return the ward name, or "Whole home"."""
        return self.ward_name or "Whole home"


def printed_code_address(root: str, report_id: str, checkpoint: str) -> str:
    """What a report's QR code holds: `root` (the integrity check's …/audit/qr/ address), then
    the report id and the checkpoint in capitals. A QR code holds capitals, digits and a few
    signs in 5.5 bits each instead of 8, so the code on the page is two or three sizes smaller
    (45 modules a side instead of 53 for https://carelog.example.org, in the same 11 mm) and
    easier for a phone to read."""
    return f"{root}{report_id.upper()}/{checkpoint.upper()}"
