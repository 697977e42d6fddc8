"""Wards, staff accounts and their sign-in sessions."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carelog.database import utcnow
from carelog.extensions import Model


class Ward(Model):
    """A ward (unit, floor) of the home; residents and nurses belong to one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.name


class User(UserMixin, Model):
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
    # A new account with clinical access waits until someone other than its creator approves it.
    awaiting_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    failed_sign_ins: Mapped[int] = mapped_column(default=0)  # within the window, at the last try
    locked_until: Mapped[datetime | None]
    # Failed sign-ins before this moment no longer count (a success, a lock or an unlock).
    failures_counted_from: Mapped[datetime | None]
    # Set when someone else chose the password (an admin): its owner chooses their own at the
    # next sign-in, before anything else, so that nobody else knows it.
    must_choose_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A PIN for the quick switch on an enrolled ward tablet, hashed like a password. Wrong PINs
    # since the last full sign-in: at the limit, only the password opens the account again.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ward: Mapped[Ward | None] = relationship()

    # Set when the user is loaded for a request: the sign-in session it came with.
    login_token = cast("str | None", None)

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts and those not yet approved."""
        return self.active and not self.awaiting_approval

    def locked_at(self, now: datetime) -> bool:
        """True while a lockout for too many failed sign-ins lasts."""
        return self.locked_until is not None and self.locked_until > now

    def get_id(self) -> str | None:
        """Identify the sign-in session, not the user, so that signing out can revoke it."""
        return self.login_token

    def __str__(self) -> str:
        return self.full_name


class LoginSession(Model):
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
    # The enrolled tablet it was started on (revoking the tablet ends it), and how: a full
    # sign-in with the password, or a quick switch by PIN.
    tablet_id: Mapped[int | None] = mapped_column(ForeignKey("tablet.id"))
    method: Mapped[str] = mapped_column(String(10), default="password", server_default="password")
    # A session started by PIN ends when the PIN stops working: its nurse's last full sign-in on
    # the tablet, plus the PIN's hours.
    ends_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    # By name: the tablets capability builds on accounts, never the other way round.
    tablet = relationship("Tablet")

    __table_args__ = (Index("ix_login_session_tablet_user", "tablet_id", "user_id"),)


class SignInFailure(Model):
    """A failed sign-in, kept for the throttle's window (not a record: pruned after a day).

    The audit trail keeps every attempt for good; this table only answers "how many failures
    from this address lately", for every gunicorn worker at once.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client: Mapped[str] = mapped_column(String(45))
    username: Mapped[str] = mapped_column(String(40))

    __table_args__ = (
        Index("ix_sign_in_failure_client_at", "client", "at"),
        Index("ix_sign_in_failure_username_at", "username", "at"),
    )


class AccessRequest(Model):
    """Clinical access asked for by an admin: a new account or a role, until someone else decides.

    Separation of duties: whoever asks cannot approve, and nobody approves their own access.
    """

    __table_args__ = (
        CheckConstraint("kind IN ('new_account','role_change')", "kind"),
        CheckConstraint("role IN ('nurse','care_manager','auditor','admin')", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    approved: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
