"""A care manager's acknowledgement of a session given despite a warning. Never changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carelog.accounts.models import User
from carelog.database import utcnow
from carelog.extensions import Model


class OverrideAcknowledgement(Model):
    """A manager has read the override on this version of a session (a correction that gives a
    new reason is a new version, to be read again). Append-only, like the records it is about."""

    __table_args__ = (UniqueConstraint("session_id", "version_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("care_session.id"))
    version_no: Mapped[int]
    acknowledged_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    acknowledged_by: Mapped[User] = relationship()
