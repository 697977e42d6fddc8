"""The nurse's home screen: the ward board, and the next-morning sleep follow-ups."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from carelog.accounts.models import Ward
from carelog.accounts.roles import CARERS, CLINICAL_READERS
from carelog.audit.actor import current_actor
from carelog.care import amendments, queries, rules
from carelog.care.board import LOOKBACK_DAYS, TODAY_WORDS
from carelog.care.board import board as ward_board
from carelog.care.board import follow_ups as waiting_for_sleep
from carelog.care.board_html import LINE_PLACEHOLDER, board_lines
from carelog.care.forms import SleepFollowUpForm, new_submission_key, rating_content
from carelog.care.models import CareSession
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.residents.visibility import sees_every_ward
from carelog.web.boundary import query_number
from carelog.web.fields import show_field_error
from carelog.web.policy import roles

bp = Blueprint("ward", __name__, url_prefix="/ward")


def chosen_ward() -> Ward:
    """The nurse's own ward; others pick one with ?ward=ID (the first ward by default)."""
    if not sees_every_ward():
        return current_user.ward or abort(404)
    wanted = query_number("ward")
    query = select(Ward).order_by(Ward.name)
    if wanted:
        query = query.where(Ward.id == wanted)
    return db.session.scalars(query).first() or abort(404)


@bp.get("/")
@roles(CLINICAL_READERS)
def board():
    """Today's state, the week against target, precautions and consent for every resident."""
    chosen = chosen_ward()
    today = local_today()
    wards = (
        db.session.scalars(select(Ward).order_by(Ward.name)).all()
        if sees_every_ward()
        else [chosen]
    )
    todays = ward_board(chosen.id, today)
    return render_template(
        "care/board.html",
        ward=chosen,
        wards=wards,
        rows=todays.rows,
        lines=board_lines(todays.rows, _line_link_pattern(), today),
        follow_up_count=todays.follow_up_count,
        saved_keys=queries.keys_saved_today(current_user.id, today),
        today=today,
        today_words=TODAY_WORDS,
        lookback_days=LOOKBACK_DAYS,
    )


def _line_link_pattern() -> str:
    """Where a board line leads, with a placeholder for the resident: the session form for those
    who record sessions, the record for the rest. One url_for, not one per line."""
    endpoint = "sessions.new" if current_user.role in CARERS else "residents.show"
    return url_for(endpoint, resident_id=LINE_PLACEHOLDER)


def _follow_up_page(ward: Ward, failed: SleepFollowUpForm | None = None, failed_id: int = 0):
    """The list of yesterday's massages to ask about; a card that failed keeps its answer."""
    pending = waiting_for_sleep(ward.id, local_today())
    forms = {}
    for _, version in pending:
        if version.session_id == failed_id and failed is not None:
            forms[version.session_id] = failed
            continue
        form = SleepFollowUpForm(formdata=None, prefix=f"s{version.session_id}")
        form.submission_key.data = new_submission_key()
        form.expected_version.data = str(version.version_no)
        forms[version.session_id] = form
    return render_template(
        "care/follow_ups.html", ward=ward, pending=pending, forms=forms, failed_id=failed_id
    )


@bp.get("/follow-ups")
@roles(CARERS)
def follow_ups():
    """Yesterday's massages whose night-after sleep is still to be recorded, oldest first."""
    return _follow_up_page(chosen_ward())


@bp.post("/follow-ups/<int:session_id>")
@roles(CARERS)
def record_follow_up(session_id: int):
    """Record how the resident slept the night after a session; it adds a version. A refusal
    shows on that resident's card, with the chosen rating kept."""
    care_session = db.get_or_404(CareSession, session_id)
    if not sees_every_ward() and care_session.resident.ward_id != current_user.ward_id:
        abort(404)
    form = SleepFollowUpForm(prefix=f"s{session_id}")
    if not form.validate_on_submit():
        return _refused(form, session_id, care_session)
    rating = rating_content(form, "sleep_after")
    try:
        saved = amendments.record_sleep_after(
            current_actor(),
            session_id,
            form.submission_key.data,
            rating["sleep_after_value"],
            rating["sleep_after_status"],
            rating["sleep_after_rater"],
            int(form.expected_version.data),
        )
    except rules.CareError as error:
        show_field_error(form, error)
        return _refused(form, session_id, care_session)
    if saved.replay:
        flash("That was already saved; nothing was added twice.", "info")
    else:
        flash(f"Sleep recorded for {care_session.resident.display_name}.", "success")
    return redirect(url_for("ward.follow_ups"), 303)


def _refused(form: SleepFollowUpForm, session_id: int, care_session: CareSession):
    """Back to the list with the error on the card; if the session is not listed, say so above."""
    ward = care_session.resident.ward if sees_every_ward() else chosen_ward()
    listed = {v.session_id for _, v in waiting_for_sleep(ward.id, local_today())}
    if session_id in listed:
        return _follow_up_page(ward, form, session_id), 200
    messages = [e for errors in form.errors.values() for e in errors]
    flash("Not saved: " + " ".join(messages), "error")
    return redirect(url_for("ward.follow_ups"), 303)
