"""The queries behind a report month: its sessions, the 1st of the next (for sleep), and the
corrections that touch it, each one query for all the residents in scope."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import and_, or_, select

from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import current_versions
from carelog.care.versions import comparison
from carelog.care.vocabulary import VersionKind
from carelog.extensions import db
from carelog.local_time import local_day_bounds, month_bounds
from carelog.reports.month import Month


def _by_resident(rows) -> defaultdict[int, list]:
    """(version, session) rows grouped by resident."""
    by_resident: defaultdict[int, list] = defaultdict(list)
    for version, care_session in rows:
        by_resident[care_session.resident_id].append((version, care_session))
    return by_resident


def month_sessions(resident_ids: list[int], month: Month):
    start, end = month_bounds(month)
    rows = db.session.execute(
        current_versions(CareSession, include_voided=True).where(
            CareSession.resident_id.in_(resident_ids),
            CareSessionVersion.occurred_at >= start,
            CareSessionVersion.occurred_at < end,
        )
    ).all()
    return _by_resident(rows)


def first_day_after(resident_ids: list[int], month: Month):
    """Sessions on the 1st of the next month: their before-sleep rates this month's last night."""
    _, end = month_bounds(month)
    _, first_end = local_day_bounds(month.last_day + timedelta(days=1))
    rows = db.session.execute(
        current_versions(CareSession).where(
            CareSession.resident_id.in_(resident_ids),
            CareSessionVersion.occurred_at >= end,
            CareSessionVersion.occurred_at < first_end,
        )
    ).all()
    return _by_resident(rows)


def ever_in_month(resident_ids: list[int], month: Month) -> set[int]:
    """Sessions any version of which happened in the month: one moved out by a correction is
    still listed among the month's corrections, so a reprint explains why it is gone."""
    start, end = month_bounds(month)
    return set(
        db.session.scalars(
            select(CareSessionVersion.session_id)
            .join(CareSession, CareSession.id == CareSessionVersion.session_id)
            .where(
                CareSession.resident_id.in_(resident_ids),
                CareSessionVersion.occurred_at >= start,
                CareSessionVersion.occurred_at < end,
            )
        )
    )


def corrections_touching(resident_ids: list[int], month: Month, session_ids: list[int]):
    """Corrections and voids made in the month, or touching a session of the month."""
    start, end = month_bounds(month)
    rows = db.session.execute(
        select(CareSessionVersion, CareSession.resident_id)
        .join(CareSession, CareSession.id == CareSessionVersion.session_id)
        .where(
            CareSession.resident_id.in_(resident_ids),
            CareSessionVersion.kind.in_([VersionKind.CORRECTION.value, VersionKind.VOID.value]),
            or_(
                and_(CareSessionVersion.created_at >= start, CareSessionVersion.created_at < end),
                CareSessionVersion.session_id.in_(session_ids),
            ),
        )
        .order_by(CareSessionVersion.created_at)
    ).all()
    earlier = _versions_before(rows)
    by_resident = defaultdict(list)
    for version, resident_id in rows:
        by_resident[resident_id].append((version, earlier.get(version.id)))
    return by_resident


def _versions_before(rows) -> dict[int, CareSessionVersion]:
    """For each correction, the version it replaced: one query for all of them."""
    wanted = {(v.session_id, v.version_no - 1): v.id for v, _ in rows}
    if not wanted:
        return {}
    previous = db.session.scalars(
        select(CareSessionVersion).where(
            CareSessionVersion.session_id.in_({session_id for session_id, _ in wanted})
        )
    )
    return {
        wanted[(p.session_id, p.version_no)]: p
        for p in previous
        if (p.session_id, p.version_no) in wanted
    }


def what_changed(version: CareSessionVersion, before: CareSessionVersion | None) -> str:
    if version.kind == VersionKind.VOID or before is None:
        return ""
    rows = comparison([before, version])
    return "; ".join(
        f"{r.label}: {r.values[0] or '–'} → {r.values[1] or '–'}" for r in rows if r.ever_changed
    )
