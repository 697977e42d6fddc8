"""Run carelog under gunicorn in a subprocess, as it runs in a home, for load and browser tests.

    with running_server(database_url, workers=4) as base_url:
        requests.get(f"{base_url}/healthz")

The database must already be migrated. Every worker gets the same secret key through the
environment (otherwise forms fail at random with a missing CSRF token).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.postgres import free_port

ROOT = Path(__file__).resolve().parent.parent
SERVER_SECRET = "gunicorn-test-secret-key-0123456789abcdef"
START_TIMEOUT = 30
STOP_TIMEOUT = 15
PRODUCTION_CONFIG = "python:carelog.ops.gunicorn_config"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class ServerURL(str):
    """The server's base URL, which also knows the gunicorn master's process id."""

    pid: int

    def __new__(cls, url: str, pid: int):
        instance = super().__new__(cls, url)
        instance.pid = pid
        return instance


class ServerError(RuntimeError):
    """gunicorn did not start, or did not answer /healthz in time."""


def _environment(database_url: str, secret_key: str, extra: dict[str, str] | None) -> dict:
    """The caller's environment without its CARELOG_* settings, plus the server's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELOG_")}
    env.update(
        CARELOG_DATABASE_URL=database_url,
        CARELOG_SECRET_KEY=secret_key,
        PYTHONUNBUFFERED="1",
        **(extra or {}),
    )
    return env


def _wait_until_healthy(process: subprocess.Popen, base_url: str, deadline: float) -> bool:
    """Poll /healthz until it answers 200; False if gunicorn exited first."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass  # not listening yet, or the workers are still booting
        time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen) -> None:
    """Graceful stop (SIGTERM lets workers finish their request), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


@contextmanager
def running_server(
    database_url: str,
    workers: int = 4,
    *,
    secret_key: str = SERVER_SECRET,
    env: dict[str, str] | None = None,
    log_path: str | os.PathLike | None = None,
    production_config: bool = False,
) -> Iterator[ServerURL]:
    """Start gunicorn on a free loopback port, yield its base URL, and stop it afterwards.

    With production_config, gunicorn reads carelog's own settings (threaded workers), as
    `make run` and the README's production section start it; `workers` still applies.

    gunicorn's error log (worker boots, tracebacks) goes to log_path, or to a temporary file
    whose end is quoted if the server fails to start.
    """
    owned_log = log_path is None
    if owned_log:
        handle, log_path = tempfile.mkstemp(prefix="carelog-gunicorn-", suffix=".log")
        os.close(handle)
    try:
        for _attempt in range(3):  # another process may take the free port before we bind it
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            logged_before = Path(log_path).stat().st_size
            with open(log_path, "ab") as log:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        *(["--config", PRODUCTION_CONFIG] if production_config else []),
                        "--workers",
                        str(workers),
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--graceful-timeout",
                        "10",
                        "carelog:create_app()",
                    ],
                    cwd=ROOT,
                    env=_environment(database_url, secret_key, env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                healthy = _wait_until_healthy(process, base_url, time.monotonic() + START_TIMEOUT)
                if healthy:
                    yield ServerURL(base_url, process.pid)
                    return
            finally:
                _stop(process)
            this_attempt = Path(log_path).read_bytes()[logged_before:]
            if b"Address already in use" not in this_attempt:
                break
        tail = Path(log_path).read_text(errors="replace")[-3000:]
        raise ServerError(f"gunicorn did not become healthy at {base_url}:\n{tail}")
    finally:
        if owned_log:
            os.unlink(log_path)


def csrf_token(page_html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = CSRF_PATTERN.search(page_html)
    if not match:
        raise AssertionError("no CSRF token on the page")
    return match.group(1)


def signed_in_session(base_url: str, username: str, password: str) -> requests.Session:
    """A requests.Session signed in through the sign-in form, like a tablet's browser."""
    browser = requests.Session()
    try:
        page = browser.get(f"{base_url}/auth/sign-in", timeout=30)
        response = browser.post(
            f"{base_url}/auth/sign-in",
            data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code != 303:
            raise AssertionError(f"sign-in as {username} answered {response.status_code}")
    except BaseException:
        browser.close()
        raise
    return browser
