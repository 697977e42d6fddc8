"""The audit trail's table: one link of the chain per entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carelog.extensions import Model

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


HASHED_FIELDS = (
    "id",
    "recorded_at",
    "actor_id",
    "actor",
    "action",
    "entity",
    "entity_id",
    "resident_id",
    "old_values",
    "new_values",
    "reason",
    "ip",
    "user_agent",
    "prev_hash",
)


class AuditEntry(Model):
    """One link of the chain: who did what, when, why and from where."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    recorded_at: Mapped[str] = mapped_column(String(27), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    resident_id: Mapped[int | None] = mapped_column(index=True)
    old_values: Mapped[str | None] = mapped_column(Text)
    new_values: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def recorded_at_utc(self) -> datetime:
        """The server time of the entry as an aware datetime."""
        return datetime.strptime(self.recorded_at, TIMESTAMP_FORMAT).replace(tzinfo=UTC)

    @property
    def old(self) -> dict[str, Any]:
        """The values before the change."""
        return json.loads(self.old_values) if self.old_values else {}

    @property
    def new(self) -> dict[str, Any]:
        """The values after the change."""
        return json.loads(self.new_values) if self.new_values else {}
