"""Reads are audit events too (ISO 27789): one place records who opened, printed or exported what.

Views call these helpers; none writes an audit entry itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import request

from carelog.audit import chain
from carelog.audit.actor import Actor, current_actor
from carelog.database import write_transaction
from carelog.extensions import db


def record_read(
    action: str,
    entity: str,
    resident_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record one read (a view, a download, an export) by the signed-in user, in its own commit."""
    with write_transaction(db.session) as session:
        chain.record(
            session,
            current_actor(),
            action,
            entity,
            resident_id if entity == "resident" else None,
            resident_id=resident_id,
            new={name: value for name, value in (details or {}).items() if value},
        )


def record_reads(
    action: str,
    entity: str,
    entity_id: str,
    resident_ids: Iterable[int | None],
    details: Mapping[str, Any],
    actor: Actor | None = None,
) -> None:
    """One read of several residents' records at once (a batch report): an entry for each, in
    one commit, so that every resident's "who viewed" list shows it. The actor is the signed-in
    user unless given (the command line names its author)."""
    actor = actor or current_actor()
    with write_transaction(db.session) as session:
        for resident_id in resident_ids:
            chain.record(
                session,
                actor,
                action,
                entity,
                entity_id,
                resident_id=resident_id,
                new={name: value for name, value in details.items() if value},
            )


def record_view(resident_id: int, page: str) -> None:
    """Who opened which part of a resident's record."""
    record_read("resident.view", "resident", resident_id, {"page": page})


def record_form_opened(resident_id: int, page: str) -> None:
    """A form showing a resident's record was opened (GET); its POST is recorded as the change."""
    if request.method == "GET":
        record_view(resident_id, page)
