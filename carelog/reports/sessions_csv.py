"""The sessions CSV: one row per session (its current version), for Excel and LibreOffice."""

from __future__ import annotations

import io
from collections.abc import Iterator

from sqlalchemy import select

from carelog.accounts.models import User, Ward
from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import current_versions
from carelog.care.vocabulary import RATINGS, VersionKind
from carelog.extensions import db
from carelog.local_time import local, month_bounds
from carelog.reports.month import Month
from carelog.residents.models import Resident
from carelog.web.spreadsheet import SafeWriter

# The documented column list (README "Exports").
COLUMNS = (
    "session_id",
    "version",
    "resident_id",
    "resident",
    "ward",
    "date",
    "start_time",
    "duration_minutes",
    "given_by",
    "recorded_by",
    "recorded_at",
    "outcome",
    "not_done_reason",
    "outcome_reason",
    "assent",
    "hands",
    "pressure",
    "product",
    *(f"{name}{suffix}" for name in RATINGS for suffix in ("", "_rater")),
    "late",
    "corrected",
    "voided",
    "observations",
    "observation_action",
    "observation_told",
    "note",
)


def _rating_cells(version: CareSessionVersion, name: str) -> list[str]:
    value, status, rater = version.rating(name)
    if status == "answered":
        return [str(value), rater or ""]
    return [status or "", ""]


def rows(month: Month | None, ward_id: int | None, resident_id: int | None) -> Iterator[list]:
    """Session rows for the filters, oldest first, times in the home's zone."""
    query = (
        current_versions(CareSession, Resident, Ward.name, include_voided=True)
        .join(Resident, Resident.id == CareSession.resident_id)
        .join(Ward, Ward.id == Resident.ward_id)
        .order_by(CareSessionVersion.occurred_at, CareSessionVersion.id)
    )
    if month is not None:
        start, end = month_bounds(month)
        query = query.where(
            CareSessionVersion.occurred_at >= start, CareSessionVersion.occurred_at < end
        )
    if ward_id:
        query = query.where(Resident.ward_id == ward_id)
    if resident_id:
        query = query.where(Resident.id == resident_id)
    names: dict[int, str] = dict(db.session.execute(select(User.id, User.full_name)).tuples().all())
    corrected = set(
        db.session.scalars(
            select(CareSessionVersion.session_id).where(
                CareSessionVersion.kind == VersionKind.CORRECTION.value
            )
        )
    )
    for version, care_session, resident, ward_name in db.session.execute(query):
        started = local(version.occurred_at)
        row = [
            care_session.id,
            version.version_no,
            resident.id,
            resident.full_name,
            ward_name,
            started.date().isoformat(),
            started.strftime("%H:%M"),
            version.duration_minutes or "",
            names.get(version.given_by_id, ""),
            names.get(care_session.recorded_by_id, ""),
            local(care_session.recorded_at).strftime("%Y-%m-%d %H:%M"),
            version.outcome,
            version.not_done_reason or "",
            version.outcome_reason or "",
            version.assent or "",
            version.hands or "",
            version.pressure or "",
            version.product or "",
        ]
        for name in RATINGS:
            row += _rating_cells(version, name)
        row += [
            "yes" if version.late else "no",
            "yes" if care_session.id in corrected else "no",
            "yes" if version.voided else "no",
            (version.observations or "").replace(",", "; "),
            version.observation_action or "",
            version.observation_told or "",
            version.note or "",
        ]
        yield row


def csv_text(month: Month | None, ward_id: int | None, resident_id: int | None) -> Iterator[str]:
    """The CSV in chunks, starting with a BOM so that Excel reads the accents as UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = SafeWriter(buffer)
    writer.writerow(COLUMNS)
    for row in rows(month, ward_id, resident_id):
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
