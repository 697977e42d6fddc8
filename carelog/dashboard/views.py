"""The care manager's home page (read-only for auditors), and acknowledging an override."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import StringField

from carelog.accounts import lockouts
from carelog.accounts.forms import ReasonForm
from carelog.accounts.models import Ward
from carelog.accounts.roles import MANAGERS, REPORT_READERS
from carelog.audit.actor import current_actor
from carelog.care.models import CareSession
from carelog.dashboard import attention, ward_charts
from carelog.dashboard.acknowledgements import acknowledge_override
from carelog.dashboard.delivery import delivery, periods, residents_this_month
from carelog.errors import FieldError
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.reports.trend_data import ward_trend
from carelog.reports.trends import TIMES_OF_DAY
from carelog.web.fields import max_length
from carelog.web.policy import roles

bp = Blueprint("dashboard", __name__, url_prefix="/manager")
LIST_LIMIT = 50  # lines per list; the rest are counted ("and 12 more"), newest shown first


class AcknowledgeForm(FlaskForm):
    """A manager has read an override; a note is optional."""

    note = StringField("Note (optional)", validators=[max_length(300)])


@bp.get("/")
@roles(REPORT_READERS)
def index():
    """What needs attention today, and care planned against given for each ward."""
    today = local_today()
    people = residents_this_month(today)
    known = {person.id: person for person in people}
    return render_template(
        "dashboard/index.html",
        today=today,
        periods=periods(today),
        delivery=delivery(today, people),
        not_massaged=attention.not_massaged(today, people),
        reviews=attention.consent_reviews(today, people),
        overrides=attention.overrides(today, known),
        observations=attention.observations(today, known, LIST_LIMIT),
        sleep_missing=attention.sleep_missing(today, known, LIST_LIMIT),
        recent_days=attention.RECENT_DAYS,
        shown_at_most=LIST_LIMIT,
        form=AcknowledgeForm(),
        locked=lockouts.locked_accounts(),
        unlock_form=ReasonForm(),
    )


@bp.get("/wards/<int:ward_id>/charts")
@roles(REPORT_READERS)
def ward_charts_page(ward_id: int):
    """Every resident of a ward at once: a small chart of the last four weeks each."""
    ward = db.get_or_404(Ward, ward_id)
    span, panels = ward_charts.ward_panels(ward.id, local_today())
    return render_template(
        "dashboard/ward_charts.html", ward=ward, span=span, panels=panels, days=ward_charts.DAYS
    )


@bp.get("/wards/<int:ward_id>/trends")
@roles(REPORT_READERS)
def ward_trends_page(ward_id: int):
    """A ward's last 12 months, month by month."""
    ward = db.get_or_404(Ward, ward_id)
    residents, trends = ward_trend(ward.id, local_today())
    return render_template(
        "reports/trends.html",
        heading=f"{ward.name} ward",
        about=f"Massages given to the {residents} residents who count under {ward.name} ward "
        "(the ward they are on today, or left from) and were in the home in these months.",
        back_link=url_for("dashboard.index"),
        back_words="Overview",
        trends=trends,
        times_of_day=TIMES_OF_DAY,
    )


@bp.post("/overrides/<int:session_id>/acknowledge")
@roles(MANAGERS)
def acknowledge(session_id: int):
    """Acknowledge the override on a session's current version; audited, once per version."""
    db.get_or_404(CareSession, session_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        messages = [e for errors in form.errors.values() for e in errors]
        flash("Not acknowledged: " + " ".join(messages), "error")
        return redirect(url_for("dashboard.index", _anchor="overrides"), 303)
    try:
        done = acknowledge_override(current_actor(), session_id, form.note.data)
    except FieldError as error:
        flash(error.message, "error")
        return redirect(url_for("dashboard.index", _anchor="overrides"), 303)
    if done.already:
        flash("Already acknowledged; nothing was added.", "info")
    else:
        flash("Override acknowledged.", "success")
    return redirect(url_for("dashboard.index", _anchor="overrides"), 303)
