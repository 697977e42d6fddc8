"""The real `flask` command run as a separate process, and SQLite's own integrity check."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET

FLASK = Path(sys.executable).with_name("flask")


ROOT = Path(__file__).resolve().parents[2]


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


def integrity_check(path) -> str:
    """SQLite's PRAGMA integrity_check, joined into one line ('ok' when sound)."""
    connection = sqlite3.connect(path)
    try:
        return ", ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
    finally:
        connection.close()
