"""Which residents the signed-in user may see, and loading one or answering 404."""

from __future__ import annotations

from flask import (
    abort,
)
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from carelog.accounts.roles import Role
from carelog.extensions import db
from carelog.residents.models import Resident


def sees_every_ward() -> bool:
    """Nurses see only their own ward's residents; the other roles see every ward."""
    return current_user.role != Role.NURSE


def visible_to_current_user(query: Select) -> Select:
    """Limit a resident query to what the signed-in user may see."""
    if sees_every_ward():
        return query
    return query.where(Resident.ward_id == current_user.ward_id)


# Built once, with the values bound per call: every page about a resident starts here, and
# shows (or, when logging a session, checks) the consent in force, so it comes in the same query.
_RESIDENT = (
    select(Resident)
    .options(joinedload(Resident.consents))
    .where(Resident.id == bindparam("resident_id"))
)


_RESIDENT_ON_WARD = _RESIDENT.where(Resident.ward_id == bindparam("ward_id"))


def resident_or_404(resident_id: int) -> Resident:
    """Load a resident the signed-in user may see, with their consent decisions, or answer 404."""
    query, values = _RESIDENT, {"resident_id": resident_id}
    if not sees_every_ward():
        query, values = _RESIDENT_ON_WARD, {**values, "ward_id": current_user.ward_id}
    return db.session.scalars(query, values).unique().first() or abort(404)
