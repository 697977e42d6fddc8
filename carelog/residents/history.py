"""A resident's record as it stood after each change, and what each change altered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carelog.extensions import db
from carelog.residents.models import ResidentVersion


@dataclass(frozen=True)
class Change:
    """One version and the fields it changed, as (before, after)."""

    version: ResidentVersion
    changed: dict[str, tuple[Any, Any]]


def changes(resident_id: int) -> list[Change]:
    """Every version of the record, newest first, with what it changed from the one before."""
    versions = db.session.scalars(
        select(ResidentVersion)
        .options(selectinload(ResidentVersion.recorded_by))
        .where(ResidentVersion.resident_id == resident_id)
        .order_by(ResidentVersion.version_no)
    ).all()
    found: list[Change] = []
    before: dict[str, Any] = {}
    for version in versions:
        after = version.values
        changed = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
        found.append(Change(version, changed if before else {}))
        before = after
    return found[::-1]
