"""From the database to report data: a resident's month, or a ward's, in a few queries."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from carelog.accounts.models import User, Ward
from carelog.audit import chain
from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import current_versions
from carelog.care.versions import comparison
from carelog.care.vocabulary import VersionKind
from carelog.database import existing
from carelog.extensions import db
from carelog.local_time import home_zone, local, month_bounds
from carelog.reports import document as rm
from carelog.reports.month import Month
from carelog.reports.rows import (
    consent_of,
    planned_sessions,
    precautions_of,
    session_row,
    sleep_nights,
)
from carelog.residents.models import Resident


def name_key(name: str) -> str:
    """A sort key that files Ó Súilleabháin under O and Łucja under L."""
    decomposed = unicodedata.normalize("NFKD", name.replace("Ł", "L").replace("ł", "l"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _residents(ward_id: int | None, resident_id: int | None, month: Month) -> list[Resident]:
    query = (
        select(Resident)
        .options(selectinload(Resident.consents), selectinload(Resident.ward))
        .where(
            Resident.admitted_on <= month.last_day,
            or_(Resident.departed_on.is_(None), Resident.departed_on >= month.first_day),
        )
    )
    if ward_id is not None:
        query = query.where(Resident.ward_id == ward_id)
    if resident_id is not None:
        query = query.where(Resident.id == resident_id)
    # Sorted here, not by the database, so every database and collation gives one order.
    return sorted(
        db.session.scalars(query), key=lambda r: (name_key(r.family_name), name_key(r.given_name))
    )


def _month_sessions(resident_ids: list[int], month: Month):
    start, end = month_bounds(month)
    rows = db.session.execute(
        current_versions(CareSession, include_voided=True).where(
            CareSession.resident_id.in_(resident_ids),
            CareSessionVersion.occurred_at >= start,
            CareSessionVersion.occurred_at < end,
        )
    ).all()
    by_resident = defaultdict(list)
    for version, care_session in rows:
        by_resident[care_session.resident_id].append((version, care_session))
    return by_resident


def _changes(resident_ids: list[int], month: Month, session_ids: list[int]):
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


def _what_changed(version: CareSessionVersion, before: CareSessionVersion | None) -> str:
    if version.kind == VersionKind.VOID or before is None:
        return ""
    rows = comparison([before, version])
    return "; ".join(
        f"{r.label}: {r.values[0] or '–'} → {r.values[1] or '–'}" for r in rows if r.ever_changed
    )


def _generated(user_name: str):
    zone = home_zone()
    digest, count = chain.head(db.session)
    return (
        user_name,
        datetime.now(zone).replace(tzinfo=None, microsecond=0),
        str(zone),
        rm.AuditFingerprint(digest, count),
    )


def build(
    month: Month, generated_by: str, ward_id: int | None = None, resident_id: int | None = None
) -> list[rm.ResidentReport]:
    """Report data for every resident in scope, in a fixed number of queries."""
    people = _residents(ward_id, resident_id, month)
    ids = [p.id for p in people]
    sessions = _month_sessions(ids, month)
    session_ids = [cs.id for rows in sessions.values() for _, cs in rows]
    changes = _changes(ids, month, session_ids)
    names: dict[int, str] = dict(db.session.execute(select(User.id, User.full_name)).tuples().all())
    corrected_ids = {
        v.session_id for pairs in changes.values() for v, _ in pairs if v.kind == "correction"
    }
    by, at, zone, fingerprint = _generated(generated_by)
    config = current_app.config
    reports = []
    for person in people:
        rows = sessions.get(person.id, [])
        reports.append(
            rm.ResidentReport(
                home_name=config["CARELOG_HOME_NAME"],
                ward_name=person.ward.name,
                resident=rm.Resident(
                    person.full_name,
                    person.preferred_name or "",
                    person.room,
                    person.date_of_birth,
                ),
                month=month,
                consent=consent_of(person),
                precautions=precautions_of(person),
                planned_sessions=planned_sessions(person, month),
                sessions=tuple(
                    session_row(v, names.get(cs.recorded_by_id, ""), cs.id in corrected_ids, names)
                    for v, cs in rows
                ),
                corrections=tuple(
                    rm.Correction(
                        at=local(v.created_at).replace(tzinfo=None),
                        by=names.get(v.created_by_id, ""),
                        entry="Session of " + local(v.occurred_at).strftime("%a %d %b %H:%M"),
                        kind=v.kind,
                        reason=v.reason or "",
                        change=_what_changed(v, before),
                    )
                    for v, before in changes.get(person.id, [])
                ),
                sleep_nights=sleep_nights(person, month, rows),
                generated_by=by,
                generated_at=at,
                timezone=zone,
                fingerprint=fingerprint,
                page_size="letter" if config["CARELOG_PAGE_SIZE"].lower() == "letter" else "A4",
            )
        )
    return reports


def batch(month: Month, generated_by: str, ward_id: int | None) -> rm.BatchReport:
    """A ward's (or, with no ward, the whole home's) month as one batch."""
    reports = build(month, generated_by, ward_id=ward_id)
    ward_name = existing(db.session, Ward, ward_id).name if ward_id else None
    first = reports[0] if reports else None
    by, at, zone, fingerprint = (
        (first.generated_by, first.generated_at, first.timezone, first.fingerprint)
        if first
        else _generated(generated_by)
    )
    return rm.BatchReport(
        home_name=current_app.config["CARELOG_HOME_NAME"],
        ward_name=ward_name,
        month=month,
        residents=tuple(reports),
        generated_by=by,
        generated_at=at,
        timezone=zone,
        fingerprint=fingerprint,
        page_size="letter" if current_app.config["CARELOG_PAGE_SIZE"].lower() == "letter" else "A4",
    )
