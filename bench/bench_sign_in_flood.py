"""A sign-in flood from four addresses, and a nurse's ward board meanwhile.

Four clients, each from its own loopback address (127.0.0.2-5), post wrong passwords for known
and unknown usernames as fast as the server answers, for FLOOD_SECONDS. A signed-in nurse on
127.0.0.1 opens the ward board one request after another, idle first and then during the flood.
Measured with carelog's throttle (CARELOG_SIGN_IN_CLIENT_LIMIT failures per address per window,
refused before any password is hashed) and, for contrast, with the throttle set out of reach.
"""

from __future__ import annotations

import statistics
import threading
import time

import requests
from requests.adapters import HTTPAdapter

from bench import Table, data, machine, percentile
from tests.conftest import PASSWORDS
from tests.server import csrf_token, running_server, signed_in_session

FLOODERS = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
FLOOD_SECONDS = 15
IDLE_REQUESTS = 20
AIM_FACTOR = 2  # the board's median during the flood at most twice its idle median
USERNAMES = ("nurse", "nurse2", "manager", "nobody")
TESTER_RATE = 159 / 15  # the outside test's flood: 159 attempts in 15 s from four clients


class FromAddress(HTTPAdapter):
    """Connections from one source address, as a separate client on the network would make."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _flood(base, address: str, stop: threading.Event, statuses: list, pause: float) -> None:
    browser = requests.Session()
    browser.mount("http://", FromAddress(address))
    number, began = 0, time.monotonic()
    while not stop.wait(max(0.0, began + number * pause - time.monotonic())):
        page = browser.get(f"{base}/auth/sign-in", timeout=60)
        answer = browser.post(
            f"{base}/auth/sign-in",
            data={
                "csrf_token": csrf_token(page.text),
                "username": USERNAMES[number % len(USERNAMES)],
                "password": f"not-the-password-{number}",
            },
            allow_redirects=False,
            timeout=60,
        )
        statuses.append(answer.status_code)
        number += 1
    browser.close()


def _board_times(browser: requests.Session, base: str, until: float | None, count: int = 0):
    times = []
    while (until is not None and time.monotonic() < until) or len(times) < count:
        began = time.perf_counter()
        answer = browser.get(f"{base}/ward/", timeout=60)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.status_code
    return times


def _measure(throttled: bool, paced: bool) -> list:
    limit = "20" if throttled else "1000000"
    with data.database("sqlite", name="flood") as url:
        data.demo_home(url)
        env = {"CARELOG_SIGN_IN_CLIENT_LIMIT": limit}
        with running_server(url, workers=4, env=env, production_config=True) as base:
            nurse = signed_in_session(base, "nurse", PASSWORDS["nurse"])
            idle = _board_times(nurse, base, None, IDLE_REQUESTS)
            stop = threading.Event()
            statuses: list[int] = []
            pause = len(FLOODERS) / TESTER_RATE if paced else 0
            flooders = [
                threading.Thread(target=_flood, args=(base, address, stop, statuses, pause))
                for address in FLOODERS
            ]
            for thread in flooders:
                thread.start()
            busy = _board_times(nurse, base, time.monotonic() + FLOOD_SECONDS)
            stop.set()
            for thread in flooders:
                thread.join()
            nurse.close()
    ratio = statistics.median(busy) / statistics.median(idle)
    return [
        "20 per address per 15 min" if throttled else "none (limit out of reach)",
        f"{TESTER_RATE:.1f}/s, as tested" if paced else "as fast as answered",
        statistics.median(idle),
        statistics.median(busy),
        percentile(busy, 0.95),
        f"{len(statuses)}: {statuses.count(200)} refused, {statuses.count(429)} x 429",
        f"{ratio:.2f}",
        "yes" if ratio <= AIM_FACTOR else "NO",
    ]


def main() -> Table:
    """The board's latency during a four-address sign-in flood, throttled and not."""
    table = Table(
        f"The ward board during a {FLOOD_SECONDS} s sign-in flood from {len(FLOODERS)} addresses "
        "(SQLite, production gunicorn settings)",
        [
            "sign-in throttle",
            "flood pace",
            "idle median ms",
            "flood: median ms",
            "p95 ms",
            "sign-in attempts",
            "flood / idle",
            f"<= {AIM_FACTOR}x",
        ],
    )
    table.rows.append(_measure(throttled=True, paced=True))
    table.rows.append(_measure(throttled=False, paced=True))
    table.rows.append(_measure(throttled=True, paced=False))
    table.notes.extend(
        [
            f"{IDLE_REQUESTS} board requests idle, then as many as fit in the flood, one after "
            "another from one signed-in nurse on 127.0.0.1",
            "each flooder: GET the sign-in page, POST a wrong password, again, on one connection; "
            "the flooders run in this process, on the same two cores as the server",
            machine(),
        ]
    )
    return table
