"""From the database to report data: a resident's month, or a ward's, in a few queries."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from carelog.accounts.models import User, Ward
from carelog.audit import chain
from carelog.database import existing, utcnow
from carelog.extensions import db
from carelog.local_time import home_zone, local, local_today, month_bounds
from carelog.reports import document as rm
from carelog.reports.month import Month
from carelog.reports.month_rows import (
    corrections_touching,
    ever_in_month,
    first_day_after,
    month_sessions,
    what_changed,
)
from carelog.reports.planning import planning
from carelog.reports.rows import (
    consent_changes,
    consent_for_month,
    fact_change,
    precautions_of,
    session_row,
    sleep_nights,
)
from carelog.residents import history
from carelog.residents.models import Resident, ResidentPhoto
from carelog.residents.plan import communication_needs, plan_lines


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
    if resident_id is not None:
        query = query.where(Resident.id == resident_id)
    people = list(db.session.scalars(query))
    if ward_id is not None:  # the ward as it was that month, not as it is now
        start, end = month_bounds(month)
        versions = history.versions_by_resident([p.id for p in people])
        people = [p for p in people if ward_id in _wards_during(p, versions[p.id], start, end)]
    # Sorted here, not by the database, so every database and collation gives one order.
    return sorted(people, key=lambda r: (name_key(r.family_name), name_key(r.given_name)))


def _wards_during(person: Resident, versions, start, end) -> set[int]:
    """Every ward the resident belonged to at some time in [start, end)."""
    if not versions:
        return {person.ward_id}
    opening = history.in_force(versions, start)
    wards = {opening["ward_id"]} if opening else set()
    return wards | {v.values["ward_id"] for v in versions if start <= v.recorded_at < end}


def resident_ids(month: Month, ward_id: int | None) -> list[int]:
    """The residents a batch of this month and ward (or the whole home) includes."""
    return [person.id for person in _residents(ward_id, None, month)]


def _fact_changes(person: Resident, month: Month, versions, ward_names) -> tuple:
    """Changes to the record and consent that took effect during the month, in date order."""
    start, end = month_bounds(month)
    changes = [
        fact_change(local(v.recorded_at).date(), changed, v.reason, ward_names)
        for v, changed in history.changed_between(versions, start, end)
    ]
    return tuple(sorted(changes + consent_changes(person, month), key=lambda c: c.day))


def _figures_to(month: Month):
    """Today, while the month is still running (its figures stop there); None once it is over."""
    today = local_today()
    return today if month.first_day <= today <= month.last_day else None


def _generated(user_name: str):
    zone = home_zone()
    digest, count = chain.head(db.session)
    return (
        user_name,
        datetime.now(zone).replace(tzinfo=None, microsecond=0),
        str(zone),
        rm.AuditFingerprint(digest, count),
    )


def _photos(photo_ids) -> dict[int, bytes]:
    """The photos the reports show, in one query."""
    wanted = {int(i) for i in photo_ids if i}
    if not wanted:
        return {}
    found = db.session.execute(
        select(ResidentPhoto.id, ResidentPhoto.jpeg).where(ResidentPhoto.id.in_(wanted))
    )
    return dict(found.tuples().all())


def build(
    month: Month, generated_by: str, ward_id: int | None = None, resident_id: int | None = None
) -> list[rm.ResidentReport]:
    """Report data for every resident in scope, in a fixed number of queries."""
    people = _residents(ward_id, resident_id, month)
    ids = [p.id for p in people]
    sessions = month_sessions(ids, month)
    session_ids = [cs.id for rows in sessions.values() for _, cs in rows]
    next_first = first_day_after(ids, month)
    changes = corrections_touching(ids, month, sorted(set(session_ids) | ever_in_month(ids, month)))
    names: dict[int, str] = dict(db.session.execute(select(User.id, User.full_name)).tuples().all())
    corrected_ids = {
        v.session_id for pairs in changes.values() for v, _ in pairs if v.kind == "correction"
    }
    by, at, zone, fingerprint = _generated(generated_by)
    config = current_app.config
    versions = history.versions_by_resident(ids)
    ward_names: dict[int, str] = dict(db.session.execute(select(Ward.id, Ward.name)).tuples().all())
    start, end = month_bounds(month)
    until = _figures_to(month)
    standing = {
        person.id: history.in_force(versions[person.id], start) or chain.snapshot(person)
        for person in people
    }
    # The photo is the one the record showed at the end of what the report covers: it
    # identifies the person the sessions were given to, as staff saw them then.
    shown_until = min(end, utcnow())
    photo_of = {
        person.id: (history.in_force(versions[person.id], shown_until) or {}).get("photo_id")
        for person in people
    }
    photos = _photos(photo_of.values())
    reports = []
    for person in people:
        rows = sessions.get(person.id, [])
        facts = standing[person.id]
        plan = planning(person, month, versions[person.id], until)
        reports.append(
            rm.ResidentReport(
                home_name=config["CARELOG_HOME_NAME"],
                ward_name=ward_names.get(facts["ward_id"], person.ward.name),
                resident=rm.Resident(
                    person.full_name,
                    facts.get("preferred_name") or "",
                    facts["room"],
                    person.date_of_birth,
                ),
                month=month,
                consent=consent_for_month(person, month),
                precautions=precautions_of(facts),
                planned_sessions=plan.planned,
                excluded_days=plan.excluded,
                figures_to=until,
                admitted_on=person.admitted_on,
                departed_on=person.departed_on,
                departure_reason=person.departure_reason or "",
                weekly_target=facts["sessions_per_week"],
                usual_product=facts.get("preferred_product") or "",
                plan=tuple((line.label, line.text) for line in plan_lines(facts)),
                communication=tuple((line.label, line.text) for line in communication_needs(facts)),
                photo=photos.get(photo_of[person.id] or 0),
                fact_changes=_fact_changes(person, month, versions[person.id], ward_names),
                sessions=tuple(
                    session_row(
                        v,
                        names.get(cs.recorded_by_id, ""),
                        cs.id in corrected_ids,
                        names,
                        cs.recorded_at,
                    )
                    for v, cs in rows
                ),
                corrections=tuple(
                    rm.Correction(
                        at=local(v.created_at).replace(tzinfo=None),
                        by=names.get(v.created_by_id, ""),
                        entry="Session of " + local(v.occurred_at).strftime("%a %d %b %H:%M"),
                        kind=v.kind,
                        reason=v.reason or "",
                        change=what_changed(v, before),
                    )
                    for v, before in changes.get(person.id, [])
                ),
                sleep_nights=sleep_nights(
                    person, month, rows, until, next_first.get(person.id, [])
                ),
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
        figures_to=_figures_to(month),
    )
