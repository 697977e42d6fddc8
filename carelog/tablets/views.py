"""Ward tablets: the list where they are enrolled and revoked, choosing a PIN, switching nurse."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_user
from sqlalchemy import select

from carelog.accounts import login_sessions
from carelog.accounts.forms import ReasonForm
from carelog.accounts.models import Ward
from carelog.accounts.roles import NURSES, TABLET_KEEPERS
from carelog.audit.actor import current_actor
from carelog.errors import FieldError
from carelog.extensions import db
from carelog.tablets import enrolment, pins
from carelog.tablets.forms import EnrolForm, PinForm, SwitchForm
from carelog.web.fields import show_field_error
from carelog.web.policy import public, roles

bp = Blueprint("tablets", __name__)

NOT_ENROLLED = (
    "This browser is not an enrolled ward tablet (or its enrolment was revoked), so nurses "
    "cannot switch on it by PIN. Sign in with your username and password."
)


def _enrol_form() -> EnrolForm:
    form = EnrolForm()
    form.ward_id.choices = [
        (ward.id, ward.name) for ward in db.session.scalars(select(Ward).order_by(Ward.name))
    ]
    return form


def _tablets_page(form: EnrolForm) -> str:
    """The list of tablets with the enrol form (fresh, or as sent with its errors)."""
    return render_template(
        "tablets/index.html",
        tablets=enrolment.tablets(),
        here=enrolment.this_tablet(),
        form=form,
        revoke_form=ReasonForm(),
    )


@bp.get("/tablets/")
@roles(TABLET_KEEPERS)
def index():
    """Every tablet, its ward, who enrolled it and when it was last used; enrol this one."""
    return _tablets_page(_enrol_form())


@bp.post("/tablets/enrol")
@roles(TABLET_KEEPERS)
def enrol():
    """Enrol the tablet this page is open on to a ward."""
    form = _enrol_form()
    if form.validate_on_submit():
        try:
            tablet, token = enrolment.enrol(
                current_actor(), form.name.data, form.ward_id.data, current_user.login_token
            )
        except FieldError as error:
            show_field_error(form, error)
        else:
            enrolled = f"This tablet is enrolled as {tablet.name}, on {tablet.ward.name} ward."
            flash(enrolled, "success")
            response = redirect(url_for("tablets.index"), 303)
            enrolment.remember_tablet(response, token)
            return response
    return _tablets_page(form), 422


@bp.post("/tablets/<int:tablet_id>/revoke")
@roles(TABLET_KEEPERS)
def revoke(tablet_id: int):
    """Revoke a tablet, ending every session on it; the reason is kept."""
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Say why the tablet is revoked, in a few words.", "error")
        return redirect(url_for("tablets.index"), 303)
    try:
        enrolment.revoke(current_actor(), tablet_id, form.reason.data)
    except FieldError as error:
        flash(error.message, "error")
    except LookupError:
        flash("There is no such tablet.", "error")
    else:
        flash("The tablet is revoked; everyone signed in on it has been signed out.", "success")
    return redirect(url_for("tablets.index"), 303)


@bp.route("/tablet/pin", methods=["GET", "POST"])
@roles(NURSES)
def choose_pin():
    """Choose a PIN for the quick switch; only right after a full sign-in with the password."""
    if login_sessions.method_of(current_user.login_token) != "password":
        flash("Sign in with your password to choose a PIN.", "error")
        return redirect(url_for("home.index"), 303)
    form = PinForm()
    if form.validate_on_submit():
        try:
            pins.set_pin(current_actor(), form.password.data, form.pin.data)
        except FieldError as error:
            show_field_error(form, error)
        else:
            flash("Your PIN is set: Switch nurse on this ward's tablets takes it.", "success")
            return redirect(url_for("home.index"), 303)
    return render_template("tablets/pin.html", form=form)


@bp.route("/tablet/switch", methods=["GET", "POST"])
@public
def switch():
    """Hand the tablet over: tap your name, type your PIN. Only on an enrolled tablet."""
    tablet = enrolment.this_tablet()
    if tablet is None:
        flash(NOT_ENROLLED, "error")
        response = redirect(url_for("auth.sign_in"), 303)
        enrolment.forget_tablet(response)
        return response
    people = pins.who_may_switch(tablet)
    form = SwitchForm()
    form.user_id.choices = [(person.id, person.full_name) for person in people]
    if form.validate_on_submit():
        ending = current_user.login_token if current_user.is_authenticated else None
        result = pins.switch(tablet, form.user_id.data, form.pin.data, current_actor(), ending)
        if result.user is not None:
            session.clear()  # nothing of the last nurse's session passes to the next one
            result.user.login_token = result.token
            login_user(result.user)
            flash(f"Signed in as {result.user.full_name}.", "success")
            return redirect(url_for("home.index"), 303)
        if result.tries_left:
            tries = "1 try" if result.tries_left == 1 else f"{result.tries_left} tries"
            form.pin.errors = [*form.pin.errors, f"{result.problem} {tries} left."]
        else:
            flash(result.problem or "", "error")
            people = pins.who_may_switch(tablet)
            form.user_id.choices = [(person.id, person.full_name) for person in people]
        return render_template("tablets/switch.html", form=form, tablet=tablet), 422
    status = 422 if form.is_submitted() else 200
    return render_template("tablets/switch.html", form=form, tablet=tablet), status


@bp.app_context_processor
def pin_settings() -> dict:
    """The PIN's hours and tries, as every page that explains them says them."""
    config = current_app.config
    return {
        "pin_hours": config["CARELOG_PIN_HOURS"],
        "pin_attempts": config["CARELOG_PIN_ATTEMPTS"],
    }
