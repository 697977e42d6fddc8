"""Whole-ward batches made in a background thread, so the person waiting sees progress."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import update

from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.database import existing, utcnow, write_transaction
from carelog.extensions import db
from carelog.reports import gather, proof
from carelog.reports.document import printed_code_address
from carelog.reports.models import ReportJob
from carelog.reports.month import Month
from carelog.reports.pdf.render import render_batch

STALE_AFTER = timedelta(minutes=15)


def start(actor: Actor, month: Month, ward_id: int | None, code_root: str = "") -> str:
    """Queue a batch, record the request in the audit trail, and start making it.

    `code_root` is where the QR code on every page leads (…/audit/qr/), on the address in use."""
    job_id = str(uuid.uuid4())
    with write_transaction(db.session) as session:
        session.add(
            ReportJob(id=job_id, requested_by_id=actor.user_id, ward_id=ward_id, month=str(month))
        )
        chain.record(
            session,
            actor,
            "report.batch",
            "report_job",
            job_id,
            new={"month": str(month), "ward_id": ward_id},
        )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_run, args=(app, job_id, actor, code_root), daemon=True)
    thread.start()
    return job_id


def _set(job_id: str, **values) -> None:
    with write_transaction(db.session) as session:
        session.execute(update(ReportJob).where(ReportJob.id == job_id).values(**values))


def _run(app: Flask, job_id: str, actor: Actor, code_root: str = "") -> None:
    """Build the data, render with progress, store the PDF and the checkpoint it prints."""
    with app.app_context():
        job = existing(db.session, ReportJob, job_id)
        month, ward_id = Month.parse(job.month), job.ward_id
        try:
            batch = gather.batch(month, actor.name or "", ward_id)
            checkpoint = proof.checkpoint_of(batch.fingerprint)
            address = printed_code_address(code_root, job_id, checkpoint) if code_root else ""
            batch = replace(batch, report_id=job_id, verify_url=address)
            _set(job_id, status="running", total=len(batch.residents), checkpoint=checkpoint)
            pdf = render_batch(batch, progress=lambda done, total: _set(job_id, done=done))
            _set(job_id, status="done", done=len(batch.residents), pdf=pdf, finished_at=utcnow())
        except Exception as error:  # the person waiting must hear about any failure
            app.logger.exception("report job %s failed", job_id)
            db.session.rollback()
            _set(job_id, status="failed", error=str(error)[:300], finished_at=utcnow())
        finally:
            db.session.remove()


def state(job: ReportJob) -> str:
    """queued, running, done or failed; a job silent for too long (a restarted worker) failed."""
    if job.status in ("queued", "running") and utcnow() - job.created_at > STALE_AFTER:
        return "failed"
    return job.status
