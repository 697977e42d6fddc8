"""The database tables of a home: wards, staff, residents, consent and sign-in sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carelog.database import utcnow
from carelog.extensions import db


class Role(enum.StrEnum):
    """What a member of staff may do; each route names the roles it admits."""

    NURSE = "nurse"
    CARE_MANAGER = "care_manager"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role as staff say it."""
        return self.value.replace("_", " ").capitalize()


class ConsentDecider(enum.StrEnum):
    """Who made a consent decision (Mental Capacity Act 2005)."""

    RESIDENT = "resident"
    BEST_INTERESTS = "best_interests"
    LASTING_POWER_OF_ATTORNEY = "lpa"


class Ward(db.Model):
    """A ward (unit, floor) of the home; residents and nurses belong to one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.name


class User(UserMixin, db.Model):
    """A named member of staff; deactivated, never deleted, so every entry stays attributable."""

    __table_args__ = (
        CheckConstraint("role IN ('nurse','care_manager','auditor','admin')", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    registration_number: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ward: Mapped[Ward | None] = relationship()

    # Set when the user is loaded for a request: the sign-in session it came with.
    login_token = None

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts."""
        return self.active

    def get_id(self) -> str | None:
        """Identify the sign-in session, not the user, so that signing out can revoke it."""
        return self.login_token

    def __str__(self) -> str:
        return self.full_name


class LoginSession(db.Model):
    """A server-side record of one sign-in, checked on every request and revocable."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


class Resident(db.Model):
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
    avoid_left_hand: Mapped[bool] = mapped_column(default=False)
    avoid_right_hand: Mapped[bool] = mapped_column(default=False)
    light_pressure_only: Mapped[bool] = mapped_column(default=False)
    allergies: Mapped[str | None] = mapped_column(String(300))
    precaution_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ward: Mapped[Ward] = relationship()
    consents: Mapped[list[Consent]] = relationship(
        back_populates="resident", order_by="Consent.id.desc()"
    )

    @property
    def display_name(self) -> str:
        """The name staff use, with the preferred name where there is one."""
        first = self.preferred_name or self.given_name
        return f"{first} {self.family_name}"

    @property
    def full_name(self) -> str:
        """The name on the record."""
        return f"{self.given_name} {self.family_name}"

    def has_left(self, on: date) -> bool:
        """True if the resident had departed by the given day."""
        return self.departed_on is not None and self.departed_on <= on


class Consent(db.Model):
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

    def is_valid_on(self, day: date) -> bool:
        """True if this decision permits massage on the given day."""
        return self.consent_given and self.decided_on <= day <= self.review_on


class ReportJob(db.Model):
    """A ward or whole-home batch being made in the background, with its progress and result."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    month: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    pdf: Mapped[bytes | None] = mapped_column(db.LargeBinary, deferred=True)

    requested_by: Mapped[User] = relationship()
    ward: Mapped[Ward | None] = relationship()
