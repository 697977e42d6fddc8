"""Whole-ward report batches made in the background."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carelog.accounts.models import User, Ward
from carelog.database import utcnow
from carelog.extensions import Model, db


class ReportJob(Model):
    """A ward or whole-home batch being made in the background, with its progress and result."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    month: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    checkpoint: Mapped[str | None] = mapped_column(String(80))  # printed on the batch: HASH:COUNT
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    pdf: Mapped[bytes | None] = mapped_column(db.LargeBinary, deferred=True)

    requested_by: Mapped[User] = relationship()
    ward: Mapped[Ward | None] = relationship()
