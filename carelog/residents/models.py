"""Residents and their consent decisions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Subquery,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import BindParameter

from carelog.accounts.models import User, Ward
from carelog.database import utcnow
from carelog.extensions import Model


def deferral_applies(defer_sessions: bool | None, defer_until: date | None, day: date) -> bool:
    """Sessions are deferred on a day when the plan says so, up to and including its last day.
    One rule for the board, the form, the check at saving and the report's planning."""
    return bool(defer_sessions) and (defer_until is None or day <= defer_until)


class Resident(Model):
    """A person living in the home, with the precautions a nurse must see before a session."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    given_name: Mapped[str] = mapped_column(String(80))
    family_name: Mapped[str] = mapped_column(String(80))
    preferred_name: Mapped[str | None] = mapped_column(String(80))
    room: Mapped[str] = mapped_column(String(20))
    date_of_birth: Mapped[date]
    local_identifier: Mapped[str | None] = mapped_column(String(40), unique=True)
    admitted_on: Mapped[date]
    departed_on: Mapped[date | None]
    departure_reason: Mapped[str | None] = mapped_column(String(200))
    preferred_product: Mapped[str] = mapped_column(
        String(120), default="Own fragrance-free emollient"
    )
    sessions_per_week: Mapped[int] = mapped_column(default=3)
    defer_sessions: Mapped[bool] = mapped_column(default=False)
    defer_reason: Mapped[str | None] = mapped_column(String(200))
    defer_until: Mapped[date | None]  # the last day deferred; none means until further notice
    avoid_left_hand: Mapped[bool] = mapped_column(default=False)
    avoid_right_hand: Mapped[bool] = mapped_column(default=False)
    light_pressure_only: Mapped[bool] = mapped_column(default=False)
    allergies: Mapped[str | None] = mapped_column(String(300))
    precaution_notes: Mapped[str | None] = mapped_column(Text)
    # The person-centred plan (residents/plan.py): when and how the person likes a massage,
    # what helps, how they show discomfort, and their communication needs.
    plan_days: Mapped[str | None] = mapped_column(String(30))  # "mon,wed,fri"; none: any day
    plan_times: Mapped[str | None] = mapped_column(String(30))  # "morning,evening"
    plan_hand: Mapped[str | None] = mapped_column(String(5))
    plan_likes: Mapped[str | None] = mapped_column(Text)
    plan_dislikes: Mapped[str | None] = mapped_column(Text)
    plan_at_ease: Mapped[str | None] = mapped_column(Text)
    plan_discomfort: Mapped[str | None] = mapped_column(Text)
    communication_hearing: Mapped[str | None] = mapped_column(String(300))
    communication_sight: Mapped[str | None] = mapped_column(String(300))
    communication_language: Mapped[str | None] = mapped_column(String(300))
    communication_understanding: Mapped[str | None] = mapped_column(String(300))
    # The photo that identifies the resident now (none until they or their representative agree);
    # every photo ever shown is kept in resident_photo, and each version records which it was.
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("resident_photo.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ward: Mapped[Ward] = relationship()
    consents: Mapped[list[Consent]] = relationship(
        back_populates="resident", order_by="[Consent.decided_on.desc(), Consent.id.desc()]"
    )

    @property
    def display_name(self) -> str:
        """The name staff use, with the preferred name where there is one."""
        first = self.preferred_name or self.given_name
        return f"{first} {self.family_name}"

    @property
    def known_as(self) -> str:
        """The preferred name with the name on the record, for lists where both matter:
        "Peggy (Margaret Hughes)", or just "Margaret Hughes" when there is no other name."""
        if self.preferred_name and self.preferred_name != self.given_name:
            return f"{self.preferred_name} ({self.full_name})"
        return self.full_name

    @property
    def full_name(self) -> str:
        """The name on the record."""
        return f"{self.given_name} {self.family_name}"

    @property
    def current_consent(self) -> Consent | None:
        """The latest decision (by its date, then by when it was recorded); None if none."""
        return self.consents[0] if self.consents else None

    def consent_on(self, day: date) -> Consent | None:
        """The decision in force on a day: the latest decided on or before it (by its date, then
        by when it was recorded). `Consent.in_force_on` says the same in SQL."""
        return next((c for c in self.consents if c.decided_on <= day), None)

    def deferred_on(self, day: date) -> bool:
        """True if the plan defers sessions on that day."""
        return deferral_applies(self.defer_sessions, self.defer_until, day)

    def has_left(self, on: date) -> bool:
        """True if the resident had departed by the given day."""
        return self.departed_on is not None and self.departed_on <= on


class Consent(Model):
    """One consent decision; history is kept and the newest record is the current one."""

    __table_args__ = (
        CheckConstraint("decided_by IN ('resident','best_interests','lpa')", "decided_by"),
        CheckConstraint("scope_hands IN ('both','left','right')", "scope_hands"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    decided_by: Mapped[str] = mapped_column(String(20))
    decision_maker: Mapped[str | None] = mapped_column(String(120))
    consent_given: Mapped[bool]
    decided_on: Mapped[date]
    review_on: Mapped[date]
    scope_hands: Mapped[str] = mapped_column(String(10), default="both")
    scope_products: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    resident: Mapped[Resident] = relationship(back_populates="consents")
    recorded_by: Mapped[User] = relationship()

    @classmethod
    def in_force_on(cls, day: date | BindParameter) -> Subquery:
        """In SQL: (resident_id, id) of each resident's decision in force on a day, chosen as
        `Resident.consent_on` chooses it, in one pass over the decisions, so that a list of
        residents loads one decision each rather than every resident's whole history."""
        ranked = (
            select(
                cls.id,
                cls.resident_id,
                func.row_number()
                .over(partition_by=cls.resident_id, order_by=(cls.decided_on.desc(), cls.id.desc()))
                .label("rank"),
            )
            .where(cls.decided_on <= day)
            .subquery()
        )
        return select(ranked.c.resident_id, ranked.c.id).where(ranked.c.rank == 1).subquery()

    def is_valid_on(self, day: date) -> bool:
        """True if this decision permits massage on the given day."""
        return self.consent_given and self.decided_on <= day <= self.review_on


class ResidentVersion(Model):
    """The resident's record as it stood after each change: the history of allergies, precautions,
    ward, room and departure, with who changed it, when and why. Never changed or deleted.

    The audit trail keeps only fingerprints of the free text; the words are kept here.
    """

    __table_args__ = (UniqueConstraint("resident_id", "version_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    version_no: Mapped[int]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    values: Mapped[dict] = mapped_column(JSON)

    recorded_by: Mapped[User | None] = relationship()


class ResidentPhoto(Model):
    """A photo that identifies a resident: resized, stripped of metadata, never changed or
    deleted (a new photo, or none, is a new version of the resident's record)."""

    __table_args__ = (CheckConstraint("agreed_by IN ('resident','representative')", "agreed_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    agreed_by: Mapped[str] = mapped_column(String(20))  # who agreed to the photo being kept
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
