"""What the database holds: records made through the use cases, and counts, versions, audit
entries and residents read back for checking."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import event, func, select

from carelog.accounts.models import User, Ward
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.audit.models import AuditEntry
from carelog.care import amendments, recording
from carelog.care.models import CONTENT_FIELDS, CareSession, CareSessionVersion, SessionContent
from carelog.care.vocabulary import VersionKind
from carelog.database import utcnow
from carelog.extensions import db
from carelog.local_time import home_zone, local_day_bounds, local_today
from carelog.residents import records
from carelog.residents.models import Resident


def count(app, model, *where) -> int:
    """How many rows a table holds (optionally matching conditions)."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audit_entries(app, action: str | None = None, entity_id: object = None) -> list[AuditEntry]:
    """Audit entries in chain order, optionally of one action on one entity."""
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        if entity_id is not None:
            query = query.where(AuditEntry.entity_id == str(entity_id))
        entries = list(db.session.scalars(query))
        db.session.expunge_all()
        return entries


def written_entries(app) -> int:
    """Audit entries that record a change: every entry but the reads (opening a page that
    shows a resident's record is an audited read, and saves nothing)."""
    return count(app, AuditEntry, AuditEntry.action != "resident.view")


def snapshot_counts(app) -> dict[str, int]:
    """Row counts of the tables a session write touches."""
    return {
        "sessions": count(app, CareSession),
        "versions": count(app, CareSessionVersion),
        "audit": written_entries(app),
    }


def versions_of(app, session_id: int) -> list[CareSessionVersion]:
    """Every version of a session, oldest first, detached from the database session."""
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(CareSessionVersion)
                .where(CareSessionVersion.session_id == session_id)
                .order_by(CareSessionVersion.version_no)
            )
        )
        db.session.expunge_all()
        return rows


def sessions_of(app, resident_id: int) -> list[CareSession]:
    """A resident's sessions, oldest first."""
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(CareSession)
                .where(CareSession.resident_id == resident_id)
                .order_by(CareSession.id)
            )
        )
        db.session.expunge_all()
        return rows


def user_id(app, username: str) -> int:
    """The id of an account."""
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def ward_id(app, name: str) -> int:
    """The id of a ward."""
    with app.app_context():
        return db.session.scalar(select(Ward.id).where(Ward.name == name))


def nurse_ward(app, username: str = "nurse") -> int:
    """The ward a nurse works on."""
    with app.app_context():
        return db.session.scalar(select(User.ward_id).where(User.username == username))


def today(app) -> date:
    """Today where the home is."""
    with app.app_context():
        return local_today()


def residents_where(app, ward: int | None = None, **flags) -> list[Resident]:
    """Present residents (optionally of one ward) whose precaution flags match, by id."""
    with app.app_context():
        query = select(Resident).where(Resident.departed_on.is_(None)).order_by(Resident.id)
        if ward is not None:
            query = query.where(Resident.ward_id == ward)
        for flag, value in flags.items():
            query = query.where(getattr(Resident, flag) == value)
        people = list(db.session.scalars(query))
        for person in people:
            person.consents  # noqa: B018 (load them before detaching)
        db.session.expunge_all()
        return people


def consent_valid(app, person: Resident) -> bool:
    """True if the resident's current consent permits massage today."""
    consent = person.consents[0] if person.consents else None
    return bool(consent and consent.is_valid_on(today(app)))


NO_PRECAUTIONS = {
    "defer_sessions": False,
    "avoid_left_hand": False,
    "avoid_right_hand": False,
    "light_pressure_only": False,
}


def plain_residents(app, ward: int) -> list[Resident]:
    """Residents of a ward with no precautions and valid consent: anything goes."""
    people = residents_where(app, ward, **NO_PRECAUTIONS)
    return [p for p in people if consent_valid(app, p)]


def actor(app, username: str) -> Actor:
    """The audit actor for a demo account, as a use case called from a test."""
    return Actor(user_id(app, username), username, "127.0.0.1", "pytest")


def local_time(app, day: date, at: time = time(10, 0)) -> datetime:
    """An aware moment on a local day, in the home's zone."""
    with app.app_context():
        return datetime.combine(day, at, tzinfo=home_zone())


def earlier_today(app) -> datetime:
    """A moment today that has already passed, whatever the time the test runs."""
    with app.app_context():
        start, _ = local_day_bounds(local_today())
        now = utcnow()
        return (start + (now - start) / 2).astimezone(home_zone()).replace(microsecond=0)


def given_content(given_by_id: int, occurred_at: datetime, **changes) -> dict:
    """The content of a completed session, as the form would produce it."""
    content = {name: None for name in CONTENT_FIELDS}
    content.update(
        occurred_at=occurred_at,
        duration_minutes=10,
        given_by_id=given_by_id,
        precautions_confirmed=True,
        hands="both",
        pressure="light",
        product="Own fragrance-free emollient",
        assent="agreed",
        outcome="completed",
    )
    for name, value in (
        ("relaxation_before", 4),
        ("relaxation_after", 7),
        ("mood_before", 3),
        ("mood_after", 4),
        ("sleep_before", 5),
    ):
        content.update(
            {f"{name}_value": value, f"{name}_status": "answered", f"{name}_rater": "self"}
        )
    content.update(changes)
    return content


def no_session_content(given_by_id: int, occurred_at: datetime, outcome: str, **changes) -> dict:
    """The content of a decline or a not-done."""
    content = {name: None for name in CONTENT_FIELDS}
    content.update(
        occurred_at=occurred_at,
        given_by_id=given_by_id,
        precautions_confirmed=False,
        outcome=outcome,
        assent="declined" if outcome == "declined" else None,
        not_done_reason="unwell" if outcome == "not_done" else None,
    )
    content.update(changes)
    return content


def record(app, resident_id: int, content: dict, username: str = "nurse", key=None) -> int:
    """Save a session through the use case, as if recorded a few minutes after it happened."""
    key = key or str(uuid.uuid4())
    with app.app_context():
        saved = recording.record_session(
            actor(app, username),
            resident_id,
            key,
            SessionContent.from_columns(content),
            content,
            now=content["occurred_at"] + timedelta(minutes=15),
        )
        return saved.session_id


def record_given(app, resident_id: int, occurred_at: datetime, username="nurse", **changes):
    """A completed session through the use case; returns its id."""
    return record(
        app,
        resident_id,
        given_content(user_id(app, username), occurred_at, **changes),
        username,
    )


def add_correction(app, session_id: int, changes: dict, username: str = "manager") -> None:
    """A correction version on top of the current one, through the use case."""
    with app.app_context():
        current = db.session.get(CareSession, session_id).current_version
        amendments.add_version(
            actor(app, username),
            session_id,
            str(uuid.uuid4()),
            VersionKind.CORRECTION,
            changes,
            "Corrected in a test",
            current,
        )


@contextmanager
def counting_queries(app) -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine executes inside the block."""
    statements: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


@dataclass(frozen=True)
class Contents:
    """What a database holds: session keys, and whether sessions and the trail agree."""

    keys: set[str]
    sessions: set[int]
    recorded: set[int]  # the session ids that session.record audit entries name
    verification: chain.Verification


def contents(app) -> Contents:
    """Read back what the app's database holds, then close its connections."""
    with app.app_context():
        keys = set(db.session.scalars(select(CareSessionVersion.submission_key)))
        sessions = set(db.session.scalars(select(CareSession.id)))
        named = select(AuditEntry.entity_id).where(AuditEntry.action == "session.record")
        recorded = {int(n) for n in db.session.scalars(named)}
        verification = chain.verify(db.session)
        db.session.remove()
        db.engine.dispose()
    return Contents(keys, sessions, recorded, verification)


def approve_access(app, approver, username: str):
    """A care manager (or second admin), signed in as `approver`, approves the open request for
    `username`'s access through the Access requests page; the response of the approval."""
    from carelog.accounts.models import AccessRequest, User

    with app.app_context():
        request_id = db.session.scalar(
            select(AccessRequest.id)
            .join(User, User.id == AccessRequest.user_id)
            .where(User.username == username, AccessRequest.decided_at.is_(None))
        )
    assert request_id, f"no open access request for {username}"
    return approver.submit(
        f"/admin/access/{request_id}", {"decision": "approve"}, page="/admin/access"
    )


def admit_consenting(app, given_name: str, family_name: str, room: str, admitted: date, **extra):
    """Admit a resident to the nurse's ward, consenting from the day of admission for a year,
    through the use cases; returns the id."""
    manager = actor(app, "manager")
    with app.app_context():
        person = records.admit(
            manager,
            {"given_name": given_name, "family_name": family_name, "room": room,
             "ward_id": nurse_ward(app), "date_of_birth": date(1936, 5, 1),
             "admitted_on": admitted, "sessions_per_week": 3, **extra},
        )  # fmt: skip
        records.record_consent(
            manager, person.id,
            {"decided_by": "resident", "decision_maker": None, "consent_given": True,
             "decided_on": admitted, "review_on": admitted + timedelta(days=365),
             "scope_hands": "both"},
        )  # fmt: skip
        return person.id


def refuses_from(app, resident_id: int, day: date) -> None:
    """Record, as the care manager, that the resident does not consent from `day` on."""
    with app.app_context():
        records.record_consent(
            actor(app, "manager"), resident_id,
            {"decided_by": "resident", "decision_maker": None, "consent_given": False,
             "decided_on": day, "review_on": day + timedelta(days=90), "scope_hands": "both"},
        )  # fmt: skip


def add_residents_with_sessions(app, ward: int, how_many: int) -> None:
    """Admit residents to the ward with consent and a few sessions each, through the use cases."""
    manager = actor(app, "manager")
    nurse_id = user_id(app, "nurse")
    day = today(app)
    with app.app_context():
        for number in range(how_many):
            person = records.admit(
                manager,
                {
                    "given_name": f"Added{number}",
                    "family_name": "Resident",
                    "room": f"X{number:03d}",
                    "ward_id": ward,
                    "date_of_birth": date(1935, 1, 1),
                    "admitted_on": day - timedelta(days=60),
                    "sessions_per_week": 3,
                    "light_pressure_only": number % 3 == 0,
                    "avoid_left_hand": number % 7 == 0,
                },
            )
            db.session.expire_all()
            records.record_consent(
                manager,
                person.id,
                {
                    "decided_by": "resident",
                    "consent_given": number % 11 != 0,
                    "decided_on": day - timedelta(days=50),
                    "review_on": day + timedelta(days=100),
                    "scope_hands": "both",
                },
            )
            for days_ago in (number % 4, 2 + number % 5):
                when = local_time(app, day - timedelta(days=days_ago))
                if when > utcnow():
                    when = utcnow().replace(microsecond=0)
                content = (
                    no_session_content(nurse_id, when, "declined", repeat_confirmed=True)
                    if number % 5 == 0
                    else given_content(
                        nurse_id, when, override_reason="test data", repeat_confirmed=True
                    )
                )
                recording.record_session(
                    actor(app, "manager" if number % 11 == 0 else "nurse"),  # no consent
                    person.id,
                    str(uuid.uuid4()),
                    SessionContent.from_columns(content),
                    content,
                    now=when + timedelta(minutes=10),
                )


def standing_out_of_step(app) -> list[int]:
    """Sessions whose current_* columns differ from their current version's (should be none)."""
    with app.app_context():
        rows = db.session.execute(
            select(CareSession, CareSessionVersion).join(
                CareSessionVersion,
                (CareSessionVersion.session_id == CareSession.id)
                & (CareSessionVersion.version_no == CareSession.current_version),
            )
        ).all()
        return [
            s.id
            for s, v in rows
            if (s.current_occurred_at, s.current_outcome, s.current_kind,
                s.current_sleep_after_status, s.current_not_done_reason)
            != (v.occurred_at, v.outcome, v.kind, v.sleep_after_status, v.not_done_reason)
        ]  # fmt: skip
