"""Residents: the list, a resident's record, and the care manager's changes to it."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.validators import InputRequired

from carelog.accounts.models import Ward
from carelog.accounts.roles import CLINICAL_READERS, MANAGERS
from carelog.audit.actor import current_actor
from carelog.audit.reads import record_form_opened, record_view
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.reports import span
from carelog.reports.on_screen import resident_charts
from carelog.reports.trend_data import resident_trend
from carelog.reports.trends import TIMES_OF_DAY
from carelog.residents import records
from carelog.residents.as_of import NotOnRecord, RecordAsOf, record_as_of
from carelog.residents.forms import ConsentForm, DepartureForm, PlanForm, ResidentForm
from carelog.residents.models import Resident
from carelog.residents.visibility import resident_or_404, visible_to_current_user
from carelog.web.fields import options, show_field_error
from carelog.web.policy import roles

bp = Blueprint("residents", __name__, url_prefix="/residents")


def _ward_choices() -> list[tuple[int, str]]:
    return options((w.id, w.name) for w in db.session.scalars(select(Ward).order_by(Ward.name)))


@bp.get("/")
@roles(CLINICAL_READERS)
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
@roles(CLINICAL_READERS)
def show(resident_id: int):
    """A resident's record: details, precautions, consent history, and charts of the last 1, 3,
    6 or 12 months (?months=). Viewing is audited."""
    months = request.args.get("months", "3")
    if months not in {str(choice) for choice in span.CHOICES}:
        abort(400, description="Charts cover 1, 3, 6 or 12 months.")
    resident = resident_or_404(resident_id)
    today = local_today()
    shown: Resident | RecordAsOf = resident
    day = today
    if request.args.get("as_of"):
        try:
            day = date.fromisoformat(request.args["as_of"])
            shown = record_as_of(resident, day, today)
        except ValueError as problem:
            words = str(problem) if isinstance(problem, NotOnRecord) else "Give a date."
            abort(400, description=words)
    page = render_template(
        "residents/show.html",
        resident=shown,
        consent=shown.consent_on(day),
        today=day,
        as_of=day if shown is not resident else None,
        latest_day=today,
        charts=resident_charts(resident, int(months), day),
        month_choices=span.CHOICES,
    )
    record_view(resident_id, f"details as of {day}" if shown is not resident else "details")
    return page


@bp.get("/<int:resident_id>/trends")
@roles(CLINICAL_READERS)
def trends(resident_id: int):
    """The resident's last 12 months, month by month. Viewing is audited."""
    resident = resident_or_404(resident_id)
    page = render_template(
        "reports/trends.html",
        heading=resident.display_name,
        about=f"Massages given to {resident.known_as} each month.",
        back_link=url_for("residents.show", resident_id=resident.id),
        back_words="Back to the record",
        trends=resident_trend(resident, local_today()),
        times_of_day=TIMES_OF_DAY,
    )
    record_view(resident_id, "trends")
    return page


@bp.route("/new", methods=["GET", "POST"])
@roles(MANAGERS)
def new():
    """Admit a resident."""
    form = ResidentForm()
    form.ward_id.choices = _ward_choices()
    if form.validate_on_submit():
        try:
            resident = records.admit(current_actor(), form.data)
        except records.ResidentError as error:
            show_field_error(form, error)
        else:
            flash(f"{resident.full_name} admitted. Now record their consent.", "success")
            return redirect(url_for("residents.consent", resident_id=resident.id), 303)
    return render_template("residents/form.html", form=form, resident=None)


@bp.route("/<int:resident_id>/edit", methods=["GET", "POST"])
@roles(MANAGERS)
def edit(resident_id: int):
    """Change a resident's details or precautions."""
    resident = resident_or_404(resident_id)
    record_form_opened(resident.id, "edit")
    form = ResidentForm(obj=resident)
    form.ward_id.choices = _ward_choices()
    form.reason.validators = [InputRequired(message="Say why you are changing the record.")]
    if form.validate_on_submit():
        try:
            records.update(current_actor(), resident.id, form.data, form.reason.data)
        except records.ResidentError as error:
            show_field_error(form, error)
        else:
            flash("Saved.", "success")
            return redirect(url_for("residents.show", resident_id=resident_id), 303)
    return render_template("residents/form.html", form=form, resident=resident)


@bp.route("/<int:resident_id>/plan", methods=["GET", "POST"])
@roles(MANAGERS)
def plan(resident_id: int):
    """Keep the person-centred plan; each change is a new version of the record, with why."""
    resident = resident_or_404(resident_id)
    record_form_opened(resident.id, "plan")
    form = PlanForm()
    if request.method == "GET":
        form.show_plan(resident)
    if form.validate_on_submit():
        try:
            records.update(current_actor(), resident.id, form.plan_values(), form.reason.data)
        except records.ResidentError as error:
            show_field_error(form, error)
        else:
            flash("Plan saved.", "success")
            return redirect(url_for("residents.show", resident_id=resident_id), 303)
    return render_template("residents/plan.html", form=form, resident=resident)


@bp.route("/<int:resident_id>/departure", methods=["GET", "POST"])
@roles(MANAGERS)
def departure(resident_id: int):
    """Record that a resident has left the home."""
    resident = resident_or_404(resident_id)
    record_form_opened(resident.id, "departure")
    form = DepartureForm(obj=resident)
    if form.validate_on_submit():
        try:
            records.record_departure(
                current_actor(), resident.id, form.departed_on.data, form.departure_reason.data
            )
        except records.ResidentError as error:
            show_field_error(form, error)
        else:
            flash("Departure recorded. The record is kept.", "success")
            return redirect(url_for("residents.show", resident_id=resident_id), 303)
    return render_template("residents/departure.html", form=form, resident=resident)


@bp.route("/<int:resident_id>/consent", methods=["GET", "POST"])
@roles(MANAGERS)
def consent(resident_id: int):
    """Record a new consent decision; the history is kept."""
    resident = resident_or_404(resident_id)
    record_form_opened(resident.id, "consent")
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            records.record_consent(
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
        except records.ResidentError as error:
            show_field_error(form, error)
        else:
            flash("Consent recorded.", "success")
            return redirect(url_for("residents.show", resident_id=resident_id), 303)
    return render_template("residents/consent.html", form=form, resident=resident)
