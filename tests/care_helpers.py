"""Shared helpers for the session-logging tests: residents by flag, forms read from the page."""

from __future__ import annotations

import html
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import event, func, select

from carelog.accounts.models import User, Ward
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.audit.models import AuditEntry
from carelog.care import amendments, recording
from carelog.care.content import CONTENT_FIELDS, SessionContent
from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.vocabulary import VersionKind
from carelog.extensions import db
from carelog.local_time import home_zone, local_today
from carelog.residents.models import Resident
from tests.conftest import TEST_SECRET

PICK_A_RATING = "Choose a rating, or say why there is none."
ALREADY_SAVED = "This session was already saved; nothing was added twice."
FIVE_RATINGS = (
    "relaxation_before",
    "mood_before",
    "sleep_before",
    "relaxation_after",
    "mood_after",
)
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


# ----- reading pages -----------------------------------------------------------------------


@dataclass
class PageForm:
    """One <form> on a page: where it posts and the controls it holds."""

    action: str
    attrs: dict
    controls: list[dict] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        """The value a browser would send for a text or hidden control (None if absent)."""
        for control in self.controls:
            if control.get("name") == name and control.get("type") not in ("radio", "checkbox"):
                return control.get("value", "")
        return None

    def checked(self, name: str) -> list[str]:
        """The values of the ticked radio buttons or checkboxes with this name."""
        return [
            c.get("value", "on")
            for c in self.controls
            if c.get("name") == name and c.get("type") in ("radio", "checkbox") and "checked" in c
        ]

    def options(self, name: str) -> list[str]:
        """Every value offered by the radio buttons or checkboxes with this name."""
        return [c.get("value") for c in self.controls if c.get("name") == name and "value" in c]

    def names(self) -> set[str]:
        """The names of all controls in the form."""
        return {c["name"] for c in self.controls if c.get("name")}


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._current: PageForm | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._current = PageForm(attributes.get("action", ""), attributes)
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "button"):
            attributes.setdefault("type", "text" if tag == "input" else tag)
            self._current.controls.append(attributes)
        elif self._current is not None and tag == "textarea":
            self._textarea = {**attributes, "type": "textarea", "value": ""}
            self._current.controls.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "textarea":
            self._textarea = None


def forms_on(page: str) -> list[PageForm]:
    """Every form on a page."""
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def form_posting_to(page: str, action: str) -> PageForm:
    """The one form on the page that posts to `action`."""
    found = [f for f in forms_on(page) if f.action == action]
    assert len(found) == 1, f"expected one form posting to {action}, found {len(found)}"
    return found[0]


def text(response_or_page) -> str:
    """A page as the reader sees it: tags dropped, entities decoded, spaces collapsed."""
    page = (
        response_or_page
        if isinstance(response_or_page, str)
        else response_or_page.get_data(as_text=True)
    )
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages shown next to a form field."""
    pattern = rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>'
    return [html.unescape(m).strip() for m in re.findall(pattern, page, re.S)]


def flashes(page: str, category: str | None = None) -> list[str]:
    """The flash messages on a page, optionally of one category (success, info, error)."""
    wanted = re.escape(category) if category else r"[a-z]+"
    pattern = rf'<p class="flash flash-{wanted}"[^>]*>(.*?)</p>'
    return [text(m) for m in re.findall(pattern, page, re.S)]


def location(response) -> tuple[str, str]:
    """The path and query a redirect points to."""
    parts = urlsplit(response.headers["Location"])
    return parts.path, parts.query


# ----- the session form ---------------------------------------------------------------------


def session_url(resident_id: int) -> str:
    """Where the full session form lives and posts."""
    return f"/residents/{resident_id}/session"


def open_session_form(staff, resident_id: int) -> tuple[str, PageForm]:
    """GET the session page; return it and its full-session form."""
    response = staff.get(session_url(resident_id))
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    return page, form_posting_to(page, session_url(resident_id))


def full_session(staff, resident_id: int, **changes) -> dict:
    """A complete, valid full-session payload, with the key and CSRF token read from the page.

    Keyword arguments replace answers; None leaves a field out, as a browser would.
    """
    _, form = open_session_form(staff, resident_id)
    data = {
        "csrf_token": form.value("csrf_token"),
        "submission_key": form.value("submission_key"),
        "occurred_at": form.value("occurred_at"),
        "precautions_confirmed": "y",
        "relaxation_before": "3",
        "relaxation_before_rater": "self",
        "mood_before": "2",
        "mood_before_rater": "self",
        "sleep_before": "6",
        "sleep_before_rater": "observer",
        "duration_minutes": "10",
        "relaxation_after": "7",
        "relaxation_after_rater": "self",
        "mood_after": "4",
        "mood_after_rater": "self",
        "hands": "both",
        "pressure": "light",
        "product": form.value("product"),
        "assent": "agreed",
        "outcome": "completed",
        "note": "Talked about her garden; hands warm afterwards.",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def quick_form(staff, resident_id: int, which: str) -> dict:
    """The CSRF token and key of the page's 'declined' or 'not-done' form."""
    response = staff.get(session_url(resident_id))
    assert response.status_code == 200, response.status_code
    form = form_posting_to(response.get_data(as_text=True), f"{session_url(resident_id)}/{which}")
    return {"csrf_token": form.value("csrf_token"), "submission_key": form.value("submission_key")}


def local_minute(app, moment: datetime) -> str:
    """A time as the datetime-local control sends it, in the home's zone."""
    with app.app_context():
        return moment.astimezone(home_zone()).strftime(LOCAL_MINUTE)


def from_local_minute(app, value: str) -> datetime:
    """The aware time a datetime-local value stands for, in the home's zone."""
    with app.app_context():
        return datetime.strptime(value, LOCAL_MINUTE).replace(tzinfo=home_zone())


# ----- the database ---------------------------------------------------------------------------


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


def snapshot_counts(app) -> dict[str, int]:
    """Row counts of the tables a session write touches."""
    return {
        "sessions": count(app, CareSession),
        "versions": count(app, CareSessionVersion),
        "audit": count(app, AuditEntry),
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


def board_rows(page: str) -> dict[int, str]:
    """Each resident's line on the ward board, as read, keyed by resident id."""
    rows = {}
    for chunk in re.findall(r'<li class="board-row[^"]*">(.*?)</li>', page, re.S):
        match = re.search(r'href="/residents/(\d+)(?:/session)?"', chunk)
        assert match, chunk
        rows[int(match.group(1))] = text(chunk)
    return rows


FLASK = Path(sys.executable).with_name("flask")
ROOT = Path(__file__).resolve().parent.parent


def run_flask(database_url: str, *args: str, path_prefix: str | None = None):
    """The real `flask --app carelog` executable on a database, as an operator would run it."""
    path = os.environ.get("PATH", "")
    environment = {
        "PATH": f"{path_prefix}:{path}" if path_prefix else path,
        "HOME": os.environ.get("HOME", "/tmp"),
        "CARELOG_DATABASE_URL": database_url,
        "CARELOG_SECRET_KEY": TEST_SECRET,
    }
    return subprocess.run(
        [str(FLASK), "--app", "carelog", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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


def integrity_check(path) -> str:
    """SQLite's PRAGMA integrity_check, joined into one line ('ok' when sound)."""
    connection = sqlite3.connect(path)
    try:
        return ", ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
    finally:
        connection.close()
