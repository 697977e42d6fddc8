"""Tablets that stop sending halfway through a form, and everyone else's wait.

Eight raw sockets each send a decline form's headers and 20 bytes of its body, then nothing.
Meanwhile a signed-in nurse opens the ward board 40 times, one after another. Measured with
carelog's production settings (threaded workers; the app cuts a stalled body off after
CARELOG_BODY_SECONDS) and, for contrast, with plain sync workers, where a stalled upload holds
its whole worker until gunicorn's 30 s timeout.
"""

from __future__ import annotations

import statistics
import time
from urllib.parse import urlencode

from bench import Table, data, machine, percentile
from tests.conftest import PASSWORDS
from tests.server import running_server
from tests.test_faults import Tablet, nurse_resident, status_of

STALLED = 8
IDLE_REQUESTS = 20
BUSY_REQUESTS = 40
AIM_FACTOR = 2  # the board's median with stalled uploads at most twice its idle median
AIM_MAX_SECONDS = 1.0


def _board_times(tablet: Tablet, count: int) -> list[float]:
    times = []
    for _ in range(count):
        began = time.perf_counter()
        answer = tablet.browser.get(f"{tablet.base_url}/ward/", timeout=60)
        times.append(time.perf_counter() - began)
        assert answer.status_code == 200, answer.status_code
    return times


def _measure(production: bool) -> list:
    with data.database("sqlite", name="stalled") as url:
        data.demo_home(url)
        env = {"CARELOG_BODY_SECONDS": "10"}
        with running_server(url, workers=4, env=env, production_config=production) as base:
            tablet = Tablet(base, nurse_resident(url))
            assert PASSWORDS["nurse"]
            try:
                idle = _board_times(tablet, IDLE_REQUESTS)
                body = urlencode(tablet.decline_fields("Stalled upload")).encode()
                sockets = []
                for _ in range(STALLED):
                    sock = tablet.connect()
                    sock.settimeout(60)
                    sock.sendall(tablet.head(len(body)) + body[:20])
                    sockets.append(sock)
                time.sleep(0.3)
                busy = _board_times(tablet, BUSY_REQUESTS)
                began = time.perf_counter()
                statuses = [
                    status_of(b"".join(iter(lambda s=sock: s.recv(65536), b""))) for sock in sockets
                ]
                cut_off_after = time.perf_counter() - began + 0.3 + sum(busy)
                for sock in sockets:
                    sock.close()
            finally:
                tablet.close()
    idle_ms = [t * 1000 for t in idle]
    busy_ms = [t * 1000 for t in busy]
    met = (
        statistics.median(busy_ms) <= AIM_FACTOR * statistics.median(idle_ms)
        and max(busy_ms) <= AIM_MAX_SECONDS * 1000
    )
    return [
        "4 workers x 8 threads (production)" if production else "4 sync workers",
        statistics.median(idle_ms),
        statistics.median(busy_ms),
        percentile(busy_ms, 0.95),
        max(busy_ms),
        f"{statuses.count(400)} x 400 after {cut_off_after:.0f} s"
        if statuses.count(400) == STALLED
        else str(sorted(set(statuses))),
        "yes" if met else "NO",
    ]


def main() -> Table:
    """The board's latency with eight stalled uploads open, threaded against sync workers."""
    table = Table(
        f"The ward board while {STALLED} uploads stall (SQLite)",
        [
            "gunicorn",
            "idle median ms",
            "stalled: median ms",
            "p95 ms",
            "max ms",
            "stalled uploads answered",
            f"median <= {AIM_FACTOR}x idle and max <= {AIM_MAX_SECONDS:.0f} s",
        ],
    )
    table.rows.append(_measure(production=True))
    table.rows.append(_measure(production=False))
    table.notes.extend(
        [
            f"{IDLE_REQUESTS} board requests idle, then {BUSY_REQUESTS} with the uploads "
            "stalled, one after another from one signed-in nurse",
            "each stalled upload sent its headers and 20 bytes of a declared body, then nothing",
            machine(),
        ]
    )
    return table
