"""Reports for care managers and auditors: a resident's month, a ward batch, the sessions CSV."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from carelog.accounts.models import Ward
from carelog.accounts.roles import REPORT_READERS
from carelog.audit.actor import current_actor
from carelog.audit.reads import record_read
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.reports import batch_jobs, gather, proof
from carelog.reports.document import printed_code_address
from carelog.reports.forms import BatchForm, ExportForm, ReportForm
from carelog.reports.models import ReportJob
from carelog.reports.month import Month
from carelog.reports.pdf.render import render_resident_report
from carelog.reports.sessions_csv import csv_text
from carelog.reports.trend_data import resident_trend
from carelog.residents.models import Resident
from carelog.web.downloads import attachment, download_name
from carelog.web.fields import options
from carelog.web.policy import roles

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _last_month() -> Month:
    first = local_today().replace(day=1)
    previous = date.fromordinal(first.toordinal() - 1)
    return Month(previous.year, previous.month)


def _choices(form) -> None:
    wards = [(w.id, w.name) for w in db.session.scalars(select(Ward).order_by(Ward.name))]
    form.ward_id.choices = options([(0, "Whole home")] + wards)
    if hasattr(form, "resident_id"):
        people = db.session.scalars(
            select(Resident).order_by(Resident.family_name, Resident.given_name)
        )
        form.resident_id.choices = options([(0, "Everyone")] + [(r.id, r.known_as) for r in people])


def _printed_code_root() -> str:
    """Where the QR codes printed on reports lead (…/audit/qr/), on the address in use."""
    sample = url_for("auditor.printed_code", report="ID", checkpoint="CHECKPOINT", _external=True)
    return sample.removesuffix("ID/CHECKPOINT")


def _verify_url(report_id: str, report) -> str:
    """The integrity page with this report's id and checkpoint filled in (the QR code)."""
    checkpoint = proof.checkpoint_of(report.fingerprint)
    return printed_code_address(_printed_code_root(), report_id, checkpoint)


def _ids_prefixed(form: FlaskForm, prefix: str) -> None:
    """Give a form's fields page-unique ids; the names (the query parameters) stay the same."""
    for field in form:
        field.id = field.label.field_id = f"{prefix}-{field.name}"


@bp.get("/")
@roles(REPORT_READERS)
def index():
    """Choose a report: one resident's month, a whole ward, or the sessions CSV."""
    form = ReportForm(formdata=None, month=_last_month())
    pdf_form = ReportForm(formdata=None, month=_last_month())
    batch_form = BatchForm(formdata=None, month=_last_month())
    _choices(form)
    _choices(pdf_form)
    _choices(batch_form)
    pdf_form.resident_id.choices = pdf_form.resident_id.choices[1:]  # a PDF is for one person
    for prefixed, prefix in ((pdf_form, "pdf"), (batch_form, "batch"), (form, "csv")):
        _ids_prefixed(prefixed, prefix)
    jobs = db.session.scalars(
        select(ReportJob)
        .where(ReportJob.requested_by_id == current_user.id)
        .order_by(ReportJob.created_at.desc())
        .limit(5)
    ).all()
    return render_template(
        "reports/index.html",
        form=form,
        pdf_form=pdf_form,
        batch_form=batch_form,
        jobs=jobs,
        state=batch_jobs.state,
    )


def _valid_query_form() -> ReportForm:
    form = ReportForm(request.args)
    _choices(form)
    if not form.validate():
        abort(400, description=_form_problems(form))
    return form


def _form_problems(form: FlaskForm) -> str:
    return "; ".join(f"{form[k].label.text}: {' '.join(v)}" for k, v in form.errors.items())


@bp.get("/resident.pdf")
@roles(REPORT_READERS)
def resident_pdf():
    """One resident's monthly report as PDF; downloading it is recorded."""
    form = _valid_query_form()
    if not form.resident_id.data:
        abort(400, description="Choose a resident.")
    month = form.month.data
    assert month is not None  # validated above
    found = gather.build(month, current_user.full_name, resident_id=form.resident_id.data)
    if not found:
        abort(404, description="That resident was not in the home that month.")
    report_id = str(uuid.uuid4())
    report = replace(found[0], report_id=report_id, verify_url=_verify_url(report_id, found[0]))
    person = db.session.get(Resident, form.resident_id.data)
    assert person is not None  # the report was built for them
    trend = resident_trend(person, local_today(), month) if form.trend.data else None
    pdf = render_resident_report(report, trend)
    proof.record_download(
        report_id,
        pdf,
        str(month),
        [form.resident_id.data],
        proof.checkpoint_of(report.fingerprint),
        "resident",
    )
    name = download_name(person.display_name, str(month), "pdf")
    return Response(pdf, mimetype="application/pdf", headers=attachment(name))


@bp.get("/sessions.csv")
@roles(REPORT_READERS)
def sessions_csv():
    """Sessions as CSV, filtered by month, ward or resident; the export is recorded."""
    form = ExportForm(request.args)
    if not form.validate():
        abort(400, description=_form_problems(form))
    month = form.month.data
    ward_id = form.ward_id.data or None
    resident_id = form.resident_id.data or None
    if ward_id and db.session.get(Ward, ward_id) is None:
        abort(404, description="There is no such ward.")
    if resident_id and db.session.get(Resident, resident_id) is None:
        abort(404, description="There is no such resident.")
    record_read(
        "export.download",
        "report",
        resident_id,
        {"month": str(month) if month else None, "ward_id": ward_id, "kind": "sessions.csv"},
    )
    return Response(
        stream_with_context(csv_text(month, ward_id, resident_id)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename=carelog-sessions-{month or 'all'}.csv"
        },
    )


@bp.post("/batch")
@roles(REPORT_READERS)
def start_batch():
    """Start making a ward's (or the whole home's) reports in the background."""
    form = BatchForm()
    _choices(form)
    if not form.validate_on_submit():
        flash(_form_problems(form), "error")
        return redirect(url_for("reports.index"), 303)
    assert form.month.data is not None  # validated above
    job_id = batch_jobs.start(
        current_actor(),
        form.month.data,
        form.ward_id.data or None,
        _printed_code_root(),
    )
    return redirect(url_for("reports.job", job_id=job_id), 303)


def _batch_scope(ward_id: int | None) -> str:
    """What a batch covers, in words for its file name: "Rowan ward" or "whole home"."""
    ward = db.session.get(Ward, ward_id) if ward_id else None
    return f"{ward.name} ward" if ward else "whole home"


def _own_job(job_id: str) -> ReportJob:
    job = db.session.get(ReportJob, job_id)
    if job is None or job.requested_by_id != current_user.id:
        abort(404)
    return job


@bp.get("/jobs/<job_id>")
@roles(REPORT_READERS)
def job(job_id: str):
    """Progress of a batch; the page refreshes itself until the PDF is ready."""
    found = _own_job(job_id)
    return render_template("reports/job.html", job=found, state=batch_jobs.state(found))


@bp.get("/jobs/<job_id>/download")
@roles(REPORT_READERS)
def job_download(job_id: str):
    """The finished batch PDF; downloading it is recorded."""
    found = _own_job(job_id)
    if batch_jobs.state(found) != "done":
        abort(409, description="The batch is not ready yet.")
    pdf = db.session.scalar(select(ReportJob.pdf).where(ReportJob.id == job_id))
    assert pdf is not None  # a finished job holds its PDF
    month = Month.parse(found.month)
    proof.record_download(
        found.id,
        pdf,
        found.month,
        gather.resident_ids(month, found.ward_id),
        found.checkpoint or "",
        "batch",
        found.ward_id,
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers=attachment(download_name(_batch_scope(found.ward_id), found.month, "pdf")),
    )
