"""Reads are audit events too: one helper records who opened which record."""

from __future__ import annotations

from carelog.audit import chain
from carelog.audit.actor import current_actor
from carelog.database import write_transaction
from carelog.extensions import db


def record_view(resident_id: int, page: str) -> None:
    """Reads are audit events too: who opened which part of a resident's record."""
    with write_transaction(db.session) as session:
        chain.record(
            session,
            current_actor(),
            "resident.view",
            "resident",
            resident_id,
            resident_id=resident_id,
            new={"page": page},
        )
