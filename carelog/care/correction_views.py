"""Corrections and "entered in error": new versions with a reason; the original stays readable."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from carelog.accounts.roles import CARERS
from carelog.audit.actor import current_actor
from carelog.audit.reads import record_form_opened
from carelog.care import amendments, rules
from carelog.care.forms import (
    CorrectionForm,
    VoidForm,
    form_data_from,
    new_submission_key,
    session_content,
)
from carelog.care.models import CareSession
from carelog.care.vocabulary import GIVEN
from carelog.extensions import db
from carelog.residents.visibility import resident_or_404
from carelog.web.policy import roles

bp = Blueprint("corrections", __name__, url_prefix="/sessions")


def _changeable(session_id: int) -> CareSession:
    """The session, if the signed-in user may change it; 403 or 404 otherwise."""
    care_session = db.get_or_404(CareSession, session_id)
    resident_or_404(care_session.resident_id)
    if not amendments.may_change(current_user, care_session):
        abort(403)
    if care_session.current.voided:
        abort(409)
    return care_session


def _page(care_session, form, void_form, status=200):
    resident = care_session.resident
    return render_template(
        "care/correct.html",
        care_session=care_session,
        resident=resident,
        consent=resident.current_consent,
        form=form,
        void_form=void_form,
        today=care_session.current.occurred_at.date(),
    ), status


def _fresh_void_form(care_session) -> VoidForm:
    form = VoidForm(formdata=None)
    form.submission_key.data = new_submission_key()
    form.expected_version.data = str(care_session.current_version)
    return form


@bp.route("/<int:session_id>/correct", methods=["GET", "POST"])
@roles(CARERS)
def correct(session_id: int):
    """Correct a given session: the form comes filled with the current version."""
    care_session = _changeable(session_id)
    current = care_session.current
    record_form_opened(care_session.resident_id, f"correction of session {session_id}")
    if current.outcome not in GIVEN:
        flash(
            "A decline or not-done entry cannot be edited: mark it entered in error and "
            "record the session again.",
            "info",
        )
        return _page(care_session, None, _fresh_void_form(care_session))
    form = CorrectionForm(data=form_data_from(current))
    if not form.is_submitted():
        form.submission_key.data = new_submission_key()
        form.expected_version.data = str(care_session.current_version)
    if form.validate_on_submit():
        try:
            amendments.correct_session(
                current_actor(),
                current_user,
                session_id,
                form.submission_key.data,
                session_content(form, current.given_by_id, base=current.content).columns(),
                form.reason.data,
                int(form.expected_version.data or 0),
            )
        except rules.CareError as error:
            if error.field == "expected_version":
                flash(str(error), "error")  # the form below now shows the latest version
                return redirect(url_for("corrections.correct", session_id=session_id), 303)
            field = getattr(form, error.field or "", None) or form.reason
            field.errors = [*field.errors, str(error)]
        else:
            flash("Correction saved. The earlier version stays in the record.", "success")
            return redirect(url_for("sessions.show", session_id=session_id), 303)
    return _page(care_session, form, _fresh_void_form(care_session))


@bp.post("/<int:session_id>/void")
@roles(CARERS)
def void(session_id: int):
    """Mark an entry as entered in error, with a reason."""
    care_session = _changeable(session_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            amendments.void_session(
                current_actor(),
                current_user,
                session_id,
                form.submission_key.data,
                form.reason.data,
                int(form.expected_version.data or 0),
            )
        except rules.CareError as error:
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            flash("Marked as entered in error. It stays visible, struck through.", "success")
            return redirect(url_for("sessions.show", session_id=session_id), 303)
    correction = None
    if care_session.current.outcome in GIVEN:
        correction = CorrectionForm(formdata=None, data=form_data_from(care_session.current))
        correction.submission_key.data = new_submission_key()
        correction.expected_version.data = str(care_session.current_version)
    return _page(care_session, correction, form)
