"""A resident's record as it stood after each change, and what each change altered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carelog.extensions import db
from carelog.residents.models import ResidentVersion
from carelog.residents.plan import PLAN_LABELS


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


FACT_LABELS = {
    "room": "Room",
    "ward_id": "Ward",
    "sessions_per_week": "Weekly target",
    "defer_sessions": "Sessions deferred",
    "defer_reason": "Why deferred",
    "defer_until": "Deferred until",
    "avoid_left_hand": "Avoid left hand",
    "avoid_right_hand": "Avoid right hand",
    "light_pressure_only": "Light pressure only",
    "allergies": "Allergies",
    "precaution_notes": "Precaution notes",
    "preferred_product": "Preferred product",
    "preferred_name": "Known as",
    "admitted_on": "Admitted",
    "departed_on": "Left",
    "departure_reason": "Reason for leaving",
    **PLAN_LABELS,
}


def versions_by_resident(resident_ids: list[int]) -> dict[int, list[ResidentVersion]]:
    """Every resident's versions, oldest first, in one query."""
    found: dict[int, list[ResidentVersion]] = {i: [] for i in resident_ids}
    if not resident_ids:
        return found
    for version in db.session.scalars(
        select(ResidentVersion)
        .where(ResidentVersion.resident_id.in_(resident_ids))
        .order_by(ResidentVersion.resident_id, ResidentVersion.version_no)
    ):
        found[version.resident_id].append(version)
    return found


def in_force(versions: list[ResidentVersion], moment: datetime) -> dict[str, Any] | None:
    """The record as it stood at `moment`; the earliest known if it was entered later."""
    if not versions:
        return None
    standing = [v for v in versions if v.recorded_at <= moment]
    chosen = standing[-1] if standing else versions[0]
    return _typed(chosen.values)


def changed_between(
    versions: list[ResidentVersion], start: datetime, end: datetime
) -> list[tuple[ResidentVersion, dict[str, tuple[Any, Any]]]]:
    """Versions recorded in [start, end), each with the reported facts it changed."""
    found = []
    for before, after in zip(versions, versions[1:], strict=False):
        if start <= after.recorded_at < end:
            old, new = _typed(before.values), _typed(after.values)
            changed = {k: (old.get(k), new.get(k)) for k in FACT_LABELS if old.get(k) != new.get(k)}
            if changed:
                found.append((after, changed))
    return found


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """Stored JSON values with their dates as dates again."""
    typed = dict(values)
    for key in ("date_of_birth", "admitted_on", "departed_on", "defer_until"):
        if isinstance(typed.get(key), str):
            typed[key] = date.fromisoformat(typed[key])
    return typed
