"""The ward roster a nurse's tablet keeps for working offline: what the board and the session
form need, and nothing more (no free-text notes, no plan, no history).

It is refreshed whenever the tablet has a connection and cleared from the tablet at sign-out.
It carries the sign-in's signing key and when that sign-in ends, so the tablet knows until when
it may record for her offline.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carelog.accounts.models import LoginSession, User
from carelog.care import rules
from carelog.care.board import board, follow_ups
from carelog.database import utcnow
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.offline import keys
from carelog.residents.models import Resident

ROSTER_VERSION = 1


def sign_in_ends_at(login: LoginSession) -> datetime:
    """When this sign-in stops counting for entries made offline: at most the session's hours,
    earlier for a PIN session whose PIN stops working first."""
    limit = login.started_at + timedelta(hours=current_app.config["CARELOG_MAX_SESSION_HOURS"])
    return min(limit, login.ends_at) if login.ends_at else limit


def _ms(moment: datetime) -> int:
    return (
        int(moment.timestamp() * 1000)
        if moment.tzinfo
        else int((moment - datetime(1970, 1, 1)).total_seconds() * 1000)
    )


def _resident(resident: Resident, row, today) -> dict:
    consent = resident.consent_on(today)
    standing = rules.consent_standing(consent, today)
    stops = [rules.CONSENT_STOP_WORDS[standing]] if standing != "valid" else []
    if resident.deferred_on(today):
        stops.append("sessions are deferred")
    return {
        "id": resident.id,
        "name": resident.display_name,
        "search": f"{resident.display_name} {resident.full_name} {resident.room}".lower(),
        "room": resident.room,
        "state": row.state if row else "due",
        "state_words": row.state_words if row else "",
        "week": f"{row.week_given} of {row.target} this week" if row else "",
        "stop": stops,
        "avoid_left": resident.avoid_left_hand,
        "avoid_right": resident.avoid_right_hand,
        "light_pressure": resident.light_pressure_only,
        "allergies": resident.allergies or "",
        "consent": {
            "standing": standing,
            "hands": consent.scope_hands if consent else None,
        },
        "product": resident.preferred_product,
        "pressure": "light" if resident.light_pressure_only else "normal",
        "hands": rules.usual_hands(resident, consent),
    }


def roster_for(user: User, login: LoginSession) -> dict:
    """The roster of the nurse's ward, with her sign-in's signing key."""
    today = local_today()
    rows = {row.resident.id: row for row in board(user.ward_id, today).rows} if user.ward_id else {}
    residents = db.session.scalars(
        select(Resident)
        .options(selectinload(Resident.consents))
        .where(Resident.ward_id == user.ward_id, Resident.id.in_(list(rows) or [0]))
        .order_by(Resident.room)
    ).all()
    ordered = sorted(residents, key=lambda r: rows[r.id].due_first)
    return {
        "version": ROSTER_VERSION,
        "user": {"id": user.id, "name": user.full_name},
        "login": login.id,
        "signing_key": base64.b64encode(keys.signing_key(login.token_hash)).decode(),
        "seal_key": keys.seal_public_key(),
        "ends_at": _ms(sign_in_ends_at(login)),
        "refreshed_at": _ms(utcnow()),
        "ward": user.ward.name if user.ward else "",
        "idle_minutes": current_app.config["CARELOG_IDLE_MINUTES"],
        "residents": [_resident(r, rows.get(r.id), today) for r in ordered],
        "follow_ups": [
            {
                "session": version.session_id,
                "version": version.version_no,
                "resident": resident.id,
                "name": resident.display_name,
                "room": resident.room,
                "massage_at": _ms(version.occurred_at),
            }
            for resident, version in (follow_ups(user.ward_id, today) if user.ward_id else [])
        ],
    }
