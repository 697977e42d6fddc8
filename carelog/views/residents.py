"""Residents: the list, a resident's record, and the care manager's changes to it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.validators import InputRequired

from carelog import audit, residents
from carelog.database import write_transaction
from carelog.display import local_today
from carelog.extensions import db
from carelog.forms import ConsentForm, DepartureForm, ResidentForm, options
from carelog.models import Resident, Role, Ward
from carelog.security import CLINICAL_READERS, current_actor, roles, sees_every_ward

bp = Blueprint("residents", __name__, url_prefix="/residents")

CARE_MANAGER = (Role.CARE_MANAGER,)


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


def record_view(resident_id: int, page: str) -> None:
    """Reads are audit events too: who opened which part of a resident's record."""
    with write_transaction(db.session) as session:
        audit.record(
            session,
            current_actor(),
            "resident.view",
            "resident",
            resident_id,
            resident_id=resident_id,
            new={"page": page},
        )


def _ward_choices() -> list[tuple[int, str]]:
    return options((w.id, w.name) for w in db.session.scalars(select(Ward).order_by(Ward.name)))


@bp.get("/")
@roles(*CLINICAL_READERS)
def index():
    """List current residents (and, on request, those who have left)."""
    show_departed = request.args.get("departed") == "1"
    query = select(Resident).options(selectinload(Resident.ward), selectinload(Resident.consents))
    query = visible_to_current_user(query)
    today = local_today()
    if not show_departed:
        query = query.where((Resident.departed_on.is_(None)) | (Resident.departed_on > today))
    people = db.session.scalars(query.order_by(Resident.family_name, Resident.given_name)).all()
    return render_template(
        "residents/index.html", residents=people, today=today, show_departed=show_departed
    )


@bp.get("/<int:resident_id>")
@roles(*CLINICAL_READERS)
def show(resident_id: int):
    """A resident's record: details, precautions and consent history. Viewing is audited."""
    resident = resident_or_404(resident_id)
    page = render_template(
        "residents/show.html",
        resident=resident,
        consent=residents.current_consent(resident),
        today=local_today(),
    )
    record_view(resident_id, "details")
    return page


@bp.route("/new", methods=["GET", "POST"])
@roles(*CARE_MANAGER)
def new():
    """Admit a resident."""
    form = ResidentForm()
    form.ward_id.choices = _ward_choices()
    if form.validate_on_submit():
        try:
            resident = residents.admit(current_actor(), form.data)
        except residents.ResidentError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            flash(f"{resident.full_name} admitted. Now record their consent.", "success")
            return redirect(url_for("residents.consent", resident_id=resident.id), 303)
    return render_template("residents/form.html", form=form, resident=None)


@bp.route("/<int:resident_id>/edit", methods=["GET", "POST"])
@roles(*CARE_MANAGER)
def edit(resident_id: int):
    """Change a resident's details or precautions."""
    resident = resident_or_404(resident_id)
    form = ResidentForm(obj=resident)
    form.ward_id.choices = _ward_choices()
    form.reason.validators = [InputRequired(message="Say why you are changing the record.")]
    if form.validate_on_submit():
        try:
            residents.update(current_actor(), resident.id, form.data, form.reason.data)
        except residents.ResidentError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            flash("Saved.", "success")
            return redirect(url_for("residents.show", resident_id=resident_id), 303)
    return render_template("residents/form.html", form=form, resident=resident)


@bp.route("/<int:resident_id>/departure", methods=["GET", "POST"])
@roles(*CARE_MANAGER)
def departure(resident_id: int):
    """Record that a resident has left the home."""
    resident = resident_or_404(resident_id)
    form = DepartureForm(obj=resident)
    if form.validate_on_submit():
        try:
            residents.record_departure(
                current_actor(), resident.id, form.departed_on.data, form.departure_reason.data
            )
        except residents.ResidentError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            flash("Departure recorded. The record is kept.", "success")
            return redirect(url_for("residents.show", resident_id=resident_id), 303)
    return render_template("residents/departure.html", form=form, resident=resident)


@bp.route("/<int:resident_id>/consent", methods=["GET", "POST"])
@roles(*CARE_MANAGER)
def consent(resident_id: int):
    """Record a new consent decision; the history is kept."""
    resident = resident_or_404(resident_id)
    form = ConsentForm()
    if form.validate_on_submit():
        residents.record_consent(
            current_actor(),
            resident.id,
            {
                "decided_by": form.decided_by.data,
                "decision_maker": (form.decision_maker.data or "").strip() or None,
                "consent_given": form.consent_given.data == "yes",
                "decided_on": form.decided_on.data,
                "review_on": form.review_on.data,
                "scope_hands": form.scope_hands.data,
                "scope_products": (form.scope_products.data or "").strip() or None,
                "notes": (form.notes.data or "").strip() or None,
            },
        )
        flash("Consent recorded.", "success")
        return redirect(url_for("residents.show", resident_id=resident_id), 303)
    return render_template("residents/consent.html", form=form, resident=resident)
