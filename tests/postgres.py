"""Start a throwaway PostgreSQL server from the machine's binaries, for tests and benchmarks."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import psycopg


def _bin_dir() -> str:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if os.path.exists(os.path.join(directory, "initdb")):
            return directory
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    raise RuntimeError("PostgreSQL is not installed: run `make system-packages`")


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server in a temporary directory; stop() removes everything."""

    directory: str
    port: int
    bin_dir: str
    run_as: list[str]

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for psycopg 3."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server and delete its files."""
        subprocess.run(
            [
                *self.run_as,
                f"{self.bin_dir}/pg_ctl",
                "-D",
                self.directory,
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(os.path.dirname(self.directory), ignore_errors=True)


def start() -> PostgresServer:
    """initdb, then start on a free loopback port; as root, run the server as user postgres."""
    bin_dir = _bin_dir()
    base = tempfile.mkdtemp(prefix="carelog-pg-")
    data = os.path.join(base, "data")
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chmod(base, 0o755)
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *run_as,
            f"{bin_dir}/initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        [
            *run_as,
            f"{bin_dir}/pg_ctl",
            "-D",
            data,
            "-o",
            options,
            "-l",
            f"{base}/log",
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    server = PostgresServer(data, port, bin_dir, run_as)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("PostgreSQL did not start")


class TemplateCopies:
    """Fresh copies of a template database for one test each. A copy takes 0.2 to 0.5 s, a
    third of a PostgreSQL test, so the next one is made in the background while a test runs,
    and a used one is dropped there too."""

    def __init__(self, admin_url: str, template: str):
        self.admin_url = admin_url
        self.template = template
        self._numbers = itertools.count()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="template-copies")
        self._next: Future[str] | None = None

    def take(self) -> str:
        """The name of a fresh copy, nobody's but the caller's."""
        name = (self._next or self._worker.submit(self._create)).result()
        self._next = self._worker.submit(self._create)
        return name

    def drop(self, name: str) -> None:
        """Drop a copy once its test is done with it (in the background)."""
        self._worker.submit(self._execute, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        """Drop the copy made in advance and stop the background worker."""
        if self._next is not None:
            self.drop(self._next.result())
            self._next = None
        self._worker.shutdown(wait=True)

    def _create(self) -> str:
        name = f"{self.template}_copy_{next(self._numbers)}"
        self._execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name

    def _execute(self, statement: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)
