"""Proof of a printout: each report has an id, and its download's audit entry holds the SHA-256
of the exact bytes sent, who made it, the month, the residents and the checkpoint printed on it.

Later, `identify(pdf)` (the integrity page and `flask audit verify-report`) answers whether
carelog made exactly that file, when and for whom, and whether the trail still holds at the
checkpoint it printed. A file changed by a single byte is not found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from carelog.accounts.models import User
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.audit.models import AuditEntry
from carelog.audit.reads import record_reads
from carelog.extensions import db
from carelog.reports.document import AuditFingerprint

DOWNLOAD = "report.download"


def sha256_of(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def checkpoint_of(fingerprint: AuditFingerprint) -> str:
    """The checkpoint as printed and as the checkers accept it: HASH:COUNT."""
    return f"{fingerprint.head_hash}:{fingerprint.entry_count}"


def record_download(
    report_id: str,
    pdf: bytes,
    month: str,
    resident_ids: list[int],
    checkpoint: str,
    kind: str,
    ward_id: int | None = None,
    actor: Actor | None = None,
) -> None:
    """One entry per resident included (so each one's "who viewed" list shows it), all naming
    the report, the SHA-256 of its bytes and its checkpoint."""
    details = {
        "report": report_id,
        "sha256": sha256_of(pdf),
        "month": month,
        "kind": kind,
        "ward_id": ward_id,
        "residents": len(resident_ids),
        "checkpoint": checkpoint,
    }
    record_reads(DOWNLOAD, "report", report_id, resident_ids or [None], details, actor)


@dataclass(frozen=True)
class Identified:
    """What the trail says about a PDF: carelog made it (or not), and whether the trail holds."""

    made_by_carelog: bool
    sha256: str
    report_id: str = ""
    made_by: str = ""
    made_at: datetime | None = None
    month: str = ""
    kind: str = ""
    resident_ids: tuple[int, ...] = ()
    checkpoint: str = ""
    trail_holds: bool = False
    trail_problem: str = ""


def identify(pdf: bytes) -> Identified:
    """Look the file's SHA-256 up in the trail, then verify the chain at its checkpoint."""
    digest = sha256_of(pdf)
    entries = [
        entry
        for entry in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == DOWNLOAD, AuditEntry.new_values.contains(digest))
            .order_by(AuditEntry.id)
        )
        if entry.new.get("sha256") == digest
    ]
    if not entries:
        return Identified(False, digest)
    first = entries[0]
    details = first.new
    checkpoint = details.get("checkpoint", "")
    result = chain.verify(db.session, chain.parse_checkpoint(checkpoint) if checkpoint else None)
    return Identified(
        True,
        digest,
        report_id=details.get("report", ""),
        made_by=_name_of(first),
        made_at=first.recorded_at_utc,
        month=details.get("month", ""),
        kind=details.get("kind", ""),
        resident_ids=tuple(e.resident_id for e in entries if e.resident_id is not None),
        checkpoint=checkpoint,
        trail_holds=result.ok,
        trail_problem=result.problem or "",
    )


def made(report_id: str) -> Identified | None:
    """What the trail says about a report named by its id (the QR code's link), or None."""
    if not report_id:
        return None
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == DOWNLOAD, AuditEntry.entity_id == report_id)
        .order_by(AuditEntry.id)
    ).all()
    if not entries:
        return None
    details = entries[0].new
    return Identified(
        True,
        details.get("sha256", ""),
        report_id=report_id,
        made_by=_name_of(entries[0]),
        made_at=entries[0].recorded_at_utc,
        month=details.get("month", ""),
        kind=details.get("kind", ""),
        resident_ids=tuple(e.resident_id for e in entries if e.resident_id is not None),
        checkpoint=details.get("checkpoint", ""),
    )


def _name_of(entry: AuditEntry) -> str:
    """The full name of whoever made a report (the trail stores the account)."""
    if entry.actor_id is None:
        return entry.actor or ""
    user = db.session.get(User, entry.actor_id)
    return f"{user.full_name} ({user.username})" if user else entry.actor or ""
