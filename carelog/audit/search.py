"""Finding audit entries for the auditor: filters, keyset pages and CSV rows."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from carelog.audit.models import HASHED_FIELDS, TIMESTAMP_FORMAT, AuditEntry
from carelog.extensions import db
from carelog.local_time import local_day_bounds
from carelog.residents.models import Resident
from carelog.web.spreadsheet import SafeWriter

PAGE_SIZE = 50


READ_ACTIONS = ("resident.view", "report.download", "export.download", "audit.export")


CSV_COLUMNS = (*HASHED_FIELDS, "hash")  # every stored field, so a CSV can be re-verified


@dataclass(frozen=True)
class AuditFilter:
    """What the auditor asked for; None means any."""

    date_from: date | None = None
    date_to: date | None = None
    actor_id: int | None = None
    resident_id: int | None = None
    ward_id: int | None = None
    action: str | None = None

    def apply(self, query: Select) -> Select:
        """Narrow a query on AuditEntry to this filter."""
        if self.date_from:
            start, _ = local_day_bounds(self.date_from)
            query = query.where(AuditEntry.recorded_at >= start.strftime(TIMESTAMP_FORMAT))
        if self.date_to:
            _, end = local_day_bounds(self.date_to)
            query = query.where(AuditEntry.recorded_at < end.strftime(TIMESTAMP_FORMAT))
        if self.actor_id:
            query = query.where(AuditEntry.actor_id == self.actor_id)
        if self.resident_id:
            query = query.where(AuditEntry.resident_id == self.resident_id)
        if self.ward_id:
            in_ward = select(Resident.id).where(Resident.ward_id == self.ward_id)
            query = query.where(AuditEntry.resident_id.in_(in_ward))
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        return query


@dataclass(frozen=True)
class Page:
    """A page of entries, newest first, and where the next (older) page starts."""

    entries: Sequence[AuditEntry]
    next_before: int | None


def page(audit_filter: AuditFilter, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    """Entries matching the filter, newest first, older than `before` (keyset paging)."""
    query = audit_filter.apply(select(AuditEntry)).order_by(AuditEntry.id.desc())
    if before:
        query = query.where(AuditEntry.id < before)
    rows = db.session.scalars(query.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].id if more and rows else None)


def actions() -> list[str]:
    """Every action that appears in the trail, for the filter."""
    return list(
        db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )


def csv_lines(audit_filter: AuditFilter) -> Iterator[str]:
    """The filtered trail as CSV text, oldest first, with a BOM so spreadsheets read UTF-8."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    query = audit_filter.apply(select(AuditEntry)).order_by(AuditEntry.id)
    for entry in db.session.scalars(query.execution_options(yield_per=2000)):
        writer.writerow([getattr(entry, column) for column in CSV_COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def resident_reads(resident_id: int) -> list[AuditEntry]:
    """Everyone who viewed, printed or exported a resident's record, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.resident_id == resident_id, AuditEntry.action.in_(READ_ACTIONS))
            .order_by(AuditEntry.id.desc())
        )
    )


def resident_changes(resident_id: int) -> list[AuditEntry]:
    """Everything recorded or changed about a resident, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.resident_id == resident_id, AuditEntry.action.not_in(READ_ACTIONS))
            .order_by(AuditEntry.id.desc())
        )
    )
