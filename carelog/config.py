"""Configuration: defaults, then instance/config.py, then CARELOG_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

WEAK_SECRETS = frozenset({"", "dev", "secret", "change-me", "changeme"})
MIN_SECRET_LENGTH = 32


def defaults(instance_path: str) -> dict:
    """Settings that suit a single home on SQLite."""
    return {
        "SECRET_KEY": None,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "carelog.sqlite"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "carelog_session",
        "WTF_CSRF_TIME_LIMIT": None,  # the sign-in session bounds the token's life
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "CARELOG_HOME_NAME": "Carelog demo home",
        "CARELOG_TIMEZONE": "Europe/London",
        "CARELOG_IDLE_MINUTES": 15,
        "CARELOG_LAST_SEEN_SECONDS": 30,  # how often a sign-in session's last use is written
        "CARELOG_MAX_SESSION_HOURS": 12,
        "CARELOG_PIN_HOURS": 12,  # a PIN works this long after a full sign-in on the tablet
        "CARELOG_PIN_ATTEMPTS": 5,  # wrong PINs before only the password opens the account
        "CARELOG_LOCKOUT_ATTEMPTS": 5,
        "CARELOG_LOCKOUT_MINUTES": 15,
        "CARELOG_LOCKOUT_WINDOW_MINUTES": 15,  # failed sign-ins count within this sliding window
        "CARELOG_SIGN_IN_CLIENT_LIMIT": 20,  # failed sign-ins from one address within the window
        "CARELOG_SIGN_IN_WINDOW_MINUTES": 15,
        "CARELOG_LATE_ENTRY_HOURS": 2,
        # How far a tablet's clock may be off for an entry saved offline still to be believed.
        "CARELOG_TABLET_CLOCK_MINUTES": 10,
        # A second session of the same kind for a resident this soon asks "record another?"
        "CARELOG_REPEAT_WINDOW_MINUTES": 120,
        "CARELOG_NOT_MASSAGED_DAYS": 14,  # the manager's page lists residents without one this long
        "CARELOG_NURSE_CORRECTION_HOURS": 12,  # a nurse may correct their own entry that shift
        "CARELOG_RETENTION_YEARS": 8,
        "CARELOG_PAGE_SIZE": "A4",
        "CARELOG_PROXIES": 0,  # TLS-terminating proxies in front that set X-Forwarded-*
        "CARELOG_BODY_SECONDS": 10,  # a client that stops sending mid-form is cut off after this
        "CARELOG_MIN_FREE_MB": 64,  # /healthz fails below this much free space beside SQLite
    }


def _environment_overrides() -> dict:
    """CARELOG_* variables; numbers are converted, DATABASE_URL and SECRET_KEY are mapped."""
    overrides: dict = {}
    for name, raw in os.environ.items():
        if not name.startswith("CARELOG_"):
            continue
        if name == "CARELOG_DATABASE_URL":
            overrides["SQLALCHEMY_DATABASE_URI"] = raw
        elif name == "CARELOG_SECRET_KEY":
            overrides["SECRET_KEY"] = raw
        elif name == "CARELOG_SECURE_COOKIES":
            overrides["SESSION_COOKIE_SECURE"] = raw.lower() in {"1", "true", "yes"}
        else:
            overrides[name] = int(raw) if raw.isdigit() else raw
    return overrides


def _instance_secret(instance_path: str) -> str:
    """Read the secret key from instance/, creating it once, atomically across workers."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        draft = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # atomic; the first worker's key wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def load(app: Flask, test_config: dict | None) -> None:
    """Fill app.config and refuse to run in production with a weak secret key."""
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(defaults(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(_environment_overrides())
    else:
        app.config.update(test_config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Wait at most 5 s for a lock (the audit chain's, say), then answer 503, not hang.
        # Plan every statement for its own values: psycopg prepares a statement after five runs,
        # and PostgreSQL's generic plan for it, blind to the dates asked for, scans a whole
        # table where a few days of an index would do (the board went from 51 to 78 ms).
        app.config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS",
            {
                "connect_args": {
                    "options": "-c lock_timeout=5000 -c plan_cache_mode=force_custom_plan"
                },
                "pool_pre_ping": True,
            },
        )
    if app.config["SECRET_KEY"] is None:
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    secret = app.config["SECRET_KEY"]
    weak = secret in WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH
    if weak and not (app.debug or app.testing or app.config.get("TESTING")):
        raise RuntimeError(
            "SECRET_KEY is a default or too short; remove it to have one generated in instance/"
        )
