"""Ward tablets enrolled by a care manager or admin: the device a quick switch by PIN needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carelog.accounts.models import User, Ward
from carelog.database import utcnow
from carelog.extensions import Model


class Tablet(Model):
    """A ward's shared tablet, known by a long-lived secret kept in its browser's cookie.

    Only the secret's hash is stored. Revoked, never deleted: the trail and every sign-in
    session on it keep naming it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(300))

    ward: Mapped[Ward] = relationship()
    enrolled_by: Mapped[User] = relationship(foreign_keys=[enrolled_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def __str__(self) -> str:
        return self.name
