"""Databases for the benchmarks: a migrated demo home, and a large one built fast.

The large home has 150 residents on one ward and about two years of sessions (about 100,000).
The residents and their consent go in through the use cases, so they are audited as usual; the
sessions go in with bulk inserts, which bypass the use cases and therefore the audit trail. That
is acceptable ONLY for benchmark fixtures: a real home's clinical records are written one by one
through carelog.care.recording, each with its audit entry.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from carelog import create_app
from carelog.accounts.models import User, Ward
from carelog.audit.actor import Actor
from carelog.care.models import CareSession, CareSessionVersion, standing_at
from carelog.extensions import db
from carelog.local_time import home_zone, local_today
from carelog.ops import demo
from carelog.residents import records
from carelog.residents.models import Resident
from tests.postgres import PostgresServer

BENCH_SECRET = "benchmark-secret-key-0123456789abcdefgh"
BENCH_ACTOR = Actor(user_id=None, name="benchmark", ip=None, user_agent="bench/data.py")
CHUNK = 5000
SESSION_SHARE_PER_DAY = 0.92  # about 0.9 entries per resident per day: 100,000 over two years


def app_for(url: str) -> Flask:
    """carelog on the given database, configured as a home would run it (not TESTING)."""
    return create_app({"SECRET_KEY": BENCH_SECRET, "SQLALCHEMY_DATABASE_URI": url})


@contextmanager
def database(backend: str, server: PostgresServer | None = None, name: str = "bench") -> Iterator:
    """An empty database: a SQLite file in a temporary folder, or a new PostgreSQL database."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="carelog-bench-")
        try:
            yield f"sqlite:///{folder}/carelog.sqlite"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin = server.url().replace("+psycopg", "")
    database_name = f"carelog_{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database_name}")
    try:
        yield server.url(database_name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database_name} WITH (FORCE)")


def demo_home(url: str) -> Flask:
    """Migrate the database and seed the demo home without sessions; return the app on it."""
    app = app_for(url)
    with app.app_context():
        upgrade()
        demo.seed(with_sessions=False)
    return app


def add_residents(ward_name: str, total: int, rng: random.Random) -> list[int]:
    """Admit residents to the ward (with consent) until it holds `total`; return all their ids."""
    ward = db.session.scalar(select(Ward).where(Ward.name == ward_name))
    manager = db.session.scalar(select(User).where(User.username == "manager"))
    actor = Actor(manager.id, manager.username, None, BENCH_ACTOR.user_agent)
    present = db.session.scalar(select(func.count()).where(Resident.ward_id == ward.id))
    today = local_today()
    for number in range(present, total):
        admitted = today - timedelta(days=800 + rng.randint(0, 400))
        resident = records.admit(
            actor,
            {
                "given_name": f"Bench{number:03d}",
                "family_name": rng.choice(("Smith", "Jones", "Taylor", "Brown", "Evans")),
                "room": f"B{number:03d}",
                "ward_id": ward.id,
                "date_of_birth": today.replace(year=today.year - rng.randint(70, 99)),
                "local_identifier": f"BENCH-{number:04d}",
                "admitted_on": admitted,
                "sessions_per_week": rng.choice((2, 3, 3, 5, 7)),
                "light_pressure_only": rng.random() < 0.2,
                "avoid_left_hand": rng.random() < 0.05,
                "allergies": "Nut oils" if rng.random() < 0.1 else None,
            },
        )
        records.record_consent(
            actor,
            resident.id,
            {
                "decided_by": "resident",
                "consent_given": True,
                "decided_on": admitted + timedelta(days=3),
                "review_on": today + timedelta(days=rng.randint(10, 300)),
                "scope_hands": "both",
            },
        )
    return list(db.session.scalars(select(Resident.id).where(Resident.ward_id == ward.id)).all())


@dataclass(frozen=True)
class BulkSessions:
    """What add_sessions wrote."""

    sessions: int
    versions: int
    first_day: date
    last_day: date


def _blank_version() -> dict:
    """Every column of a version, so that all rows of an executemany have the same keys."""
    row = {c.key: None for c in CareSessionVersion.__table__.columns}
    row.update(late=False, precautions_confirmed=False, repeat_confirmed=False, reason=None)
    return row


def _rating(rng: random.Random, name: str, low: int, high: int) -> dict:
    if rng.random() < 0.05:
        return {f"{name}_status": "unable"}
    return {
        f"{name}_value": rng.randint(low, high),
        f"{name}_status": "answered",
        f"{name}_rater": "self",
    }


def _content(rng: random.Random, nurse_id: int, occurred: datetime) -> dict:
    """One entry's recorded content: mostly given, some declined or not done."""
    roll = rng.random()
    content = {"occurred_at": occurred, "given_by_id": nurse_id}
    if roll < 0.08:
        return {**content, "outcome": "declined", "assent": "declined"}
    if roll < 0.14:
        return {**content, "outcome": "not_done", "not_done_reason": "asleep"}
    content.update(
        duration_minutes=10,
        precautions_confirmed=True,
        hands="both",
        pressure=rng.choice(("light", "normal")),
        product="Own fragrance-free emollient",
        assent="agreed",
        outcome="completed",
    )
    for name, low, high in (
        ("relaxation_before", 0, 10),
        ("relaxation_after", 0, 10),
        ("mood_before", 1, 5),
        ("mood_after", 1, 5),
        ("sleep_before", 0, 10),
    ):
        content.update(_rating(rng, name, low, high))
    return content


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def add_sessions(resident_ids: list[int], days: int, rng: random.Random) -> BulkSessions:
    """Bulk-insert `days` days of sessions for the residents, with next-morning follow-ups.

    BENCHMARK FIXTURE ONLY: these rows bypass carelog.care.recording and get no audit entries.
    """
    zone = home_zone()
    today = local_today()
    now = datetime.now(zone)
    nurse_id = db.session.scalar(select(User.id).where(User.username == "nurse"))
    admitted = dict(
        db.session.execute(
            select(Resident.id, Resident.admitted_on).where(Resident.id.in_(resident_ids))
        ).all()
    )
    session_id = _next_id(CareSession)
    version_id = _next_id(CareSessionVersion)
    sessions: list[dict] = []
    versions: list[dict] = []
    blank = _blank_version()
    counts = [0, 0]

    def flush() -> None:
        if sessions:
            db.session.execute(insert(CareSession.__table__), sessions)
            counts[0] += len(sessions)
            sessions.clear()
        if versions:
            db.session.execute(insert(CareSessionVersion.__table__), versions)
            counts[1] += len(versions)
            versions.clear()

    first_day = today - timedelta(days=days - 1)
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        for resident_id in resident_ids:
            if day < admitted[resident_id] or rng.random() > SESSION_SHARE_PER_DAY:
                continue
            occurred = datetime.combine(day, time(rng.randint(9, 16), rng.randint(0, 59)), zone)
            if occurred > now:
                continue
            recorded = occurred + timedelta(minutes=rng.randint(10, 40))
            content = _content(rng, nurse_id, occurred)
            follow_up = content["outcome"] == "completed" and day < today and rng.random() < 0.85
            original = {
                **blank,
                **content,
                "id": version_id,
                "session_id": session_id,
                "version_no": 1,
                "kind": "original",
                "submission_key": str(uuid.UUID(int=rng.getrandbits(128))),
                "content_digest": hashlib.sha256(str(version_id).encode()).hexdigest(),
                "created_by_id": nurse_id,
                "created_at": recorded,
            }
            versions.append(original)
            version_id += 1
            current = original
            if follow_up:
                morning = datetime.combine(day + timedelta(days=1), time(8, 30), zone)
                current = {
                    **original,
                    **_rating(rng, "sleep_after", 0, 10),
                    "id": version_id,
                    "version_no": 2,
                    "kind": "follow_up",
                    "submission_key": str(uuid.UUID(int=rng.getrandbits(128))),
                    "content_digest": hashlib.sha256(str(version_id).encode()).hexdigest(),
                    "created_at": min(morning, now),
                }
                versions.append(current)
                version_id += 1
            sessions.append(
                {
                    "id": session_id,
                    "resident_id": resident_id,
                    "recorded_by_id": nurse_id,
                    "recorded_at": recorded,
                    **standing_at(current["version_no"], current["kind"], current),
                }
            )
            session_id += 1
            if len(versions) >= CHUNK:
                flush()
    flush()
    _after_bulk_load()
    db.session.commit()
    return BulkSessions(counts[0], counts[1], first_day, today)


def _after_bulk_load() -> None:
    """On PostgreSQL, move the id sequences past the explicit ids, vacuum, analyse, checkpoint.

    In a real home autovacuum does both within minutes (since PostgreSQL 13 it also vacuums
    tables that only grow), which keeps the visibility map current, so that index-only scans
    read no table pages; the benchmark does not wait for it.
    """
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("care_session", "care_session_version"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        )
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("care_session", "care_session_version", "resident", "consent"):
            connection.execute(text(f"VACUUM (ANALYZE) {table}"))
        # Write out two years of rows loaded in a minute now, not while pages are timed: a home
        # never loads them at once, so its server is not flushing them while nurses work.
        connection.execute(text("CHECKPOINT"))
