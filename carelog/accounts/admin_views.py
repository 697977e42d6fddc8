"""The admin's pages: wards and staff accounts (deactivated, never deleted)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from carelog.accounts import access_requests, lockouts, staff_accounts
from carelog.accounts.forms import AccessDecisionForm, ReasonForm, UserForm, WardForm
from carelog.accounts.models import AccessRequest, User, Ward
from carelog.accounts.roles import ACCESS_APPROVERS, ADMINS, UNLOCKERS, Role
from carelog.audit.actor import current_actor
from carelog.database import utcnow
from carelog.errors import FieldError
from carelog.extensions import db
from carelog.web.fields import options, show_field_error
from carelog.web.policy import roles

bp = Blueprint("admin", __name__, url_prefix="/admin")

WAITING = "{what} waits for a care manager or a second admin to approve it (Access requests)."


def _ward_choices() -> list[tuple[int, str]]:
    wards = db.session.scalars(select(Ward).order_by(Ward.name))
    return options([(0, "No ward")] + [(w.id, w.name) for w in wards])


@bp.get("/users")
@roles(ADMINS)
def users():
    """List every account, active or not, with any lockout and a way to end it."""
    accounts_list = db.session.scalars(
        select(User).options(db.joinedload(User.ward)).order_by(User.active.desc(), User.full_name)
    ).all()
    return render_template(
        "accounts/users.html", users=accounts_list, now=utcnow(), unlock_form=ReasonForm()
    )


@bp.post("/users/<int:user_id>/unlock")
@roles(UNLOCKERS)
def unlock(user_id: int):
    """End a lockout now, with a reason (audited); back to the page the button was on."""
    user = db.get_or_404(User, user_id)
    form = ReasonForm()
    back = url_for("admin.users") if current_user.role == Role.ADMIN else url_for("dashboard.index")
    if not form.validate_on_submit():
        flash(f"Not unlocked: say why you are unlocking {user.full_name}'s account.", "error")
        return redirect(back, 303)
    try:
        lockouts.unlock(current_actor(), user.id, form.reason.data)
    except FieldError as error:
        flash(error.message, "error")
    else:
        flash(f"{user.full_name} can sign in again.", "success")
    return redirect(back, 303)


@bp.route("/users/new", methods=["GET", "POST"])
@roles(ADMINS)
def new_user():
    """Create a staff account."""
    form = UserForm()
    form.ward_id.choices = _ward_choices()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append("Set a first password for the account.")
        else:
            try:
                staff_accounts.create_user(
                    current_actor(),
                    username=form.username.data,
                    full_name=form.full_name.data,
                    role=Role(form.role.data),
                    password=form.password.data,
                    ward_id=form.ward_id.data or None,
                    registration_number=form.registration_number.data,
                )
            except staff_accounts.AccountError as error:
                show_field_error(form, error)
            else:
                flash(_created_message(form.username.data, form.role.data), "success")
                return redirect(url_for("admin.users"), 303)
    return render_template("accounts/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles(ADMINS)
def edit_user(user_id: int):
    """Change an account, reset its password, or deactivate it."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    form.ward_id.choices = _ward_choices()
    form.username.data = user.username  # fixed once created: it names the person in the trail
    if not form.is_submitted():
        form.ward_id.data = user.ward_id or 0
    if form.validate_on_submit():
        try:
            saved = staff_accounts.update_user(
                current_actor(),
                user.id,
                {
                    "full_name": form.full_name.data,
                    "role": Role(form.role.data).value,
                    "ward_id": form.ward_id.data or None,
                    "registration_number": form.registration_number.data or None,
                },
            )
            if form.password.data:
                staff_accounts.set_password(current_actor(), user.id, form.password.data)
        except FieldError as error:
            show_field_error(form, error)
        else:
            if saved.role != form.role.data:
                flash(WAITING.format(what=f"The new role ({Role(form.role.data).label})"), "info")
            flash("Account saved.", "success")
            return redirect(url_for("admin.users"), 303)
    return render_template(
        "accounts/user_form.html",
        form=form,
        user=user,
        reason_form=ReasonForm(),
        waiting=access_requests.pending_for(db.session, user.id),
    )


@bp.post("/users/<int:user_id>/active")
@roles(ADMINS)
def toggle_active(user_id: int):
    """Deactivate or reactivate an account, with a reason."""
    user = db.get_or_404(User, user_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Say why the account is being deactivated or reactivated.", "error")
        return redirect(url_for("admin.edit_user", user_id=user.id), 303)
    try:
        staff_accounts.set_active(current_actor(), user.id, not user.active, form.reason.data)
    except FieldError as error:
        flash(error.message, "error")
    else:
        flash("Account updated.", "success")
    return redirect(url_for("admin.users"), 303)


def _created_message(username: str, role: str) -> str:
    if access_requests.needs_approval(current_actor(), role):
        return f"Account {username} created. " + WAITING.format(what="It")
    return f"Account {username} created."


@bp.get("/access")
@roles(ACCESS_APPROVERS)
def access():
    """Requests for clinical access waiting for a decision by someone other than who asked."""
    return render_template(
        "accounts/access.html", requests=access_requests.pending(), form=AccessDecisionForm()
    )


@bp.post("/access/<int:request_id>")
@roles(ACCESS_APPROVERS)
def decide_access(request_id: int):
    """Approve or refuse one request; the decision and its note go into the trail."""
    db.get_or_404(AccessRequest, request_id)
    form = AccessDecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        try:
            access_requests.decide(current_actor(), request_id, approve, form.note.data)
        except FieldError as error:
            flash(error.message, "error")
        else:
            flash("Approved." if approve else "Refused.", "success")
    else:
        flash("The form had expired or a note was too long; please try again.", "error")
    return redirect(url_for("admin.access"), 303)


@bp.route("/wards", methods=["GET", "POST"])
@roles(ADMINS)
def wards():
    """List the wards and add one."""
    form = WardForm()
    if form.validate_on_submit():
        try:
            staff_accounts.create_ward(current_actor(), form.name.data.strip())
        except staff_accounts.AccountError as error:
            form.name.errors.append(str(error))
        else:
            flash("Ward added.", "success")
            return redirect(url_for("admin.wards"), 303)
    ward_list = db.session.scalars(select(Ward).order_by(Ward.name)).all()
    return render_template("accounts/wards.html", wards=ward_list, form=form)


@bp.route("/wards/<int:ward_id>", methods=["GET", "POST"])
@roles(ADMINS)
def edit_ward(ward_id: int):
    """Rename a ward."""
    ward = db.get_or_404(Ward, ward_id)
    form = WardForm(obj=ward)
    if form.validate_on_submit():
        try:
            staff_accounts.rename_ward(current_actor(), ward.id, form.name.data.strip())
        except staff_accounts.AccountError as error:
            form.name.errors.append(str(error))
        else:
            flash("Ward renamed.", "success")
            return redirect(url_for("admin.wards"), 303)
    return render_template("accounts/ward_form.html", form=form, ward=ward)
