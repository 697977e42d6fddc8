"""Start a throwaway PostgreSQL server from the machine's binaries, for tests and benchmarks."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass


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
