"""Command-line tools: create-user, demo, audit verify and verify-report, reports, backups."""

from __future__ import annotations

import getpass
import uuid
from dataclasses import replace
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from carelog.accounts import staff_accounts
from carelog.accounts.models import User, Ward
from carelog.accounts.roles import Role
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.extensions import db

CLI_ACTOR = Actor(user_id=None, name="command-line", ip=None, user_agent="flask cli")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--full-name", required=True, help="The person's full name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--ward", "ward_name", help="Ward name (nurses belong to a ward).")
@click.option("--registration-number", help="Professional registration number.")
@click.password_option(help="At least 12 characters.")
def create_user_command(username, full_name, role, ward_name, registration_number, password):
    """Create a staff account (the first admin, for instance)."""
    ward_id = None
    if ward_name:
        wards = db.session.execute(select(Ward.id, Ward.name)).all()
        matches = [w.id for w in wards if w.name.casefold() == ward_name.casefold()]
        if not matches:
            raise click.BadParameter(f"no ward called {ward_name!r}", param_hint="--ward")
        ward_id = matches[0]
    elif role == Role.NURSE:
        raise click.BadParameter("a nurse must belong to a ward", param_hint="--ward")
    try:
        user = staff_accounts.create_user(
            CLI_ACTOR,
            username=username,
            full_name=full_name,
            role=Role(role),
            password=password,
            ward_id=ward_id,
            registration_number=registration_number,
        )
    except staff_accounts.AccountError as error:
        if error.field == "password":
            raise click.BadParameter(error.message, param_hint="--password") from error
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.username} ({user.role}).")


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing if the home already has staff.")
def demo_command(if_empty):
    """Seed a demo home: two wards, residents, one account per role."""
    from carelog.ops import demo

    if demo.home_has_staff():
        if not if_empty:
            raise click.ClickException(
                "The database already holds a home; the demo is only added to an empty one."
            )
        click.echo("The database already holds a home; demo data left as it is.")
    else:
        demo.seed()
    click.echo(demo.SIGN_IN_HELP)


@click.group("audit")
def audit_group():
    """Work with the audit trail."""


@audit_group.command("verify")
@with_appcontext
@click.option("--expect", metavar="HASH:COUNT", help="A checkpoint printed on an earlier report.")
def verify_command(expect):
    """Walk the hash chain; exit 1 naming the first bad entry."""
    checkpoint = None
    if expect:
        try:
            checkpoint = chain.parse_checkpoint(expect)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--expect") from error
    result = chain.verify(db.session, checkpoint)
    if result.ok:
        click.echo(f"OK: {result.count} entries, head {result.head_hash}")
        return
    where = f" at entry {result.first_bad_id}" if result.first_bad_id else ""
    click.echo(
        f"FAILED{where}: {result.problem}. {result.count} entries verified before it.", err=True
    )
    raise SystemExit(1)


@click.command("backup")
@with_appcontext
@click.argument("dest", type=click.Path(path_type=Path))
def backup_command(dest: Path):
    """Copy the live database to DEST (a file or a folder) while the app keeps running."""
    from carelog.ops import backup

    url = db.engine.url.render_as_string(hide_password=False)
    try:
        if db.engine.dialect.name == "postgresql":
            target = backup.backup_postgresql(url, dest)
            click.echo(f"Backed up to {target} with pg_dump (restore with pg_restore).")
            return
        target, verification = backup.backup_sqlite(url, dest)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Backed up to {target}: integrity ok, audit trail verified "
        f"({verification.count} entries, head {verification.head_hash})."
    )


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, yes: bool):
    """Put a backup back in place of the database. Stop the app first."""
    from carelog.ops import backup

    if db.engine.dialect.name != "sqlite":
        raise click.ClickException(
            "For PostgreSQL, restore with pg_restore into a new database: see the README."
        )
    url = db.engine.url.render_as_string(hide_password=False)
    if not yes:
        click.confirm(
            f"Replace the database at {backup.sqlite_path(url)} with {source}? "
            "The app must be stopped",
            abort=True,
        )
    db.engine.dispose()
    try:
        kept, verification = backup.restore_sqlite(source, url)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    kept_note = f" The previous database is kept at {kept}." if kept else ""
    click.echo(f"Restored {source} ({verification.count} audit entries verified).{kept_note}")


@click.command("retention")
@with_appcontext
def retention_command():
    """List how long each resident's records must be kept. carelog deletes nothing itself."""
    from flask import current_app

    from carelog.ops import retention

    years = current_app.config["CARELOG_RETENTION_YEARS"]
    click.echo(f"Records are kept for {years} years after the resident's last care.")
    for row in retention.schedule(years):
        click.echo(
            f"{row.resident.full_name:<30} last care {row.last_care}  keep until {row.keep_until}"
        )


@click.command("report")
@with_appcontext
@click.option("--month", required=True, metavar="YYYY-MM", help="A calendar month, local time.")
@click.option("--resident", "resident_id", type=int, help="One resident's report.")
@click.option("--ward", "ward_id", type=int, help="A whole ward: cover page and every resident.")
@click.option("--home", "whole_home", is_flag=True, help="The whole home as one batch.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--by",
    "made_by",
    required=True,
    metavar="USERNAME",
    help="The staff account making the report; printed on it and named in the trail.",
)
def report_command(month, resident_id, ward_id, whole_home, output, made_by):
    """Write a monthly PDF report; making it is recorded in the audit trail under --by."""
    from carelog.reports import gather, proof
    from carelog.reports.month import Month
    from carelog.reports.pdf.render import render_batch, render_resident_report

    if sum(bool(x) for x in (resident_id, ward_id, whole_home)) != 1:
        raise click.UsageError("give exactly one of --resident, --ward or --home")
    try:
        chosen = Month.parse(month)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--month") from error
    author = db.session.scalar(select(User).where(User.username == made_by.strip().lower()))
    if author is None or not author.active:
        raise click.BadParameter(f"no active account {made_by}", param_hint="--by")
    actor = Actor(author.id, author.username, None, f"command line ({getpass.getuser()})")
    report_id = str(uuid.uuid4())
    if resident_id:
        found = gather.build(chosen, author.full_name, resident_id=resident_id)
        if not found:
            raise click.ClickException(f"resident {resident_id} was not in the home in {chosen}")
        report = replace(found[0], report_id=report_id)
        pdf, kind, ids = render_resident_report(report), "resident", [resident_id]
        checkpoint = proof.checkpoint_of(report.fingerprint)
    else:
        if ward_id and db.session.get(Ward, ward_id) is None:
            raise click.BadParameter(f"no ward {ward_id}", param_hint="--ward")
        batch = gather.batch(chosen, author.full_name, ward_id or None)
        batch = replace(batch, report_id=report_id)
        pdf, kind = render_batch(batch), "batch"
        ids = gather.resident_ids(chosen, ward_id or None)
        checkpoint = proof.checkpoint_of(batch.fingerprint)
    output.write_bytes(pdf)
    proof.record_download(report_id, pdf, str(chosen), ids, checkpoint, kind, ward_id, actor)
    click.echo(f"Wrote {output} ({len(pdf) // 1024} KiB), report {report_id}.")


@audit_group.command("verify-report")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_report_command(file: Path):
    """Say whether carelog made exactly this PDF, and whether the trail holds at its checkpoint."""
    from carelog.reports import proof

    found = proof.identify(file.read_bytes())
    if not found.made_by_carelog:
        click.echo(
            f"NOT FOUND: carelog has no record of making exactly this file (SHA-256 "
            f"{found.sha256}). It was changed after it was made, or made elsewhere.",
            err=True,
        )
        raise SystemExit(1)
    click.echo(
        f"MADE BY CARELOG: report {found.report_id} ({found.kind}, {found.month}), made by "
        f"{found.made_by} at {found.made_at:%Y-%m-%d %H:%M} UTC, "
        f"{len(found.resident_ids)} resident(s)."
    )
    if not found.trail_holds:
        click.echo(
            f"BUT the trail does not hold at its checkpoint: {found.trail_problem}.", err=True
        )
        raise SystemExit(2)
    click.echo(f"The trail still holds at the checkpoint printed on it ({found.checkpoint}).")


def register(app: Flask) -> None:
    """Add the commands to `flask --app carelog`."""
    for command in (
        create_user_command,
        demo_command,
        audit_group,
        backup_command,
        restore_command,
        retention_command,
        report_command,
    ):
        app.cli.add_command(command)
