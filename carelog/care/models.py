"""The clinical record of hand-massage sessions: an identity row and append-only versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from carelog.accounts.models import User
from carelog.care.content import SessionContent
from carelog.care.vocabulary import GIVEN, VersionKind
from carelog.database import utcnow
from carelog.extensions import Model
from carelog.residents.models import Resident


class CareSession(Model):
    """One massage session's identity: whose it is and who first recorded it, when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_version: Mapped[int] = mapped_column(default=1)

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
        Index("ix_care_session_version_occurred_at", "occurred_at"),
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
