"""Several OS processes append to the audit trail at once: the chain stays whole, with no fork.

Each appender is a separate `python -m tests.audit_appender` process. They all set up first and
start together on a signal, so their appends overlap. The same judge is applied to carelog's real
code path, which must pass, and to negative controls with the serialisation removed, which must
fail: that is what shows the judge can see a fork.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from carelog.audit import chain
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from tests.audit_appender import ACTION, dialect_of, direct_connection, remove_protections

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 6
APPENDS = 150
PAUSE_MS = 1  # between reading the head and committing, like the clinical write it stands for
START_TIMEOUT = 60
RUN_TIMEOUT = 120


@dataclass
class Outcome:
    """What the appenders reported and what the database holds afterwards."""

    results: list[dict]
    seeded: int
    stored: int
    verification: chain.Verification
    forks: int
    stored_keys: Counter

    @property
    def busy(self) -> int:
        return sum(r["busy"] for r in self.results)

    @property
    def errors(self) -> int:
        return sum(r["error_count"] for r in self.results)

    @property
    def error_samples(self) -> list[str]:
        return [e for r in self.results for e in r["errors"]][:5]

    def summary(self) -> str:
        """One line for the log (pytest -rP shows it)."""
        return (
            f"{self.stored - self.seeded} of {WORKERS * APPENDS} appends stored, "
            f"{self.errors} errors, {self.busy} busy retries, {self.forks} forks, "
            f"verify ok={self.verification.ok} first_bad={self.verification.first_bad_id}"
        )

    def problems(self) -> list[str]:
        """Everything that shows the appends were not serialised; empty when all is well."""
        found = []
        if not self.verification.ok:
            found.append(
                f"chain fails at entry {self.verification.first_bad_id}: "
                f"{self.verification.problem}"
            )
        expected = self.seeded + WORKERS * APPENDS
        if self.stored != expected:
            found.append(f"{self.stored} entries stored, {expected} expected")
        if self.forks:
            found.append(f"{self.forks} previous hashes extended more than once (forks)")
        if self.errors:
            found.append(f"{self.errors} appends failed: {self.error_samples}")
        acknowledged = Counter(f"{r['worker']}-{n}" for r in self.results for n in r["appended"])
        if acknowledged != self.stored_keys:
            found.append("the stored appends differ from those acknowledged")
        if len(acknowledged) != WORKERS * APPENDS:
            found.append(f"{len(acknowledged)} of {WORKERS * APPENDS} appends acknowledged")
        return found


def _launch(mode: str, url: str) -> list[dict]:
    """Start every appender, wait until all are ready, release them together, collect reports."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit_appender", mode, url]
            + [str(worker), str(APPENDS), str(PAUSE_MS)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(WORKERS)
    ]
    try:
        for process in processes:
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                assert selector.select(START_TIMEOUT), "an appender did not start in time"
            line = process.stdout.readline()
            assert line.strip() == "ready", line + process.stderr.read()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = []
        for process in processes:
            out, err = process.communicate(timeout=RUN_TIMEOUT)
            assert process.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.communicate()


def run(app, url: str, mode: str) -> Outcome:
    """Run WORKERS appenders in the given mode on the database, then inspect what it holds."""
    with app.app_context():
        seeded = db.session.scalar(select(func.count()).select_from(AuditEntry))
        db.session.remove()
        db.engine.dispose()  # hold no connection or lock while the appenders run
    results = _launch(mode, url)
    with app.app_context():
        verification = chain.verify(db.session)
        stored = db.session.scalar(select(func.count()).select_from(AuditEntry))
        forks = db.session.scalar(
            select(func.count()).select_from(
                select(AuditEntry.prev_hash)
                .group_by(AuditEntry.prev_hash)
                .having(func.count() > 1)
                .subquery()
            )
        )
        keys = Counter(
            db.session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == ACTION))
        )
    return Outcome(results, seeded, stored, verification, forks, keys)


def test_concurrent_appends_through_carelog_keep_one_unbroken_chain(app, database_url):
    """6 processes x 150 appends through write_transaction + audit.record: no fork, no loss."""
    outcome = run(app, database_url, "serialised")
    print(outcome.summary())
    assert outcome.problems() == []
    assert outcome.verification.count == outcome.seeded + WORKERS * APPENDS
    # Writers queue on BEGIN IMMEDIATE / the advisory lock instead of failing. A busy error is
    # retriable, and an overloaded machine can keep one SQLite writer waiting past the busy
    # timeout now and then; a plain BEGIN gives thousands (RELIABILITY.md), hence the bound.
    assert outcome.busy <= WORKERS * APPENDS // 20, outcome.summary()


def test_negative_control_unserialised_appends_are_caught(app, database_url):
    """The same appends with nothing serialising them: the judge must see collisions."""
    outcome = run(app, database_url, "unserialised")
    print(outcome.summary())
    problems = outcome.problems()
    assert problems, "the judge saw nothing wrong: it cannot tell a fork from a chain"
    # The database's unique constraints turned each fork into a loud error.
    assert outcome.errors > 0
    assert outcome.stored < outcome.seeded + WORKERS * APPENDS
    assert all(_is_collision(e) for e in outcome.error_samples), outcome.error_samples


def test_negative_control_without_constraints_verify_names_the_fork(app, database_url):
    """With the unique constraints gone too, forks are silent, and verify is what catches them."""
    with direct_connection(database_url) as connection:
        remove_protections(connection, dialect_of(database_url), constraints=True)
    outcome = run(app, database_url, "unserialised")
    print(outcome.summary())
    assert outcome.errors == 0, outcome.error_samples  # nothing refused the forked inserts
    assert outcome.forks > 0
    assert not outcome.verification.ok
    assert outcome.verification.first_bad_id is not None
    assert any(p.startswith("chain fails at entry") for p in outcome.problems())


def _is_collision(message: str) -> bool:
    """A unique or primary key violation on the audit table."""
    lowered = message.lower()
    return "unique" in lowered or "duplicate key" in lowered
