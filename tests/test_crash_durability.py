"""kill -9 in the middle of writes loses no acknowledged session, and the database still checks.

Each round starts gunicorn (4 workers) in its own process group on the same database, signs in
four tablets (threads with their own requests.Session) and has them post full sessions as fast
as the server answers, each with its own submission key. After a random moment the whole process
group gets SIGKILL, with requests in flight. After the rounds the judge compares what the
tablets were told with what the database holds: every key answered 303 must be stored (0 lost);
keys stored without an answer are counted (the reason forms carry submission keys).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from sqlalchemy.engine import make_url

from carelog.extensions import db
from tests.conftest import PASSWORDS
from tests.helpers.commands import integrity_check
from tests.helpers.records import contents, nurse_ward, plain_residents
from tests.postgres import free_port
from tests.server import ROOT, SERVER_SECRET, csrf_token, signed_in_session

WORKERS = 4
TABLETS = ("nurse", "nurse", "nurse2", "nurse2")
ROUNDS = 5
MIN_ROUNDS = 3  # a slow machine may run out of time budget; fewer than this proves too little
TIME_BUDGET_SECONDS = 45
KILL_AFTER_ACKNOWLEDGED = (10, 40)  # kill once this many sessions were answered, at random
START_TIMEOUT = 30
REQUEST_TIMEOUT = 10


# ----- gunicorn in its own process group ----------------------------------------------------


class Gunicorn:
    """gunicorn started in a new session, so that one killpg reaches master and workers."""

    def __init__(self, database_url: str, log):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CARELOG_")}
        environment.update(CARELOG_DATABASE_URL=database_url, CARELOG_SECRET_KEY=SERVER_SECRET)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{self.port}",
                "carelog:create_app()",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "gunicorn exited while starting"
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet
            time.sleep(0.05)
        raise AssertionError("gunicorn did not become healthy")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no request gets to finish."""
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


# ----- tablets ------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one tablet sent and heard."""

    sent: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    other_answers: list[int] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)


def session_fields(rng: random.Random, resident_id: int) -> tuple[str, dict]:
    """A full session as a nurse fills it in, for a resident with no precautions."""
    started = datetime.now(ZoneInfo("Europe/London")) - timedelta(minutes=rng.randint(1, 50))
    fields = {
        "occurred_at": started.strftime("%Y-%m-%dT%H:%M"),
        "precautions_confirmed": "y",
        "duration_minutes": str(rng.choice((9, 10, 12))),
        "hands": "both",
        "pressure": "light",
        "product": "Own fragrance-free emollient",
        "assent": "agreed",
        "outcome": "completed",
        "repeat_confirmed": "y",  # many sessions per resident in a minute, each confirmed
    }
    for name, high, low in (
        ("relaxation_before", 10, 0),
        ("mood_before", 5, 1),
        ("sleep_before", 10, 0),
        ("relaxation_after", 10, 0),
        ("mood_after", 5, 1),
    ):
        fields[name] = str(rng.randint(low, high))
        fields[f"{name}_rater"] = "self"
    return f"/residents/{resident_id}/session", fields


class Tablet:
    """One nurse's tablet: signed in once; the sign-in survives restarts (it is in the database)."""

    def __init__(self, username: str, residents: list[int], seed: int):
        self.username = username
        self.residents = residents
        self.rng = random.Random(seed)
        self.browser: requests.Session | None = None
        self.token = ""

    def sign_in(self, base_url: str) -> None:
        self.browser = signed_in_session(base_url, self.username, PASSWORDS[self.username])
        page = self.browser.get(
            f"{base_url}/residents/{self.residents[0]}/session", timeout=REQUEST_TIMEOUT
        )
        self.token = csrf_token(page.text)

    def post_until_stopped(self, base_url: str, start, stop, tally: Tally) -> None:
        """Post sessions until the server dies or the round ends."""
        try:
            start.wait(timeout=START_TIMEOUT)
        except threading.BrokenBarrierError:
            return
        while not stop.is_set():
            path, fields = session_fields(self.rng, self.rng.choice(self.residents))
            key = str(uuid.uuid4())
            tally.sent.append(key)
            data = {**fields, "csrf_token": self.token, "submission_key": key}
            try:
                response = self.browser.post(
                    f"{base_url}{path}", data=data, allow_redirects=False, timeout=REQUEST_TIMEOUT
                )
            except requests.RequestException:
                tally.unanswered.append(key)
                return  # the server is gone
            if response.status_code == 303:
                tally.acknowledged.append(key)
            else:
                tally.other_answers.append(response.status_code)
            response.close()

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()


@dataclass
class Round:
    """One start, write, kill -9 cycle."""

    tallies: list[Tally]
    seconds_before_kill: float


def one_round(database_url, tablets: list[Tablet], seed: int, log) -> Round:
    """Start gunicorn, let the tablets post, SIGKILL the process group at a random moment."""
    rng = random.Random(seed)
    server = Gunicorn(database_url, log)
    tallies = [Tally() for _ in tablets]
    stop = threading.Event()
    threads = []
    try:
        server.wait_until_healthy()
        for each in tablets:
            if each.browser is None:
                each.sign_in(server.base_url)
        start = threading.Barrier(len(tablets) + 1)
        threads = [
            threading.Thread(
                target=each.post_until_stopped, args=(server.base_url, start, stop, tally)
            )
            for each, tally in zip(tablets, tallies, strict=True)
        ]
        for thread in threads:
            thread.start()
        start.wait(timeout=START_TIMEOUT)
        began = time.monotonic()
        wanted = rng.randint(*KILL_AFTER_ACKNOWLEDGED)
        while sum(len(t.acknowledged) for t in tallies) < wanted:
            assert time.monotonic() - began < START_TIMEOUT, "the tablets are not being answered"
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))  # land anywhere in the next request
        pause = time.monotonic() - began
    finally:
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
    return Round(tallies, pause)


# ----- the judge ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Acknowledged, saved without acknowledgement, lost, and stored keys nobody sent."""

    acknowledged: int
    saved_unacknowledged: int
    unsaved_unacknowledged: int
    lost: int
    strangers: int


def judge(sent: set[str], acknowledged: set[str], stored: set[str]) -> Verdict:
    """Compare what the tablets were told with what the database holds."""
    unacknowledged = sent - acknowledged
    return Verdict(
        acknowledged=len(acknowledged),
        saved_unacknowledged=len(unacknowledged & stored),
        unsaved_unacknowledged=len(unacknowledged - stored),
        lost=len(acknowledged - stored),
        strangers=len(stored - sent),
    )


def test_the_judge_counts_a_lost_write_and_a_stranger():
    """Negative control: an acknowledged key missing from the database is reported as lost."""
    sent = {"a", "b", "c", "d"}
    assert judge(sent, {"a", "b"}, {"a", "b", "c"}) == Verdict(2, 1, 1, 0, 0)
    assert judge(sent, {"a", "b"}, {"a", "c", "z"}).lost == 1
    assert judge(sent, {"a", "b"}, {"a", "c", "z"}).strangers == 1


def test_kill_9_in_the_middle_of_writes_loses_no_acknowledged_session(
    backend, app, database_url, tmp_path, capsys
):
    """Rounds of gunicorn (4 workers) killed with SIGKILL mid-write: 0 acknowledged writes lost."""
    plans = {
        name: [p.id for p in plain_residents(app, nurse_ward(app, name))] for name in set(TABLETS)
    }
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    tablets = [Tablet(name, plans[name], seed) for seed, name in enumerate(TABLETS)]
    rounds: list[Round] = []
    began = time.monotonic()
    try:
        with open(tmp_path / "gunicorn.log", "ab") as log:
            for number in range(ROUNDS):
                if rounds and time.monotonic() - began > TIME_BUDGET_SECONDS:
                    break
                rounds.append(one_round(database_url, tablets, 1000 * number, log))
    finally:
        for each in tablets:
            each.close()
    wall = time.monotonic() - began

    tallies = [t for r in rounds for t in r.tallies]
    sent = {k for t in tallies for k in t.sent}
    acknowledged = {k for t in tallies for k in t.acknowledged}
    unanswered = sum(len(t.unanswered) for t in tallies)
    other = [status for t in tallies for status in t.other_answers]

    found = contents(app)
    verification = found.verification
    verdict = judge(sent, acknowledged, found.keys)
    integrity = "not applicable"
    if backend == "sqlite":
        integrity = integrity_check(make_url(database_url).database)

    with capsys.disabled():
        print(
            f"\n[{backend} kill -9] {len(rounds)} rounds in {wall:.1f} s: {len(sent)} posts, "
            f"{verdict.acknowledged} acknowledged, {verdict.saved_unacknowledged} saved without "
            f"an answer, {verdict.unsaved_unacknowledged} neither, {verdict.lost} acknowledged "
            f"and lost; integrity_check {integrity}; audit chain "
            f"{'verifies' if verification.ok else 'BROKEN'} ({verification.count} entries)"
        )

    assert len(rounds) >= MIN_ROUNDS
    assert other == [], f"answers other than 303: {other[:10]}"
    assert all(any(t.acknowledged for t in r.tallies) for r in rounds)
    assert unanswered >= len(rounds), "the kills did not land in the middle of writes"
    assert verdict.lost == 0, f"{verdict.lost} acknowledged sessions were lost"
    assert verdict.strangers == 0
    assert verification.ok, verification.problem
    assert found.sessions == found.recorded, "a session without its audit entry, or the reverse"
    if backend == "sqlite":
        assert integrity == "ok"
