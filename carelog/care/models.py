"""The clinical record of hand-massage sessions: what a session records (SessionContent), its
identity row, and the append-only versions that store that content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from carelog.accounts.models import User
from carelog.care.vocabulary import GIVEN, VersionKind
from carelog.database import utcnow
from carelog.extensions import Model
from carelog.residents.models import Resident


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionContent:
    """What a nurse records about one session: the typed payload from the form to the record.

    Its fields are the clinical columns of a session version, by the same names; the record
    adds who, when recorded, the version and whether it was late.
    """

    occurred_at: datetime
    duration_minutes: int | None = None
    given_by_id: int | None = None
    precautions_confirmed: bool = False  # unsaid means no
    override_reason: str | None = None
    hands: str | None = None
    pressure: str | None = None
    product: str | None = None
    assent: str | None = None
    outcome: str
    outcome_reason: str | None = None
    not_done_reason: str | None = None
    observations: str | None = None  # comma-separated codes
    observation_action: str | None = None
    observation_told: str | None = None
    note: str | None = None
    # The nurse was told the same resident had a session of this kind a short while before, and
    # confirmed this is another one (not the same one sent twice).
    repeat_confirmed: bool = False
    # Each rating: a value, or a status saying why there is none; and who rated (self/observer).
    relaxation_before_value: int | None = None
    relaxation_before_status: str | None = None
    relaxation_before_rater: str | None = None
    relaxation_after_value: int | None = None
    relaxation_after_status: str | None = None
    relaxation_after_rater: str | None = None
    mood_before_value: int | None = None
    mood_before_status: str | None = None
    mood_before_rater: str | None = None
    mood_after_value: int | None = None
    mood_after_status: str | None = None
    mood_after_rater: str | None = None
    sleep_before_value: int | None = None
    sleep_before_status: str | None = None
    sleep_before_rater: str | None = None
    sleep_after_value: int | None = None
    sleep_after_status: str | None = None
    sleep_after_rater: str | None = None

    def __post_init__(self) -> None:
        # Unsaid means no: the column is NOT NULL, and a Core insert applies no default.
        object.__setattr__(self, "precautions_confirmed", bool(self.precautions_confirmed))
        object.__setattr__(self, "repeat_confirmed", bool(self.repeat_confirmed))

    @classmethod
    def from_columns(cls, source: Mapping[str, Any] | object) -> SessionContent:
        """The content of a saved version, or of a mapping of column names to values."""
        if isinstance(source, Mapping):
            return cls(**{name: source[name] for name in CONTENT_FIELDS if name in source})
        return cls(**{name: getattr(source, name) for name in CONTENT_FIELDS})

    def columns(self) -> dict[str, Any]:
        """The content as column values, for an insert."""
        return {name: getattr(self, name) for name in CONTENT_FIELDS}

    def changed(self, **changes: Any) -> SessionContent:
        """A copy with some fields changed (a follow-up or a correction)."""
        unknown = set(changes) - set(CONTENT_FIELDS)
        if unknown:
            raise TypeError(f"not session content: {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def rating(self, name: str) -> tuple[int | None, str | None, str | None]:
        """(value, status, rater) of one rating."""
        return (
            getattr(self, f"{name}_value"),
            getattr(self, f"{name}_status"),
            getattr(self, f"{name}_rater"),
        )

    @property
    def given(self) -> bool:
        """True if a massage took place (completed or stopped early)."""
        return self.outcome in GIVEN


CONTENT_FIELDS = tuple(field.name for field in fields(SessionContent))


def standing_at(version_no: int, kind: str, columns: dict[str, Any]) -> dict[str, Any]:
    """A session's current version and what the ward board reads of it, from the columns of
    that version: the one place CareSession's current_* values are worked out."""
    return {
        "current_version": version_no,
        "current_occurred_at": columns["occurred_at"],
        "current_outcome": columns["outcome"],
        "current_kind": kind,
        "current_sleep_after_status": columns["sleep_after_status"],
        "current_not_done_reason": columns["not_done_reason"],
    }


class CareSession(Model):
    """One massage session's identity: whose it is and who first recorded it, when; and which
    version is current.

    Beside the current version's number it keeps that version's time, outcome, kind, night-after
    sleep and reason for not done (set together by `standing_at`, never apart), so that the ward
    board and the overview sum weeks of sessions from one index of this table, without reading a
    version.
    """

    __table_args__ = (
        Index(
            "ix_care_session_current_by_day",
            "current_occurred_at",
            "resident_id",
            "current_outcome",
            "current_kind",
            "current_sleep_after_status",
            "current_not_done_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_version: Mapped[int] = mapped_column(default=1)
    current_occurred_at: Mapped[datetime | None]
    current_outcome: Mapped[str | None] = mapped_column(String(14))
    current_kind: Mapped[str | None] = mapped_column(String(12))
    current_sleep_after_status: Mapped[str | None] = mapped_column(String(14))
    current_not_done_reason: Mapped[str | None] = mapped_column(String(10))

    resident: Mapped[Resident] = relationship()
    recorded_by: Mapped[User] = relationship()
    versions: Mapped[list[CareSessionVersion]] = relationship(
        back_populates="session", order_by="CareSessionVersion.version_no"
    )
    current: Mapped[CareSessionVersion] = relationship(
        primaryjoin=lambda: and_(
            CareSession.id == foreign(CareSessionVersion.session_id),
            CareSession.current_version == foreign(CareSessionVersion.version_no),
        ),
        viewonly=True,
        uselist=False,
    )

    @property
    def current_content(self) -> SessionContent:
        """What the current version records."""
        return self.current.content


class CareSessionVersion(Model):
    """Everything recorded about a session at one point; never updated, only superseded."""

    __table_args__ = (
        UniqueConstraint("session_id", "version_no"),
        # By day, carrying what the board sums up, so that its scan never reads the table.
        Index(
            "ix_care_session_version_by_day",
            "occurred_at",
            "session_id",
            "version_no",
            "outcome",
            "kind",
            "sleep_after_status",
        ),
        Index("ix_care_session_version_created_by_id_created_at", "created_by_id", "created_at"),
        CheckConstraint(
            "outcome IN ('completed','stopped_early','declined','not_done')", "outcome"
        ),
        CheckConstraint("kind IN ('original','follow_up','correction','void')", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("care_session.id"))
    version_no: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    submission_key: Mapped[str] = mapped_column(String(36), unique=True)
    content_digest: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # For an entry saved on a tablet offline and sent later: when the tablet saved it (by the
    # tablet's clock). created_at is when the server received it; occurred_at when care happened.
    saved_on_tablet_at: Mapped[datetime | None]

    occurred_at: Mapped[datetime]
    duration_minutes: Mapped[int | None]
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    late: Mapped[bool] = mapped_column(default=False)
    precautions_confirmed: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    hands: Mapped[str | None] = mapped_column(String(5))
    pressure: Mapped[str | None] = mapped_column(String(6))
    product: Mapped[str | None] = mapped_column(String(120))
    assent: Mapped[str | None] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(14))
    outcome_reason: Mapped[str | None] = mapped_column(String(300))
    not_done_reason: Mapped[str | None] = mapped_column(String(10))
    observations: Mapped[str | None] = mapped_column(String(80))
    observation_action: Mapped[str | None] = mapped_column(Text)
    observation_told: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    repeat_confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Each rating: a value, or a status saying why there is none; and who rated (self/observer).
    relaxation_before_value: Mapped[int | None]
    relaxation_before_status: Mapped[str | None] = mapped_column(String(14))
    relaxation_before_rater: Mapped[str | None] = mapped_column(String(8))
    relaxation_after_value: Mapped[int | None]
    relaxation_after_status: Mapped[str | None] = mapped_column(String(14))
    relaxation_after_rater: Mapped[str | None] = mapped_column(String(8))
    mood_before_value: Mapped[int | None]
    mood_before_status: Mapped[str | None] = mapped_column(String(14))
    mood_before_rater: Mapped[str | None] = mapped_column(String(8))
    mood_after_value: Mapped[int | None]
    mood_after_status: Mapped[str | None] = mapped_column(String(14))
    mood_after_rater: Mapped[str | None] = mapped_column(String(8))
    sleep_before_value: Mapped[int | None]
    sleep_before_status: Mapped[str | None] = mapped_column(String(14))
    sleep_before_rater: Mapped[str | None] = mapped_column(String(8))
    sleep_after_value: Mapped[int | None]
    sleep_after_status: Mapped[str | None] = mapped_column(String(14))
    sleep_after_rater: Mapped[str | None] = mapped_column(String(8))

    session: Mapped[CareSession] = relationship(back_populates="versions")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    given_by: Mapped[User | None] = relationship(foreign_keys=[given_by_id])

    @property
    def voided(self) -> bool:
        """True if this version marks the entry as entered in error."""
        return self.kind == VersionKind.VOID

    @property
    def given(self) -> bool:
        """True if a massage took place (completed or stopped early)."""
        return self.outcome in GIVEN

    def rating(self, name: str) -> tuple[int | None, str | None, str | None]:
        """(value, status, rater) of one rating."""
        return (
            getattr(self, f"{name}_value"),
            getattr(self, f"{name}_status"),
            getattr(self, f"{name}_rater"),
        )

    @property
    def content(self) -> SessionContent:
        """What this version records, as the typed payload."""
        return SessionContent.from_columns(self)

    @property
    def observation_list(self) -> list[str]:
        """The observations as a list."""
        return [o for o in (self.observations or "").split(",") if o]
