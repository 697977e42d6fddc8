"""Signing in and out of the shared tablet."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from carelog.accounts import staff_accounts
from carelog.accounts.forms import ChoosePasswordForm, SignInForm
from carelog.accounts.roles import ALL_STAFF
from carelog.audit.actor import current_actor
from carelog.errors import FieldError
from carelog.local_time import local_clock
from carelog.tablets import enrolment, pins
from carelog.tablets.forms import SwitchForm
from carelog.web.fields import show_field_error
from carelog.web.policy import public, roles

bp = Blueprint("auth", __name__, url_prefix="/auth")


SIGN_IN_FAILED = (
    "Sign-in failed: check your username and password. "
    "After several failed tries the account is locked for a while."
)


AWAITING_APPROVAL = (
    "This account is waiting for a care manager or a second admin to approve it. "
    "Ask them, then sign in again."
)

LOCKED = (
    "This account is locked until {until} after too many failed sign-ins; "
    "ask a care manager or an admin to unlock it."
)

TOO_MANY_TRIES = (
    "Too many failed sign-ins from this device. Try again in {minutes} minutes, "
    "or ask a care manager for help."
)

SIGNED_OUT_MESSAGES = {
    "idle": (
        "You were signed out because the tablet was not used for a while. "
        "Anything you had typed is kept on this tablet for you: sign in to carry on."
    ),
    "expired": "Your sign-in had lasted its maximum time. Please sign in again.",
}


def _safe_next(target: str | None) -> str | None:
    """Only follow a next= address on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:  # browsers read "/\\evil.example" as "//evil.example"
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    """Sign in with a username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        tablet = enrolment.this_tablet()
        result = staff_accounts.sign_in(
            form.username.data,
            form.password.data,
            current_actor(),
            (tablet.id, tablet.name) if tablet else None,
        )
        if result.user is not None:
            session.clear()  # a new session at sign-in: nothing carries over from before
            result.user.login_token = result.token
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"), 303)
        if result.wait is not None:
            minutes = max(1, math.ceil(result.wait.total_seconds() / 60))
            flash(TOO_MANY_TRIES.format(minutes=minutes), "error")
            retry_after = str(math.ceil(result.wait.total_seconds()))
            return _sign_in_page(form), 429, {"Retry-After": retry_after}
        if result.locked_until is not None:
            flash(LOCKED.format(until=local_clock(result.locked_until)), "error")
        else:
            flash(AWAITING_APPROVAL if result.awaiting_approval else SIGN_IN_FAILED, "error")
        return _sign_in_page(form), 200
    reason = g.get("signed_out_for") or request.args.get("reason")
    if reason in SIGNED_OUT_MESSAGES:
        flash(SIGNED_OUT_MESSAGES[reason], "info")
    return _sign_in_page(form)


def _sign_in_page(form: SignInForm) -> str:
    """The sign-in form; on an enrolled tablet, the quick switch by PIN above it."""
    tablet = enrolment.this_tablet()
    switch_form = None
    if tablet is not None:
        switch_form = SwitchForm(formdata=None)
        switch_form.user_id.choices = [(u.id, u.full_name) for u in pins.who_may_switch(tablet)]
    return render_template(
        "accounts/sign_in.html", form=form, tablet=tablet, switch_form=switch_form
    )


@bp.post("/sign-out")
@roles(ALL_STAFF)
def sign_out():
    """Sign out, ending the session on the server too."""
    idle = request.form.get("reason") == "idle"
    staff_accounts.sign_out(
        current_actor(), current_user.login_token, "idle" if idle else "signed_out"
    )
    logout_user()
    session.clear()
    if idle:
        return redirect(url_for("auth.sign_in", reason="idle"), 303)
    flash("You have signed out.", "info")
    return redirect(url_for("auth.sign_in"), 303)


@bp.post("/keepalive")
@roles(ALL_STAFF)
def keepalive():
    """Tell the server the tablet is in use (typing, a running timer); no data changes."""
    return "", 204


@bp.route("/choose-password", methods=["GET", "POST"])
@roles(ALL_STAFF)
def choose_password():
    """Replace a password an admin chose with one of your own; nothing else opens until then."""
    if not current_user.must_choose_password:
        return redirect(url_for("home.index"))
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            staff_accounts.choose_own_password(current_actor(), form.password.data)
        except FieldError as error:
            show_field_error(form, error)
        else:
            flash("Your new password is set. Only you know it.", "success")
            return redirect(url_for("home.index"), 303)
    return render_template("accounts/choose_password.html", form=form)
