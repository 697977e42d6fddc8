"""A resident's photo: added once they or their representative agree, replaced or taken down,
each change a new version of the record and an audited event; the photos themselves kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.database import existing, write_transaction
from carelog.errors import FieldError
from carelog.extensions import db
from carelog.residents import history
from carelog.residents.models import Resident, ResidentPhoto
from carelog.residents.photo_image import PhotoError, prepared_photo
from carelog.residents.records import keep_version

AGREED_BY = {"resident": "The resident", "representative": "Their representative"}


def add_photo(actor: Actor, resident_id: int, upload: bytes, agreed_by: str, reason: str) -> int:
    """Keep a new photo of the resident (resized, without metadata) and show it from now on."""
    if agreed_by not in AGREED_BY:
        raise FieldError("agreed_by", "Say who agreed to the photo.")
    try:
        photo = prepared_photo(upload)
    except PhotoError as problem:
        raise FieldError("photo", str(problem)) from problem
    with write_transaction(db.session) as session:
        resident = existing(session, Resident, resident_id)
        kept = ResidentPhoto(
            resident_id=resident.id,
            jpeg=photo.jpeg,
            width=photo.width,
            height=photo.height,
            sha256=photo.sha256,
            agreed_by=agreed_by,
            added_by_id=actor.user_id,
        )
        session.add(kept)
        session.flush()
        _show(session, actor, resident, kept.id, reason, agreed_by=agreed_by, sha256=photo.sha256)
    return kept.id


def remove_photo(actor: Actor, resident_id: int, reason: str) -> None:
    """Stop showing the resident's photo (agreement withdrawn, a wrong photo); it stays kept."""
    with write_transaction(db.session) as session:
        resident = existing(session, Resident, resident_id)
        if resident.photo_id is None:
            raise FieldError(None, "There is no photo to take down.")
        _show(session, actor, resident, None, reason)


def _show(session, actor: Actor, resident: Resident, photo_id: int | None, reason: str, **more):
    old = {"photo_id": resident.photo_id}
    resident.photo_id = photo_id
    session.flush()
    keep_version(session, actor, resident, "photo", reason)
    chain.record(
        session,
        actor,
        "resident.photo",
        "resident",
        resident.id,
        resident_id=resident.id,
        old=old,
        new={"photo_id": photo_id, **more},
        reason=reason,
    )


def photo_jpeg(resident_id: int, photo_id: int) -> bytes | None:
    """A kept photo's bytes, if it is this resident's."""
    return db.session.scalar(
        select(ResidentPhoto.jpeg).where(
            ResidentPhoto.id == photo_id, ResidentPhoto.resident_id == resident_id
        )
    )


def photo_in_force(resident_id: int, moment: datetime) -> bytes | None:
    """The photo the record showed at a moment (for a report of that time), or None."""
    versions = history.versions_by_resident([resident_id])[resident_id]
    standing = history.in_force(versions, moment)
    photo_id = (standing or {}).get("photo_id")
    return photo_jpeg(resident_id, int(photo_id)) if photo_id else None
