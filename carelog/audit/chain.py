"""The append-only, hash-chained audit trail: recording entries and verifying the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session, scoped_session

from carelog.audit.actor import Actor
from carelog.audit.free_text import reason_for_trail, without_free_text
from carelog.audit.models import HASHED_FIELDS, TIMESTAMP_FORMAT, AuditEntry
from carelog.database import WRITE_OPTION, utcnow
from carelog.extensions import Model

GENESIS_HASH = "0" * 64


POSTGRES_CHAIN_LOCK = 0x6361_7265  # "care": one advisory lock serialises every append


def canonical_json(values: Mapping[str, Any] | None) -> str | None:
    """Serialise values the one way the chain hashes them."""
    if values is None:
        return None
    return json.dumps(
        values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


# The hashed fields in sorted order: encoding a dict built in this order without sort_keys
# gives the same text as sort_keys=True (the values are scalars), and is faster.
_SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def entry_hash(fields: Mapping[str, Any]) -> str:
    """The SHA-256 of an entry's canonical content, which includes the previous hash."""
    content = _ENCODER.encode({name: fields[name] for name in _SORTED_FIELDS})
    return hashlib.sha256(content.encode()).hexdigest()


@dataclass(frozen=True)
class Appended:
    """Where an entry joined the chain."""

    id: int
    prev_hash: str
    hash: str


# Core statements on the table: an append is two short statements, with no unit of work.
_TABLE = cast(Table, AuditEntry.__table__)


_HEAD = select(_TABLE.c.id, _TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)


_APPEND = insert(_TABLE)


def _lock_chain(session: Session) -> None:
    """Serialise appenders so that two of them never extend the same head."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_CHAIN_LOCK})
    elif not connection.get_execution_options().get(WRITE_OPTION):
        raise RuntimeError("audit entries must be written inside write_transaction()")


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    resident_id: int | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> Appended:
    """Append an entry to the chain in the caller's transaction.

    Clinical free text in `old`, `new` and a resident's `reason` is stored as a fingerprint."""
    _lock_chain(session)
    head = session.execute(_HEAD).first()
    fields: dict[str, Any] = {
        "id": head.id + 1 if head else 1,
        "recorded_at": utcnow().strftime(TIMESTAMP_FORMAT),
        "actor_id": actor.user_id,
        "actor": actor.name,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "resident_id": resident_id,
        "old_values": canonical_json(without_free_text(old)),
        "new_values": canonical_json(without_free_text(new)),
        "reason": reason_for_trail(reason, resident_id),
        "ip": actor.ip,
        "user_agent": (actor.user_agent or "")[:300] or None,
        "prev_hash": head.hash if head else GENESIS_HASH,
    }
    fields["hash"] = entry_hash(fields)
    session.execute(_APPEND, fields)
    return Appended(fields["id"], fields["prev_hash"], fields["hash"])


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the chain."""

    ok: bool
    count: int
    head_hash: str
    first_bad_id: int | None = None
    problem: str | None = None

    @property
    def checkpoint(self) -> str:
        """The head hash and count as printed on reports: HASH:COUNT."""
        return f"{self.head_hash}:{self.count}"


def _rows(session: Session | scoped_session) -> Generator[dict[str, Any], None, None]:
    """Stream every entry in chain order as plain dicts, on the driver's own cursor.

    Row objects cost more than the hashing itself, and verification reads every entry. On
    PostgreSQL a named (server-side) cursor streams, so a long trail never sits in memory.
    """
    names = (*HASHED_FIELDS, "hash")
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    cursor = connection.connection.cursor(
        **({"name": "carelog_audit_verify"} if postgresql else {})
    )
    try:
        cursor.execute(f"SELECT {', '.join(names)} FROM audit_entry ORDER BY id")  # noqa: S608
        while batch := cursor.fetchmany(5000):
            for row in batch:
                yield dict(zip(names, row, strict=True))
    finally:
        cursor.close()


def verify_rows(
    rows: Iterable[Mapping[str, Any]], expect: tuple[str, int] | None = None
) -> Verification:
    """Walk entries in order, checking numbering, links, hashes and an optional checkpoint."""
    previous = GENESIS_HASH
    count = 0
    checkpoint_seen = expect is None
    if expect is not None and expect[1] == 0:
        if expect[0] != GENESIS_HASH:
            return Verification(False, 0, GENESIS_HASH, None, "differs from the checkpoint")
        checkpoint_seen = True
    for row in rows:
        count += 1
        if row["id"] != count:
            return Verification(
                False, count - 1, previous, row["id"], "entry missing or out of order"
            )
        if row["prev_hash"] != previous:
            return Verification(
                False, count - 1, previous, row["id"], "link to the previous entry broken"
            )
        if entry_hash(row) != row["hash"]:
            return Verification(False, count - 1, previous, row["id"], "content altered")
        previous = row["hash"]
        if expect is not None and count == expect[1]:
            if previous != expect[0]:
                return Verification(False, count, previous, count, "differs from the checkpoint")
            checkpoint_seen = True
    if not checkpoint_seen:
        return Verification(
            False, count, previous, None, "shorter than the checkpoint: entries removed"
        )
    return Verification(True, count, previous)


def verify(
    session: Session | scoped_session, expect: tuple[str, int] | None = None
) -> Verification:
    """Verify the whole trail stored in the database."""
    rows = _rows(session)
    try:
        return verify_rows(rows, expect)
    finally:
        rows.close()


def head(session: Session | scoped_session) -> tuple[str, int]:
    """The current head hash and entry count: the fingerprint printed on reports."""
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return (last.hash, last.id) if last else (GENESIS_HASH, 0)


TYPING_SLIPS = 4  # characters that may differ before a mismatch is read as more than a typo


def parse_checkpoint(value: str) -> tuple[str, int]:
    """Read a HASH:COUNT checkpoint, raising ValueError on anything else."""
    digest, _, count = value.strip().partition(":")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
        raise ValueError("the hash must be 64 hexadecimal characters")
    if not (count.isascii() and count.isdigit()):
        raise ValueError("the count must be a whole number")
    return digest.lower(), int(count)


def snapshot(instance: Model, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The column values of a model instance as JSON-ready data, for old and new values."""
    skipped = set(exclude)
    values: dict[str, Any] = {}
    for column in instance.__table__.columns:
        if column.key in skipped:
            continue
        value = getattr(instance, column.key)
        values[column.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict, dict]:
    """Keep only the fields whose values differ, as (old, new)."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


def likely_mistyped(session: Session | scoped_session, expect: tuple[str, int]) -> bool:
    """True when a checkpoint that does not verify is a few characters away from the trail's
    own hash at that count: a typing slip is likelier than tampering, so say that first."""
    digest, count = expect
    actual = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == count))
    if actual is None:
        return False
    return sum(a != b for a, b in zip(actual, digest, strict=True)) <= TYPING_SLIPS
