"""Nothing lost, nothing doubled: 16 nurses log sessions at once through 4 gunicorn workers.

Each client is a thread that signs in through the form as its own nurse (with requests), then posts
full sessions and declines for residents of that nurse's ward, each POST a plain HTTP/1.1 request on
its own socket (see _post). Submission keys are generated on the client (uuid4), as the server's own
new_submission_key() does: the server accepts any valid UUID, and fetching the form before every
post would halve the rate without exercising anything the key check depends on. A tenth of the posts
are retried with the same key and the same content, half of them after the answer came back (a
resubmission) and half at the same moment as the original from a second connection (a double tap),
which races two workers for one key.

The judge compares what the clients were told with what the database holds. The negative control
runs the same driver and judge with retries that carry a fresh key, as a client without
submission keys would send them: the judge must then report the doubles.
"""

from __future__ import annotations

import contextlib
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from carelog.accounts import staff_accounts
from carelog.accounts.models import Ward
from carelog.accounts.roles import Role
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.audit.models import AuditEntry
from carelog.care.models import CareSession, CareSessionVersion
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.residents.models import Resident
from tests.server import ROOT, SERVER_SECRET, csrf_token, running_server, signed_in_session

WORKERS = 4
CLIENTS = 16
POSTS_PER_CLIENT = 100
RETRY_EVERY = 10  # every tenth session is sent twice
DECLINE_SHARE = 0.2
LOAD_PASSWORD = "load-test-password-0123"
SETUP_ACTOR = Actor(user_id=None, name="load-test", ip=None, user_agent="tests/test_load.py")
REQUEST_TIMEOUT = 60
SESSION_PATH_PREFIX = "/sessions/"
UNIQUE_KEY = "uq_care_session_version_submission_key"


@dataclass(frozen=True)
class ResidentPlan:
    """What a nurse may do for a resident: a full session (with these hands) or a decline."""

    resident_id: int
    massage_allowed: bool
    hands: tuple[str, ...]
    light_only: bool


@dataclass(frozen=True)
class NursePlan:
    """One client: a nurse and the residents of their ward."""

    username: str
    password: str
    residents: tuple[ResidentPlan, ...]


@dataclass
class Submission:
    """One logical session a client meant to record once, and every POST sent for it."""

    client: int
    number: int
    resident_id: int
    keys: list[str] = field(default_factory=list)
    answers: list[tuple[int, int | None, float]] = field(default_factory=list)  # status, id, s
    errors: list[str] = field(default_factory=list)

    @property
    def statuses(self) -> list[int]:
        return [status for status, _, _ in self.answers]

    @property
    def session_ids(self) -> list[int | None]:
        return [session_id for _, session_id, _ in self.answers]


@dataclass
class LoadRun:
    """What the clients sent and heard, and how long it took."""

    submissions: list[Submission]
    wall_seconds: float

    @property
    def requests(self) -> int:
        return sum(len(s.statuses) + len(s.errors) for s in self.submissions)

    @property
    def keys(self) -> set[str]:
        return {key for s in self.submissions for key in s.keys}

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.wall_seconds

    @property
    def sessions_per_second(self) -> float:
        return len(self.submissions) / self.wall_seconds

    @property
    def latencies(self) -> list[float]:
        """Seconds from sending each answered POST to its answer."""
        return [seconds for s in self.submissions for _, _, seconds in s.answers]

    @property
    def status_counts(self) -> Counter:
        return Counter(status for s in self.submissions for status in s.statuses)


@contextlib.contextmanager
def closing_context(app) -> Iterator[None]:
    """An app context that closes its database connections on the way out.

    The session's connection is released before the pool is disposed of, so that none is left
    open (psycopg warns about those) or holding a read snapshot while gunicorn writes.
    """
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


def _allowed_hands(resident: Resident, scope: str) -> tuple[str, ...]:
    hands = []
    for hand in ("both", "left", "right"):
        if resident.avoid_left_hand and hand in ("left", "both"):
            continue
        if resident.avoid_right_hand and hand in ("right", "both"):
            continue
        if scope not in ("both", hand):
            continue
        hands.append(hand)
    return tuple(hands)


def ward_plan(ward_id: int) -> tuple[ResidentPlan, ...]:
    """The ward's present residents; those without valid consent, or deferred, get declines only."""
    today = local_today()
    people = db.session.scalars(
        select(Resident).where(Resident.ward_id == ward_id).order_by(Resident.id)
    ).all()
    plans = []
    for person in people:
        if person.has_left(today):
            continue
        consent = person.current_consent
        hands = _allowed_hands(person, consent.scope_hands) if consent else ()
        allowed = bool(
            consent and consent.is_valid_on(today) and not person.defer_sessions and hands
        )
        plans.append(ResidentPlan(person.id, allowed, hands, person.light_pressure_only))
    return tuple(plans)


def create_nurses(count: int, prefix: str = "load") -> list[NursePlan]:
    """Create `count` nurse accounts spread over the wards (in an app context), one per client."""
    wards = db.session.scalars(select(Ward).order_by(Ward.id)).all()
    plans_by_ward = {w.id: ward_plan(w.id) for w in wards}
    nurses = []
    for number in range(count):
        ward = wards[number % len(wards)]
        username = f"{prefix}-nurse-{number:02d}"
        staff_accounts.create_user(
            SETUP_ACTOR,
            username=username,
            full_name=f"Load Nurse {number:02d}",
            role=Role.NURSE,
            password=LOAD_PASSWORD,
            ward_id=ward.id,
        )
        nurses.append(NursePlan(username, LOAD_PASSWORD, plans_by_ward[ward.id]))
    return nurses


def _rating(rng: random.Random, name: str, high: int, low: int = 0) -> dict:
    if rng.random() < 0.05:
        return {name: rng.choice(("declined", "unable", "not_assessed"))}
    return {name: str(rng.randint(low, high)), f"{name}_rater": rng.choice(("self", "observer"))}


def full_session_form(rng: random.Random, resident: ResidentPlan) -> tuple[str, dict]:
    """The path and fields of a full session form, filled in as a nurse would."""
    started = datetime.now(ZoneInfo("Europe/London")) - timedelta(minutes=rng.randint(1, 50))
    stopped = rng.random() < 0.08
    fields = {
        "occurred_at": started.strftime("%Y-%m-%dT%H:%M"),
        "precautions_confirmed": "y",
        "duration_minutes": str(rng.randint(3, 7) if stopped else rng.choice((9, 10, 10, 12))),
        "hands": rng.choice(resident.hands),
        "pressure": "light" if resident.light_only else rng.choice(("light", "normal")),
        "product": "Own fragrance-free emollient",
        "assent": "withdrew" if stopped else rng.choice(("agreed", "nonverbal")),
        "outcome": "stopped_early" if stopped else "completed",
        # A synthetic shift logs many sessions per resident within the hour: each is confirmed
        # as another one, as a nurse would answer "already recorded ...: record another?".
        "repeat_confirmed": "y",
    }
    if stopped:
        fields["outcome_reason"] = "Became restless"
    for name, low, high in (
        ("relaxation_before", 0, 10),
        ("mood_before", 1, 5),
        ("sleep_before", 0, 10),
        ("relaxation_after", 0, 10),
        ("mood_after", 1, 5),
    ):
        fields.update(_rating(rng, name, high, low))
    if rng.random() < 0.05:
        fields["observations"] = ["redness"]
        fields["observation_action"] = "Checked the skin, told the nurse in charge"
    if rng.random() < 0.2:
        fields["note"] = f"Load test note {rng.randint(0, 10**6)}"
    return f"/residents/{resident.resident_id}/session", fields


def declined_form(rng: random.Random, resident: ResidentPlan) -> tuple[str, dict]:
    """The path and fields of the two-tap decline."""
    fields = {"note": "Said no thank you"} if rng.random() < 0.3 else {}
    fields["repeat_confirmed"] = "y"  # the synthetic shift declines often: each confirmed
    return f"/residents/{resident.resident_id}/session/declined", fields


def _session_id(status: int, location: str) -> int | None:
    """The session a 303 points at, from its Location header."""
    path = urlsplit(location).path
    if status != 303 or not path.startswith(SESSION_PATH_PREFIX):
        return None
    tail = path[len(SESSION_PATH_PREFIX) :]
    return int(tail) if tail.isdigit() else None


def _post(base_url: str, path: str, fields: dict, submission: Submission, cookie: str) -> None:
    """Send one POST with the signed-in cookies and note what came back (or how it failed).

    Each POST is a minimal HTTP/1.1 request on its own connection (gunicorn's sync workers close
    every connection anyway), and only the status line and Location header are read back. The
    clients run on the same two cores as the server, where a ward's tablets would bring their
    own: requests costs about 3 ms of CPU per POST and http.client 1 ms, this about 0.5 ms.

    The client does not follow the 303: a browser's GET of the session page would consume the
    "Session saved." flash the answer's cookie carries, so the client ignores that cookie and
    sends each POST with the cookies it had after signing in. Without that, the cookie would
    grow by one flash per post.
    """
    address = urlsplit(base_url)
    body = urlencode(fields, doseq=True).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nCookie: {cookie}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    began = time.perf_counter()
    try:
        with socket.create_connection((address.hostname, address.port), REQUEST_TIMEOUT) as sock:
            sock.sendall(head + body)
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
    except OSError as error:
        submission.errors.append(f"{type(error).__name__}: {error}")
        return
    seconds = time.perf_counter() - began
    status, location = _status_and_location(answer)
    submission.answers.append((status, _session_id(status, location), seconds))


def _status_and_location(answer: bytes) -> tuple[int, str]:
    """The status code and Location header of a raw HTTP/1.1 answer (0 if it is not one)."""
    lines = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "location":
            return status, value.strip()
    return status, ""


class Client(threading.Thread):
    """One nurse's tablet: signs in, then logs sessions as fast as the server answers."""

    def __init__(self, number, base_url, nurse, posts, start, same_key_retries, seed):
        super().__init__(name=f"load-client-{number}", daemon=True)
        self.number = number
        self.base_url = base_url
        self.nurse = nurse
        self.posts = posts
        self.start_line = start
        self.same_key_retries = same_key_retries
        self.rng = random.Random(seed)
        self.submissions: list[Submission] = []
        self.failure: BaseException | None = None
        self.cookie = ""

    def run(self) -> None:
        try:
            with signed_in_session(self.base_url, self.nurse.username, self.nurse.password) as b:
                first = self.nurse.residents[0].resident_id
                page = b.get(f"{self.base_url}/residents/{first}/session", timeout=REQUEST_TIMEOUT)
                token = csrf_token(page.text)  # one per sign-in session, valid for every form
                self.cookie = "; ".join(f"{c.name}={c.value}" for c in b.cookies)
            self.start_line.wait()
            for number in range(self.posts):
                self._one(token, number)
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            self.failure = error
            self.start_line.abort()

    def _one(self, token: str, number: int) -> None:
        resident = self.rng.choice(self.nurse.residents)
        use_full = resident.massage_allowed and self.rng.random() >= DECLINE_SHARE
        path, fields = (full_session_form if use_full else declined_form)(self.rng, resident)
        submission = Submission(self.number, number, resident.resident_id)
        self.submissions.append(submission)
        key = str(uuid.uuid4())
        payload = {**fields, "csrf_token": token, "submission_key": key}
        submission.keys.append(key)
        post = (self.base_url, path, payload, submission, self.cookie)
        if (number + 1) % RETRY_EVERY:
            _post(*post)
            return
        retry = dict(payload)
        if not self.same_key_retries:
            retry["submission_key"] = str(uuid.uuid4())
            submission.keys.append(retry["submission_key"])
        again = (self.base_url, path, retry, submission, self.cookie)
        if (number + 1) // RETRY_EVERY % 2:  # a resubmission: the answer came back, sent again
            _post(*post)
            _post(*again)
            return
        other = threading.Thread(target=_post, args=again)  # a double tap: both at once
        other.start()
        _post(*post)
        other.join()


def drive(
    base_url: str,
    nurses: list[NursePlan],
    posts_per_client: int,
    same_key_retries: bool = True,
    seed: int = 2026,
    on_start: Callable[[], None] | None = None,
) -> LoadRun:
    """Run one client per nurse at once; every client starts posting at the same moment.

    Clients sign in first; on_start, if given, is called once all have, as the posting begins.
    """
    start = threading.Barrier(len(nurses) + 1)
    clients = [
        Client(n, base_url, nurse, posts_per_client, start, same_key_retries, seed + n)
        for n, nurse in enumerate(nurses)
    ]
    for client in clients:
        client.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: reported below
        start.wait(timeout=120)
    if on_start:
        on_start()
    began = time.perf_counter()
    for client in clients:
        client.join()
    wall = time.perf_counter() - began
    failures = [c.failure for c in clients if c.failure]
    if failures:
        raise RuntimeError(f"{len(failures)} clients failed; first: {failures[0]!r}")
    return LoadRun([s for c in clients for s in c.submissions], wall)


@dataclass(frozen=True)
class Stored:
    """What the database holds after a run."""

    key_sessions: dict[str, int]  # submission key -> session id, over every version row
    version_rows: int
    session_rows: int
    record_entries: int
    verification: chain.Verification


def stored() -> Stored:
    """Read back the versions, sessions and audit entries (in an app context).

    The judge compares these totals with the run, so the run must start on a home without
    sessions, as the demo template is.
    """
    rows = db.session.execute(
        select(CareSessionVersion.submission_key, CareSessionVersion.session_id)
    ).all()
    return Stored(
        key_sessions={key: session_id for key, session_id in rows},
        version_rows=len(rows),
        session_rows=db.session.scalar(select(func.count()).select_from(CareSession)),
        record_entries=db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "session.record")
        ),
        verification=chain.verify(db.session),
    )


def judge(run: LoadRun, found: Stored) -> list[str]:
    """Everything that shows a write lost, doubled or refused; empty when all is well."""
    problems = []
    statuses = run.status_counts
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    if server_errors:
        problems.append(f"{server_errors} answers were 5xx")
    if set(statuses) != {303}:
        problems.append(f"answers other than 303: {dict(statuses)}")
    transport = [e for s in run.submissions for e in s.errors]
    if transport:
        problems.append(f"{len(transport)} requests failed: {transport[:3]}")
    logical = len(run.submissions)
    if found.version_rows != logical:
        problems.append(f"{found.version_rows} version rows for {logical} logical sessions")
    if found.session_rows != logical or found.record_entries != logical:
        problems.append(
            f"{found.session_rows} sessions and {found.record_entries} audit entries "
            f"for {logical} logical sessions"
        )
    strangers = set(found.key_sessions) - run.keys
    if strangers:
        problems.append(f"{len(strangers)} stored keys no client sent")
    per_submission = [[k for k in s.keys if k in found.key_sessions] for s in run.submissions]
    doubled = sum(1 for keys in per_submission if len(keys) > 1)
    lost = sum(1 for keys in per_submission if not keys)
    if doubled:
        problems.append(f"{doubled} logical sessions stored more than once")
    if lost:
        problems.append(f"{lost} logical sessions not stored")
    inconsistent = 0
    for submission, keys in zip(run.submissions, per_submission, strict=True):
        told = set(submission.session_ids)
        if len(told) != 1 or told != {found.key_sessions[k] for k in keys}:
            inconsistent += 1
    if inconsistent:
        problems.append(f"{inconsistent} logical sessions answered with differing session ids")
    if not found.verification.ok:
        problems.append(f"audit chain fails: {found.verification.problem}")
    return problems


def audit_verify_command(database_url: str) -> subprocess.CompletedProcess:
    """Run `flask --app carelog audit verify` against the database, as an auditor would."""
    flask = Path(sys.executable).with_name("flask")
    env = {
        "CARELOG_DATABASE_URL": database_url,
        "CARELOG_SECRET_KEY": SERVER_SECRET,
        "PATH": str(flask.parent),
    }
    return subprocess.run(
        [str(flask), "--app", "carelog", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _summary(backend: str, run: LoadRun) -> str:
    return (
        f"[{backend}] {len(run.submissions)} sessions, {run.requests} POSTs in "
        f"{run.wall_seconds:.1f} s: {run.requests_per_second:.0f} requests/s, "
        f"{run.sessions_per_second:.0f} sessions/s"
    )


def _duplicate_key_errors(request, backend: str) -> int | None:
    """How many unique-key violations PostgreSQL has logged: double taps that raced to insert."""
    if backend != "postgresql":
        return None  # SQLite's BEGIN IMMEDIATE queues the second tap behind the first
    server = request.getfixturevalue("postgres_server")
    log = Path(server.directory).parent / "log"
    return log.read_text(errors="replace").count(f'unique constraint "{UNIQUE_KEY}"')


def test_sixteen_nurses_through_four_workers_lose_and_double_nothing(
    backend, app, database_url, capsys, request
):
    """1,600 sessions, 160 retried with the same key: one row per key, no 5xx, chain intact."""
    with closing_context(app):
        nurses = create_nurses(CLIENTS)
        before = chain.verify(db.session)
        assert stored().version_rows == 0, "the judge counts every row: start without sessions"
    assert before.ok
    races_before = _duplicate_key_errors(request, backend)

    with running_server(database_url, workers=WORKERS) as base_url:
        run = drive(base_url, nurses, POSTS_PER_CLIENT)

    with closing_context(app):
        found = stored()
    with capsys.disabled():
        print(f"\n{_summary(backend, run)}")
        if races_before is not None:
            raced = _duplicate_key_errors(request, backend) - races_before
            print(f"[{backend}] {raced} double taps reached the unique key and were replayed")

    assert len(run.submissions) == CLIENTS * POSTS_PER_CLIENT
    retried = [s for s in run.submissions if len(s.statuses) + len(s.errors) == 2]
    assert len(retried) == CLIENTS * POSTS_PER_CLIENT // RETRY_EVERY
    assert all(s.statuses == [303, 303] for s in retried)
    assert all(len(set(s.session_ids)) == 1 for s in retried)
    assert judge(run, found) == []
    assert len(found.key_sessions) == found.version_rows == len(run.keys)
    signed_in = CLIENTS  # each client's sign-in is an audit entry too
    opened = CLIENTS  # and so is opening the session form once, to read its CSRF token
    assert found.verification.count == before.count + len(run.keys) + signed_in + opened

    verified = audit_verify_command(database_url)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"OK: {found.verification.count} entries")


def test_negative_control_the_judge_sees_retries_that_carry_a_fresh_key(backend, app, database_url):
    """Without a shared key each retry becomes a second record, and the judge says so."""
    with closing_context(app):
        nurses = create_nurses(4, prefix="control")

    with running_server(database_url, workers=WORKERS) as base_url:
        run = drive(base_url, nurses, 20, same_key_retries=False)

    with closing_context(app):
        found = stored()

    retried = [s for s in run.submissions if len(s.keys) == 2]
    assert len(retried) == 4 * 20 // RETRY_EVERY
    assert found.verification.ok
    assert found.version_rows == len(run.submissions) + len(retried)
    problems = judge(run, found)
    assert f"{len(retried)} logical sessions stored more than once" in problems
    assert any(p.startswith(f"{found.version_rows} version rows for") for p in problems)
    assert not any("5xx" in p or "failed" in p for p in problems)


def test_negative_control_the_judge_sees_a_lost_write_and_a_wrong_answer():
    """A run whose stored rows miss one session, or disagree with the answer, does not pass."""
    keys = [str(uuid.uuid4()) for _ in range(3)]
    submissions = [
        Submission(0, n, 1, keys=[key], answers=[(303, n + 1, 0.01)]) for n, key in enumerate(keys)
    ]
    run = LoadRun(submissions, wall_seconds=1.0)
    verified = chain.verify_rows([])
    whole = Stored({k: n + 1 for n, k in enumerate(keys)}, 3, 3, 3, verified)
    assert judge(run, whole) == []

    missing = Stored({k: n + 1 for n, k in enumerate(keys[:2])}, 2, 2, 2, verified)
    assert "1 logical sessions not stored" in judge(run, missing)
    wrong = Stored({keys[0]: 1, keys[1]: 3, keys[2]: 2}, 3, 3, 3, verified)
    assert "2 logical sessions answered with differing session ids" in judge(run, wrong)
    submissions[0].answers = [(500, None, 0.01)]
    assert "1 answers were 5xx" in judge(run, whole)
