"""Door cards: opening a resident's session from a scanned card, and printing a ward's cards."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from carelog.accounts.models import Ward
from carelog.accounts.roles import CARERS, MANAGERS
from carelog.audit import chain
from carelog.audit.actor import current_actor
from carelog.database import write_transaction
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.reports.pdf.door_cards import DoorCard, render_door_cards
from carelog.residents import cards
from carelog.residents.models import Resident, ResidentPhoto
from carelog.residents.visibility import sees_every_ward
from carelog.web.downloads import attachment
from carelog.web.policy import roles

bp = Blueprint("cards", __name__, url_prefix="/cards")


def _open(text: str):
    """The resident's session form, or a page saying why this card opens nothing."""
    ward_id = None if sees_every_ward() else current_user.ward_id
    found = cards.answer(text[:500], ward_id, local_today())
    if found.resident_id is None:
        return render_template("residents/card_problem.html", problem=found.problem), found.status
    return redirect(url_for("sessions.new", resident_id=found.resident_id), 303)


@bp.get("/scan")
@roles(CARERS)
def scan():
    """What the board's scan box (or a scanner typing into it) or its camera read."""
    return _open(request.args.get("code", ""))


@bp.get("/<code>")
@roles(CARERS)
def open_card(code: str):
    """The address a card's QR code holds, opened by the tablet's own camera app."""
    return _open(code)


@bp.get("/ward/<int:ward_id>.pdf")
@roles(MANAGERS)
def ward_cards(ward_id: int):
    """A sheet of door cards for a ward's present residents; printing it is audited."""
    ward = db.get_or_404(Ward, ward_id)
    today = local_today()
    people = db.session.scalars(
        select(Resident)
        .where(Resident.ward_id == ward.id)
        .where((Resident.departed_on.is_(None)) | (Resident.departed_on > today))
        .order_by(Resident.room, Resident.family_name)
    ).all()
    photo_ids = [p.photo_id for p in people if p.photo_id]
    photos = dict(
        db.session.execute(
            select(ResidentPhoto.id, ResidentPhoto.jpeg).where(ResidentPhoto.id.in_(photo_ids))
        )
        .tuples()
        .all()
    )
    sheet = [
        DoorCard(
            name=person.display_name,
            room=person.room,
            ward=ward.name,
            code=cards.card_code(person.id),
            url=url_for("cards.open_card", code=cards.card_code(person.id), _external=True),
            photo=photos.get(person.photo_id or 0),
        )
        for person in people
    ]
    pdf = render_door_cards(
        sheet, f"Door cards: {ward.name} ward", current_app.config["CARELOG_PAGE_SIZE"]
    )
    with write_transaction(db.session) as session:
        chain.record(
            session, current_actor(), "cards.print", "ward", ward.id,
            new={"ward_id": ward.id, "residents": len(sheet)},
        )  # fmt: skip
    headers = {"Content-Type": "application/pdf", **attachment(f"door-cards-{ward.id}.pdf")}
    return pdf, 200, headers
