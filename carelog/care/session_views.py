"""Logging a session at the bedside: the full form, a decline, a not-done; a resident's history."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carelog.accounts.roles import CARERS, CLINICAL_READERS
from carelog.audit.actor import current_actor
from carelog.audit.reads import record_form_opened, record_view
from carelog.care import amendments, queries, recording, rules
from carelog.care.entries import entry_content, submitted
from carelog.care.forms import DeclinedForm, NotDoneForm, SessionForm, new_submission_key
from carelog.care.models import CareSession, CareSessionVersion, SessionContent
from carelog.care.versions import comparison
from carelog.database import utcnow
from carelog.extensions import db
from carelog.local_time import local, local_date, local_today
from carelog.residents.as_of import record_at
from carelog.residents.visibility import resident_or_404
from carelog.web.boundary import query_page
from carelog.web.fields import show_field_error
from carelog.web.policy import roles

bp = Blueprint("sessions", __name__)


def _present_or_404(resident_id: int):
    """A resident the user may see who has not left the home."""
    resident = resident_or_404(resident_id)
    if resident.has_left(local_today()):
        abort(404)
    return resident


def _quick_forms() -> tuple[DeclinedForm, NotDoneForm]:
    declined, not_done = DeclinedForm(formdata=None), NotDoneForm(formdata=None)
    declined.submission_key.data = new_submission_key()
    not_done.submission_key.data = new_submission_key()
    return declined, not_done


def _fresh_session_form(resident) -> SessionForm:
    """A new session form: a one-time key, the time now, and what the care plan says to use
    (hands, pressure, product) with the usual outcome; every rating and "Rated by" left empty."""
    form = SessionForm(formdata=None)
    form.submission_key.data = new_submission_key()
    form.occurred_at.data = local(utcnow()).replace(second=0, microsecond=0, tzinfo=None)
    form.product.data = resident.preferred_product
    form.pressure.data = "light" if resident.light_pressure_only else "normal"
    form.hands.data = rules.usual_hands(resident, resident.consent_on(local_today()))
    form.outcome.data = "completed"
    return form


def _render_form(resident, form, declined=None, not_done=None, status=200):
    default_declined, default_not_done = _quick_forms()
    stop_reasons = rules.reasons_to_stop(resident, local_today())
    if stop_reasons and not declined and not not_done:
        default_not_done.not_done_reason.data = "deferred"
    page = render_template(
        "care/form.html",
        resident=resident,
        consent=resident.current_consent,
        today=local_today(),
        stop_reasons=stop_reasons,
        may_override=recording.may_override_a_stop(current_actor()),
        form=form,
        declined_form=declined or default_declined,
        not_done_form=not_done or default_not_done,
    )
    return page, status


def _saved(saved: recording.Saved, key: str):
    if saved.replay:
        flash("This session was already saved; nothing was added twice.", "info")
    else:
        flash("Session saved.", "success")
    return redirect(url_for("sessions.show", session_id=saved.session_id, saved=key), 303)


def _save(resident, key: str, content: SessionContent, form):
    """Save through the use case; refusals go back to the form next to their field."""
    try:
        saved = recording.record_session(
            current_actor(), resident.id, key, content, submitted(form)
        )
        return _saved(saved, key)
    except rules.SubmissionConflict as error:
        saved_at = url_for("sessions.show", session_id=error.saved_session_id)
        page = render_template(
            "web/error.html",
            status=409,
            title="Already saved",
            message=error.message,
            link=(saved_at, "Open what was saved"),
        )
        return page, 409
    except rules.CareError as error:
        show_field_error(form, error)
        if isinstance(form, SessionForm):
            return _render_form(resident, form)
        declined, not_done = (form, None) if isinstance(form, DeclinedForm) else (None, form)
        return _render_form(resident, _fresh_session_form(resident), declined, not_done)


@bp.route("/residents/<int:resident_id>/session", methods=["GET", "POST"])
@roles(CARERS)
def new(resident_id: int):
    """The full session form: precautions first, ratings before, the timer, ratings after."""
    resident = _present_or_404(resident_id)
    record_form_opened(resident.id, "session form")
    if request.method == "GET":
        return _render_form(resident, _fresh_session_form(resident))
    form = SessionForm()
    if not form.validate_on_submit():
        return _render_form(resident, form)
    content = entry_content(form, given_by_id=current_user.id)
    return _save(resident, form.submission_key.data, content, form)


@bp.post("/residents/<int:resident_id>/session/declined")
@roles(CARERS)
def declined(resident_id: int):
    """The resident declined: saved as a complete record."""
    resident = _present_or_404(resident_id)
    form = DeclinedForm()
    if not form.validate_on_submit():
        return _render_form(resident, _fresh_session_form(resident), declined=form)
    content = entry_content(form, given_by_id=current_user.id)
    return _save(resident, form.submission_key.data, content, form)


@bp.post("/residents/<int:resident_id>/session/not-done")
@roles(CARERS)
def not_done(resident_id: int):
    """The session did not happen (unwell, asleep, away, other): saved as a complete record."""
    resident = _present_or_404(resident_id)
    form = NotDoneForm()
    if not form.validate_on_submit():
        return _render_form(resident, _fresh_session_form(resident), not_done=form)
    content = entry_content(form, given_by_id=current_user.id)
    return _save(resident, form.submission_key.data, content, form)


@bp.get("/sessions/<int:session_id>")
@roles(CLINICAL_READERS)
def show(session_id: int):
    """One session as recorded, with every version."""
    care_session = db.session.scalar(
        select(CareSession)
        .options(selectinload(CareSession.versions).selectinload(CareSessionVersion.created_by))
        .where(CareSession.id == session_id)
    ) or abort(404)
    resident = resident_or_404(care_session.resident_id)
    current = care_session.versions[-1]
    page = render_template(
        "care/show.html",
        care_session=care_session,
        current=current,
        resident=resident,
        resident_then=record_at(resident, current.occurred_at),
        day=local_date(current.occurred_at),
        saved_key=request.args.get("saved", ""),
        comparison=comparison(care_session.versions),
        may_change=not current.voided and amendments.may_change(current_user, care_session),
    )
    record_view(resident.id, f"session {session_id}")
    return page


@bp.get("/residents/<int:resident_id>/sessions")
@roles(CLINICAL_READERS)
def history(resident_id: int):
    """A resident's sessions, newest first, with ratings before and after."""
    resident = resident_or_404(resident_id)
    page = queries.history(resident.id, query_page())
    listing = render_template("care/history.html", resident=resident, page=page)
    record_view(resident.id, "history")
    return listing
