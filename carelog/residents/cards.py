"""Door cards: the code a resident's QR card carries, and what scanning one opens.

A card carries the address of /cards/R<id>-<check>: a tablet's own camera app opens it, and a
barcode scanner that types puts it in the board's scan box. The six-character check (from the
id alone, so cards survive a change of the app's secret) turns a misread or a hand-typed slip
into "not a card", never into another resident."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from carelog.accounts.models import Ward
from carelog.extensions import db
from carelog.residents.models import Resident

_CODE = re.compile(r"R(\d{1,12})-([0-9a-f]{6})", re.IGNORECASE)


def _check(resident_id: int) -> str:
    return hashlib.sha256(f"carelog door card {resident_id}".encode()).hexdigest()[:6]


def card_code(resident_id: int) -> str:
    """The code printed (as a QR code and as text) on a resident's door card."""
    return f"R{resident_id}-{_check(resident_id)}"


def resident_id_on(text: str) -> int | None:
    """The resident a scanned or typed card names, or None if it is not a whole, valid card."""
    found = _CODE.findall(text or "")
    if not found:
        return None
    number, check = found[-1]
    resident_id = int(number)
    return resident_id if check.lower() == _check(resident_id) else None


@dataclass(frozen=True)
class CardAnswer:
    """What a scanned card opens: the resident, or why not, in words for the nurse."""

    resident_id: int | None = None
    problem: str | None = None
    status: int = 200


NOT_A_CARD = (
    "This is not a carelog door card, or it could not be read whole. "
    "Scan it again, or find the resident on the board."
)


def answer(text: str, ward_id: int | None, today: date) -> CardAnswer:
    """Open the resident a card names, if they are on this nurse's ward and still here.

    `ward_id` is the nurse's ward (None for those who see every ward)."""
    resident_id = resident_id_on(text)
    resident = db.session.get(Resident, resident_id) if resident_id else None
    if resident is None:
        return CardAnswer(problem=NOT_A_CARD, status=404)
    if ward_id is not None and resident.ward_id != ward_id:
        theirs = db.session.get(Ward, resident.ward_id)
        mine = db.session.get(Ward, ward_id)
        return CardAnswer(
            problem=(
                f"This card is for a resident of {theirs} ward, not {mine}. "
                "Check the room you are in."
            ),
            status=403,
        )
    if resident.has_left(today):
        return CardAnswer(
            problem=(
                f"{resident.display_name} left the home on {resident.departed_on:%-d %B %Y}. "
                "This card is no longer used: take it off the door."
            ),
            status=410,
        )
    return CardAnswer(resident_id=resident.id)
