"""Sessions logged per second through gunicorn (4 workers) on SQLite and on PostgreSQL.

The driver and the judge are those of tests/test_load.py: nurses signed in through the form post
full sessions and declines with client-generated submission keys, a tenth of them retried with
the same key. A run only counts if the judge finds nothing lost, doubled or refused.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from bench import Table, data, machine, percentile
from tests import postgres
from tests.server import running_server
from tests.test_load import RETRY_EVERY, closing_context, create_nurses, drive, judge, stored

WORKERS = 4
RUNS = (  # clients, sessions per client, repeats (the rate on a shared 2-core machine wanders)
    (1, 150, 1),
    (16, 100, 3),
)
SQLITE_AIM = 200  # sessions per second on SQLite, on the 2-core machine


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's master and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        fields = text[text.rindex(")") + 2 :].split()  # state, ppid, ..., utime, stime
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def postmaster_pid(server) -> int:
    """The PostgreSQL server's main process, whose children run the queries."""
    return int(Path(server.directory, "postmaster.pid").read_text().split()[0])


def _measure(backend: str, server, clients: int, posts: int, production: bool = False) -> list:
    with data.database(backend, server, name=f"logging_{clients}") as url:
        app = data.demo_home(url)
        with closing_context(app):
            nurses = create_nurses(clients, prefix="bench")
        with running_server(url, workers=WORKERS, production_config=production) as base_url:
            database_pid = postmaster_pid(server) if backend == "postgresql" else None

            def cpu() -> tuple[float, float, float]:
                database = process_tree_cpu(database_pid) if database_pid else 0.0
                return process_tree_cpu(base_url.pid), database, time.process_time()

            at_start = []
            # noted once the clients have signed in: argon2 hashing is not logging
            run = drive(base_url, nurses, posts, on_start=lambda: at_start.extend(cpu()))
            server_cpu, database_cpu, client_cpu = (
                after - before for after, before in zip(cpu(), at_start, strict=True)
            )
        with closing_context(app):
            problems = judge(run, stored())
    latencies_ms = [seconds * 1000 for seconds in run.latencies]
    aim = "" if backend != "sqlite" else ("yes" if run.sessions_per_second >= SQLITE_AIM else "NO")
    return [
        backend,
        "4 x 8 threads" if production else "4 sync",
        clients,
        len(run.submissions),
        run.requests,
        run.wall_seconds,
        run.sessions_per_second,
        run.requests_per_second,
        statistics.median(latencies_ms),
        percentile(latencies_ms, 0.95),
        server_cpu * 1000 / run.requests,
        database_cpu * 1000 / run.requests if database_pid else "in workers",
        client_cpu * 1000 / run.requests,
        "ok" if not problems else "; ".join(problems),
        aim,
    ]


def main() -> Table:
    """Drive gunicorn on each backend with one client, then sixteen at once."""
    table = Table(
        "Logging sessions through gunicorn",
        [
            "backend",
            "workers",
            "clients",
            "sessions",
            "POSTs",
            "wall s",
            "sessions/s",
            "POSTs/s",
            "POST median ms",
            "POST p95 ms",
            "gunicorn CPU ms/POST",
            "PostgreSQL CPU ms/POST",
            "client CPU ms/POST",
            "nothing lost or doubled",
            f">= {SQLITE_AIM}/s",
        ],
    )
    server = postgres.start()
    try:
        for backend in ("sqlite", "postgresql"):
            for clients, posts, repeats in RUNS:
                for _ in range(repeats):
                    table.rows.append(_measure(backend, server, clients, posts))
        # The configuration `make run` and the README's production section use (threaded).
        table.rows.append(_measure("sqlite", server, 16, 100, production=True))
    finally:
        server.stop()
    table.notes.extend(
        [
            f"every {RETRY_EVERY}th session is posted twice with the same key (half resubmitted, "
            "half double-tapped); sessions/s counts distinct sessions, POSTs/s every request",
            "clients are threads on the same 2 cores as the server, each POST a minimal HTTP/1.1 "
            "request on its own socket; they generate uuid4 submission keys instead of fetching "
            "the form before each post, and do not follow the 303",
            "the 16-client run is repeated: on this shared machine, runs of the same code a "
            "minute apart have differed by up to a fifth",
            "CPU ms/POST counts from the end of the sign-ins; it depends far less than the rates "
            "on what else runs on the machine, and 2 cores / (all CPU per POST) "
            "approximates the rate an otherwise idle machine could reach",
            "SQLite runs with synchronous=FULL (an fsync per commit); the throwaway PostgreSQL "
            "runs with fsync=off and synchronous_commit=off, so it does not pay for durability",
            machine(),
        ]
    )
    return table
