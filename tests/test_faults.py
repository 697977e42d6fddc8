"""Faults a ward really has, through a real gunicorn started as `make run` starts it: uploads cut
short, tablets that stop sending mid-form, text that is not UTF-8, retries after an unknown
outcome, and a disk that fills up.

Clients are raw sockets, so that a body can be cut, left hanging or mis-encoded exactly as a
tablet leaving Wi-Fi would; what was stored is read back from the database by the test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
from sqlalchemy import func, select

from carelog import create_app
from carelog.accounts.models import User
from carelog.care.models import CareSessionVersion
from carelog.extensions import db
from carelog.residents.models import Resident
from tests.conftest import PASSWORDS, app_config, build_template
from tests.helpers.pages import form_posting_to
from tests.server import running_server, signed_in_session

BODY_SECONDS = 3
TIMEOUT = 20


def count_versions(database_url: str) -> int:
    """Session versions stored, read by the test's own connection."""
    app = create_app(app_config(database_url))
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(CareSessionVersion))
        db.session.remove()
        db.engine.dispose()
    return count or 0


def notes_stored(database_url: str) -> list[str | None]:
    """Every note stored on a session version."""
    app = create_app(app_config(database_url))
    with app.app_context():
        notes = list(db.session.scalars(select(CareSessionVersion.note)))
        db.session.remove()
        db.engine.dispose()
    return notes


def nurse_resident(database_url: str) -> int:
    """A resident of the demo nurse's ward."""
    app = create_app(app_config(database_url))
    with app.app_context():
        nurse = db.session.scalars(select(User).where(User.username == "nurse")).one()
        found = db.session.scalars(
            select(Resident.id).where(Resident.ward_id == nurse.ward_id).order_by(Resident.id)
        ).first()
        db.session.remove()
        db.engine.dispose()
    assert found is not None
    return found


class Tablet:
    """A signed-in nurse whose posts go out on raw sockets."""

    def __init__(self, base_url: str, resident_id: int):
        self.base_url = base_url
        self.resident_id = resident_id
        self.browser = signed_in_session(base_url, "nurse", PASSWORDS["nurse"])
        self.path = f"/residents/{resident_id}/session/declined"

    def close(self) -> None:
        self.browser.close()

    @property
    def cookie(self) -> str:
        """The browser's cookies as they are now (a page view may have renewed them)."""
        return "; ".join(f"{c.name}={c.value}" for c in self.browser.cookies)

    def decline_fields(self, note: str) -> dict[str, str]:
        """The decline form as the page offers it, with a fresh one-time key from the server."""
        page = self.browser.get(f"{self.base_url}/residents/{self.resident_id}/session").text
        form = form_posting_to(page, self.path)
        return {
            "csrf_token": form.value("csrf_token") or "",
            "submission_key": form.value("submission_key") or "",
            "decline_note": note,
            "repeat_confirmed": "y",  # many declines for one resident in a minute, each confirmed
        }

    def head(self, length: int | None, chunked: bool = False) -> bytes:
        """The request line and headers of a POST of the decline form."""
        netloc = urlsplit(self.base_url).netloc
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: {netloc}\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nCookie: {self.cookie}\r\n"
            f"{framing}\r\n\r\n"
        ).encode()

    def connect(self) -> socket.socket:
        address = urlsplit(self.base_url)
        return socket.create_connection((address.hostname, address.port), TIMEOUT)

    def send(self, raw: bytes, close_early: bool = False) -> tuple[int, bytes]:
        """Send raw bytes; with close_early, stop sending (half-close) after them."""
        with self.connect() as sock:
            sock.sendall(raw)
            if close_early:
                sock.shutdown(socket.SHUT_WR)
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
        return status_of(answer), answer

    def post(self, fields: dict[str, str]) -> tuple[int, bytes]:
        """The whole form, properly sent."""
        body = urlencode(fields).encode()
        return self.send(self.head(len(body)) + body)


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer, 0 if there is none."""
    parts = answer.split(b"\r\n", 1)[0].split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


@contextmanager
def ward_server(database_url: str, extra: dict[str, str] | None = None, log_path=None):
    """gunicorn with carelog's production settings, and a nurse's tablet."""
    env = {"CARELOG_BODY_SECONDS": str(BODY_SECONDS), **(extra or {})}
    env.setdefault("CARELOG_LAST_SEEN_SECONDS", "0")  # every request writes the sign-in's last use
    with running_server(
        database_url, workers=2, env=env, production_config=True, log_path=log_path
    ) as base_url:
        tablet = Tablet(base_url, nurse_resident(database_url))
        try:
            yield tablet
        finally:
            tablet.close()


NOTE = "Skin on the left hand looked red after the massage; told the senior nurse at 14:10."


def test_a_body_cut_short_is_refused_and_the_full_retry_is_saved_once(database_url):
    """Half a form, then the connection closes: 400 and nothing saved; the retry saves it once."""
    with ward_server(database_url) as tablet:
        before = count_versions(database_url)
        fields = tablet.decline_fields(NOTE)
        body = urlencode(fields).encode()
        status, answer = tablet.send(tablet.head(len(body)) + body[: len(body) // 2], True)
        assert status == 400, answer[:300]
        assert b"incomplete" in answer
        assert count_versions(database_url) == before
        assert tablet.post(fields)[0] == 303
        assert tablet.post(fields)[0] == 303  # a second retry is the same record
        assert count_versions(database_url) == before + 1
        assert NOTE in notes_stored(database_url)
        assert not [n for n in notes_stored(database_url) if n and NOTE.startswith(n) and n != NOTE]


def test_an_unfinished_chunked_body_is_refused(database_url):
    """A chunked body whose last chunk never comes saves nothing."""
    with ward_server(database_url) as tablet:
        before = count_versions(database_url)
        body = urlencode(tablet.decline_fields(NOTE)).encode()
        part = body[: len(body) // 2]
        chunk = f"{len(part):x}\r\n".encode() + part + b"\r\n"
        status, answer = tablet.send(tablet.head(None, chunked=True) + chunk, close_early=True)
        assert status == 400, answer[:300]
        assert count_versions(database_url) == before


@pytest.mark.parametrize("encoded", ["%FF%FE%C3", "Hand%20massage%20%C3%28"])
def test_percent_encoded_invalid_utf8_is_refused(database_url, encoded):
    """Bytes that are not UTF-8 arrive percent-encoded: 400, nothing stored as mojibake."""
    with ward_server(database_url) as tablet:
        before = count_versions(database_url)
        fields = tablet.decline_fields("")
        body = urlencode({k: v for k, v in fields.items() if k != "decline_note"}) + "&"
        body += f"decline_note={encoded}"
        raw = body.encode()
        status, answer = tablet.send(tablet.head(len(raw)) + raw)
        assert status == 400, answer[:300]
        assert b"cannot be read" in answer
        assert count_versions(database_url) == before


def test_a_changed_resend_says_what_was_saved_and_offers_to_open_it(database_url):
    """The same key with other answers is refused (409), with a link to what was saved."""
    with ward_server(database_url) as tablet:
        fields = tablet.decline_fields("Said no thank you")
        status, answer = tablet.post(fields)
        assert status == 303
        saved_at = answer.split(b"\r\nLocation: ", 1)[1].split(b"\r\n", 1)[0].decode()
        session_path = urlsplit(saved_at).path
        status, answer = tablet.post({**fields, "decline_note": "Asleep, try later"})
        assert status == 409
        assert f'href="{session_path}"'.encode() in answer
        assert b"already saved" in answer


def test_stalled_uploads_do_not_hold_up_the_ward(database_url):
    """Eight tablets stop sending halfway: everyone else is answered within a second, and the
    stalled uploads are cut off after CARELOG_BODY_SECONDS with nothing saved."""
    with ward_server(database_url) as tablet:
        url = f"{tablet.base_url}/ward/"
        idle = []
        for _ in range(10):
            began = time.perf_counter()
            assert tablet.browser.get(url, timeout=TIMEOUT).status_code == 200
            idle.append(time.perf_counter() - began)
        before = count_versions(database_url)
        body = urlencode(tablet.decline_fields(NOTE)).encode()
        stalled = []
        for _ in range(8):
            sock = tablet.connect()
            sock.sendall(tablet.head(len(body)) + body[:20])
            stalled.append(sock)
        try:
            time.sleep(0.3)  # the stalled uploads are being read by now
            during = []
            for _ in range(20):
                began = time.perf_counter()
                assert tablet.browser.get(url, timeout=TIMEOUT).status_code == 200
                during.append(time.perf_counter() - began)
            assert max(during) < 1.0, during
            assert statistics.median(during) < max(2 * statistics.median(idle), 0.05), (
                idle,
                during,
            )
            answers = []
            for sock in stalled:
                sock.settimeout(BODY_SECONDS + 10)
                answers.append(status_of(b"".join(iter(lambda s=sock: s.recv(65536), b""))))
            assert answers == [400] * 8
        finally:
            for sock in stalled:
                sock.close()
        assert count_versions(database_url) == before


# ----- a full disk ------------------------------------------------------------------------------


@contextmanager
def small_filesystem(folder: Path, megabytes: int):
    """A tmpfs of the given size mounted at folder (the tests run as root, as CI does)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)], check=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill a filesystem to the last byte with one file (unbuffered writes); returns it."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_answers_503_in_words_and_recovers_without_a_restart(tmp_path):
    """SQLite on a filesystem that fills up: writes answer 503 'Not saved' with Retry-After,
    /healthz says so, the cause is logged once per worker; freeing space brings writes back."""
    assert os.geteuid() == 0, "mounting a small filesystem needs root, as CI has"
    with small_filesystem(tmp_path / "disk", 16) as disk:
        url = f"sqlite:///{disk / 'carelog.sqlite'}"
        build_template(url)
        log = tmp_path / "gunicorn.log"
        log.touch()
        with ward_server(url, {"CARELOG_MIN_FREE_MB": "1"}, log_path=log) as tablet:
            fields = tablet.decline_fields("Said no thank you")
            health = tablet.browser.get(f"{tablet.base_url}/healthz", timeout=TIMEOUT)
            assert health.status_code == 200
            filler = fill(disk)
            board = tablet.browser.get(f"{tablet.base_url}/ward/", timeout=TIMEOUT)
            assert board.status_code == 200  # reads go on while writes cannot
            status, answer = tablet.post(fields)
            assert status == 503, answer[:500]
            assert b"Retry-After: 60" in answer
            assert b"Not saved: the system cannot store records right now" in answer
            again = tablet.post(fields)[0]
            assert again == 503
            health = tablet.browser.get(f"{tablet.base_url}/healthz", timeout=TIMEOUT)
            assert health.status_code == 503
            assert health.json()["status"] == "storage_fault"
            filler.unlink()
            status, answer = tablet.post(fields)
            assert status == 303, answer[:500]
            health = tablet.browser.get(f"{tablet.base_url}/healthz", timeout=TIMEOUT)
            assert health.status_code == 200
        logged = log.read_text()
        # Logged once by each worker that met it (two workers), not once per request.
        assert 1 <= logged.count("storage fault, writes refused") <= 2, logged[-3000:]
        assert "Traceback" not in logged
        assert count_versions(url) >= 1
        assert "Said no thank you" in notes_stored(url)


def test_a_full_disk_on_postgresql_answers_503_and_recovers(postgres_server):
    """The database lives in a tablespace on a small filesystem: when it fills, writes answer
    503 in words and /healthz's write probe fails; freeing space brings both back."""
    assert os.geteuid() == 0, "mounting a small filesystem needs root, as CI has"
    admin = postgres_server.url().replace("+psycopg", "")
    postgres = pwd.getpwnam("postgres")
    # Outside pytest's own folders, which only root may enter; the server runs as postgres.
    mount_point = Path(tempfile.mkdtemp(prefix="carelog-space-"))
    os.chmod(mount_point, 0o755)
    with small_filesystem(mount_point, 48) as space:
        os.chown(space, postgres.pw_uid, postgres.pw_gid)
        (space / "pg").mkdir()
        os.chown(space / "pg", postgres.pw_uid, postgres.pw_gid)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE TABLESPACE small_disk LOCATION '{space / 'pg'}'")
            conn.execute("CREATE DATABASE carelog_small TABLESPACE small_disk")
        url = postgres_server.url("carelog_small")
        try:
            build_template(url)
            with ward_server(url) as tablet:
                fields = tablet.decline_fields("Said no thank you")
                assert tablet.browser.get(f"{tablet.base_url}/healthz").status_code == 200
                filler = fill(space)
                board = tablet.browser.get(f"{tablet.base_url}/ward/", timeout=TIMEOUT)
                assert board.status_code == 200  # reads go on while writes cannot
                status, answer = tablet.post(fields)
                assert status == 503, answer[:500]
                assert b"Retry-After: 60" in answer
                assert b"Not saved: the system cannot store records right now" in answer
                health = tablet.browser.get(f"{tablet.base_url}/healthz", timeout=TIMEOUT)
                assert (health.status_code, health.json()["status"]) == (503, "storage_fault")
                filler.unlink()
                status, answer = tablet.post(fields)
                assert status == 303, answer[:500]
                assert tablet.browser.get(f"{tablet.base_url}/healthz").status_code == 200
            assert "Said no thank you" in notes_stored(url)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS carelog_small WITH (FORCE)")
                conn.execute("DROP TABLESPACE IF EXISTS small_disk")
    shutil.rmtree(mount_point, ignore_errors=True)  # empty once the filesystem is gone
