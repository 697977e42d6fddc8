"""The auditor's read-only workspace: the trail, a resident's record, exports and integrity."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import SelectField, StringField, ValidationError
from wtforms.validators import Optional

from carelog.accounts.models import User, Ward
from carelog.accounts.roles import AUDITORS
from carelog.audit import chain, search, sentences
from carelog.audit.reads import record_read, record_view
from carelog.audit.search import AuditFilter
from carelog.extensions import db
from carelog.reports import proof
from carelog.residents import history
from carelog.residents.models import Resident
from carelog.residents.visibility import resident_or_404
from carelog.web.boundary import RecordSelectField, query_number
from carelog.web.fields import date_field, options
from carelog.web.policy import roles
from carelog.web.request_body import accepts_upload

bp = Blueprint("auditor", __name__, url_prefix="/audit")

REPORT_UPLOAD_LIMIT = 64 * 1024 * 1024  # a whole home's batch with charts stays well under this


class TrailFilterForm(FlaskForm):
    """The trail's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET search that changes nothing

    date_from = date_field("From", required=False)
    date_to = date_field("To", required=False)
    actor_id = RecordSelectField("User", validators=[Optional()])
    resident_id = RecordSelectField("Resident", validators=[Optional()])
    ward_id = RecordSelectField("Ward", validators=[Optional()])
    action = SelectField("Action", validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("This is before the From date: swap them, or choose again.")


class ReportFileForm(FlaskForm):
    """A report PDF, to ask whether carelog made exactly that file."""

    pdf = FileField(
        "A report as a PDF file", validators=[FileRequired(message="Choose the PDF file.")]
    )


class CheckpointForm(FlaskForm):
    """A checkpoint printed on a report, to check the trail against."""

    class Meta:
        csrf = False

    checkpoint = StringField("Checkpoint (HASH:COUNT, as printed on a report)")


def _filter_form() -> tuple[TrailFilterForm, AuditFilter]:
    form = TrailFilterForm(request.args)
    users = db.session.scalars(select(User).order_by(User.full_name))
    people = db.session.scalars(
        select(Resident).order_by(Resident.family_name, Resident.given_name)
    )
    wards = db.session.scalars(select(Ward).order_by(Ward.name))
    form.actor_id.choices = options([(0, "Anyone")] + [(u.id, u.full_name) for u in users])
    form.resident_id.choices = options([(0, "Any")] + [(r.id, r.known_as) for r in people])
    form.ward_id.choices = options([(0, "Any")] + [(w.id, w.name) for w in wards])
    form.action.choices = options(
        [("", "Any")] + [(a, sentences.action_label(a)) for a in search.actions()]
    )
    if not form.validate():
        return form, AuditFilter()
    return form, AuditFilter(
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        actor_id=form.actor_id.data or None,
        resident_id=form.resident_id.data or None,
        ward_id=form.ward_id.data or None,
        action=form.action.data or None,
    )


@bp.get("/")
@roles(AUDITORS)
def trail():
    """The audit trail, filtered, newest first, a page at a time."""
    form, audit_filter = _filter_form()
    result = search.page(audit_filter, query_number("before"))
    if audit_filter.resident_id:  # recorded after the listing, which shows the trail as it was
        record_view(audit_filter.resident_id, "audit trail")
    return render_template(
        "audit/trail.html",
        form=form,
        page=result,
        names=sentences.names_for(
            result.entries,
            {c.value: c.label for c in form.resident_id.choices if c.value},  # known_as
        ),
        filters={k: v for k, v in request.args.items() if k != "before" and v},
        before=request.args.get("before"),
    )


@bp.get("/export.csv")
@roles(AUDITORS)
def export():
    """The filtered trail as CSV; the export itself is recorded in the trail."""
    form, audit_filter = _filter_form()
    if form.errors:  # never the whole trail in place of a filter that could not be read
        problems = "; ".join(f"{form[k].label.text}: {' '.join(v)}" for k, v in form.errors.items())
        abort(400, description=problems)
    filters = {name: str(value) for name, value in vars(audit_filter).items() if value}
    record_read("audit.export", "audit_entry", audit_filter.resident_id, filters)
    return Response(
        stream_with_context(search.csv_lines(audit_filter)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=carelog-audit-trail.csv"},
    )


@bp.get("/integrity")
@roles(AUDITORS)
def integrity():
    """Verify the chain now, and optionally against a checkpoint printed on a report."""
    form = CheckpointForm(request.args)
    expect, problem = None, None
    if form.checkpoint.data:
        try:
            expect = chain.parse_checkpoint(form.checkpoint.data)
        except ValueError as error:
            problem = f"That checkpoint is not in the form HASH:COUNT ({error})."
    started = time.perf_counter()
    result = chain.verify(db.session, expect)
    seconds = time.perf_counter() - started
    return _integrity_page(
        result,
        seconds=seconds,
        form=form,
        expect=expect,
        problem=problem,
        mistyped=bool(expect and not result.ok and chain.likely_mistyped(db.session, expect)),
        named_report=proof.made(request.args.get("report", "")[:40]),
    )


@bp.get("/qr/<report>/<checkpoint>")
@roles(AUDITORS)
def printed_code(report: str, checkpoint: str):
    """Where the QR code printed on a report leads: the integrity page with the report's id
    and checkpoint filled in (the code holds them in capitals, which make a smaller code)."""
    return redirect(
        url_for(".integrity", report=report.lower()[:40], checkpoint=checkpoint.lower()[:200])
    )


@bp.post("/integrity/report")
@roles(AUDITORS)
@accepts_upload(REPORT_UPLOAD_LIMIT)
def verify_report():
    """Did carelog make exactly this PDF, for whom and when; does the trail hold at its
    checkpoint? The file is read, not kept."""
    file_form = ReportFileForm()
    identified = None
    if file_form.validate_on_submit():
        identified = proof.identify(file_form.pdf.data.read())
    return _integrity_page(chain.verify(db.session), file_form=file_form, identified=identified)


def _integrity_page(result, **shown):
    """The integrity page: the chain verified now, and whichever check was asked for."""
    page = {
        "seconds": 0.0,
        "form": CheckpointForm(formdata=None),
        "expect": None,
        "problem": None,
        "mistyped": False,
        "file_form": ReportFileForm(),
        "named_report": None,
        "identified": None,
    }
    return render_template("audit/integrity.html", result=result, **{**page, **shown})


@bp.get("/residents/<int:resident_id>")
@roles(AUDITORS)
def resident(resident_id: int):
    """Everything recorded about a resident, and everyone who viewed, printed or exported it."""
    person = resident_or_404(resident_id)
    changes = search.resident_changes(resident_id)
    reads = search.resident_reads(resident_id)
    page = render_template(
        "audit/resident.html",
        resident=person,
        changes=changes,
        history=history.changes(resident_id),
        reads=reads,
        names=sentences.names_for([*changes, *reads]),
    )
    record_view(resident_id, "audit record")
    return page
