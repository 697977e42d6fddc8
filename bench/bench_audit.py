"""Verifying a trail of one million audit entries, and the auditor's filtered listing on it.

The trail is a migrated demo home on SQLite whose chain is extended to 1,000,000 entries by bulk
inserts of correctly chained rows (each hash computed with carelog.audit.chain.entry_hash, so
the whole chain verifies). Bulk inserts bypass carelog.audit.chain.record: acceptable ONLY for
a benchmark fixture. The entries look like a home's: mostly session records and record views by
the demo staff about 24 residents over about three years, with corrections, sign-ins and downloads.

Measured: carelog.audit.chain.verify (entries per second, Python peak memory with tracemalloc in a
second pass), split into fetching the rows and hashing them; then carelog.audit.search.page for
a resident, for an action and for a date range, first page and a deep page, median of 50 runs
in an app context; then the whole GET /audit/ page as the auditor sees it.
"""

from __future__ import annotations

import cProfile
import hashlib
import itertools
import json
import pstats
import random
import resource
import sqlite3
import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bench import Table, data, percentile
from carelog.accounts.models import User
from carelog.audit import chain, search
from carelog.audit.chain import GENESIS_HASH
from carelog.audit.models import HASHED_FIELDS, TIMESTAMP_FORMAT, AuditEntry
from carelog.audit.search import AuditFilter
from carelog.extensions import db
from carelog.ops import demo
from carelog.residents.models import Resident
from tests.server import csrf_token

ENTRIES = 1_000_000
CHUNK = 20_000
RUNS = 50
SAMPLE = 200_000  # entries for the hashing figure and the profile
PAGE_RUNS = 20
VERIFY_AIM = 100_000  # entries per second
LISTING_AIM_MS = 100
START = datetime(2023, 6, 1, tzinfo=UTC)
SPACING = timedelta(seconds=95)  # a million entries over about three years
ACTIONS = (  # (action, share)
    ("session.record", 0.45),
    ("resident.view", 0.25),
    ("session.follow_up", 0.10),
    ("auth.sign_in", 0.10),
    ("auth.sign_out", 0.04),
    ("session.correction", 0.03),
    ("report.download", 0.02),
    ("session.void", 0.01),
)
USER_AGENT = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


# ----- the fixture: a million correctly chained entries --------------------------------------


def _values(rng: random.Random, action: str, n: int) -> tuple[str | None, str | None, str | None]:
    """old_values, new_values and reason as carelog writes them for this action."""
    digest = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
    if action == "session.record":
        new = {"version": 1, "outcome": rng.choice(("completed", "declined")), "digest": digest}
        return None, chain.canonical_json(new), None
    if action == "session.follow_up":
        old = {"sleep_after_status": None, "version": 1}
        new = {"sleep_after_status": "answered", "sleep_after_value": rng.randint(0, 10)}
        return chain.canonical_json(old), chain.canonical_json({**new, "version": 2}), None
    if action == "session.correction":
        old = {"duration_minutes": 10, "version": 1}
        new = {"duration_minutes": rng.randint(5, 15), "version": 2}
        reason = "Timer stopped late; corrected the duration"
        return chain.canonical_json(old), chain.canonical_json(new), reason
    if action == "session.void":
        return (
            chain.canonical_json({"version": 2}),
            chain.canonical_json({"version": 3}),
            "Entered for the wrong resident",
        )
    if action == "report.download":
        return None, chain.canonical_json({"month": "2025-03", "digest": digest}), None
    return None, None, None


def build_trail(url: str, entries: int) -> float:
    """Extend the seeded trail to `entries` chained rows with bulk inserts; return seconds."""
    began = time.perf_counter()
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    residents = [r for (r,) in connection.execute("SELECT id FROM resident ORDER BY id")]
    users = list(connection.execute("SELECT id, username FROM user ORDER BY id"))
    head_id, head_hash = connection.execute(
        "SELECT id, hash FROM audit_entry ORDER BY id DESC LIMIT 1"
    ).fetchone() or (0, GENESIS_HASH)
    staff = [(user_id, username) for user_id, username in users]
    rng = random.Random(2026)
    names, weights = zip(*ACTIONS, strict=True)
    columns = (*HASHED_FIELDS, "hash")
    insert = (
        f"INSERT INTO audit_entry ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    previous = head_hash
    batch = []
    connection.execute("BEGIN")
    for number in range(head_id + 1, entries + 1):
        action = rng.choices(names, weights)[0]
        actor_id, actor = rng.choice(staff)
        old, new, reason = _values(rng, action, number)
        about_resident = not action.startswith("auth.")
        fields = {
            "id": number,
            "recorded_at": (START + SPACING * number).strftime(TIMESTAMP_FORMAT),
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "entity": "user" if not about_resident else "care_session",
            "entity_id": str(rng.randint(1, 400_000)),
            "resident_id": rng.choice(residents) if about_resident else None,
            "old_values": old,
            "new_values": new,
            "reason": reason,
            "ip": f"10.0.{rng.randint(1, 4)}.{rng.randint(2, 60)}",
            "user_agent": USER_AGENT,
            "prev_hash": previous,
        }
        previous = chain.entry_hash(fields)
        batch.append((*(fields[name] for name in HASHED_FIELDS), previous))
        if len(batch) == CHUNK:
            connection.executemany(insert, batch)
            batch.clear()
    if batch:
        connection.executemany(insert, batch)
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()
    return time.perf_counter() - began


# ----- verify --------------------------------------------------------------------------------


def measure_verify(app) -> dict:
    """Time verify(); its peak memory; then where the time goes: fetching, hashing, profile."""
    figures = {}
    with app.app_context():
        began = time.perf_counter()
        result = chain.verify(db.session)
        figures["seconds"] = time.perf_counter() - began
        assert result.ok and result.count == ENTRIES, result
        figures["rate"] = ENTRIES / figures["seconds"]
        figures["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        db.session.remove()

        tracemalloc.start()
        chain.verify(db.session)
        figures["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        db.session.remove()

        began = time.perf_counter()
        fetched = sum(1 for _ in chain._rows(db.session))
        figures["fetch_us"] = (time.perf_counter() - began) / fetched * 1e6
        db.session.remove()

        columns = ", ".join((*HASHED_FIELDS, "hash"))
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            began = time.perf_counter()
            cursor.execute(f"SELECT {columns} FROM audit_entry ORDER BY id")
            fetched = sum(len(batch) for batch in iter(lambda: cursor.fetchmany(5000), []))
            figures["raw_fetch_us"] = (time.perf_counter() - began) / fetched * 1e6
            cursor.close()
        finally:
            raw.close()

        sample = [dict(row) for row in itertools.islice(chain._rows(db.session), SAMPLE)]
        db.session.remove()
        began = time.perf_counter()
        for row in sample:
            chain.entry_hash(row)
        figures["hash_us"] = (time.perf_counter() - began) / len(sample) * 1e6
        encoded = [
            json.dumps({n: row[n] for n in HASHED_FIELDS}, sort_keys=True).encode()
            for row in sample
        ]
        began = time.perf_counter()
        for content in encoded:
            hashlib.sha256(content).hexdigest()
        figures["sha_us"] = (time.perf_counter() - began) / len(sample) * 1e6

        profiler = cProfile.Profile()
        profiler.enable()
        chain.verify_rows(itertools.islice(chain._rows(db.session), SAMPLE))
        profiler.disable()
        db.session.remove()
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values())  # own time of every function
    ranked = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)
    figures["profile"] = [
        (f"{pstats.func_std_string(func)}", own / total * 100)
        for func, (*_, own, _, _) in ranked[:6]
    ]
    return figures


# ----- listing -------------------------------------------------------------------------------


def timed(call, runs: int = RUNS) -> list[float]:
    """Milliseconds of each of `runs` calls, after one warm-up call."""
    call()
    spent = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        spent.append((time.perf_counter() - began) * 1000)
    return spent


def deep_before(audit_filter: AuditFilter, depth: float) -> int:
    """The id below which a page `depth` of the way into the matching entries starts."""
    ids = db.session.scalars(
        audit_filter.apply(select(AuditEntry.id)).order_by(AuditEntry.id.desc())
    ).all()
    return ids[int(len(ids) * depth)]


def measure_listing(app) -> list[tuple[str, str, int, list[float]]]:
    """page() for several filters, first page and a deep page: (filter, page, rows, ms)."""
    figures = []
    with app.app_context():
        resident = db.session.scalar(select(Resident.id).order_by(Resident.id).limit(1))
        middle = (START + SPACING * ENTRIES // 2).date()
        filters = {
            f"resident {resident}": AuditFilter(resident_id=resident),
            "action session.correction": AuditFilter(action="session.correction"),
            "action resident.view": AuditFilter(action="resident.view"),
            f"one week from {middle}": AuditFilter(
                date_from=middle, date_to=middle + timedelta(days=6)
            ),
            "resident + action": AuditFilter(resident_id=resident, action="session.correction"),
        }
        for label, audit_filter in filters.items():
            for where, before in (("first", None), ("deep (90%)", deep_before(audit_filter, 0.9))):
                rows = len(search.page(audit_filter, before).entries)
                spent = timed(lambda f=audit_filter, b=before: search.page(f, b))
                figures.append((label, where, rows, spent))
            db.session.remove()
        figures.append(("actions() for the filter", "-", 0, timed(search.actions, 10)))
    return figures


def measure_page(app) -> list[tuple[str, list[float]]]:
    """The whole GET /audit/ page (filter form, query, template) as the auditor gets it."""
    with app.app_context():
        resident = db.session.scalar(select(Resident.id).order_by(Resident.id).limit(1))
        password = next(p for name, *_, p in demo.DEMO_ACCOUNTS if name == "auditor")
        assert db.session.scalar(select(User.id).where(User.username == "auditor"))
    client = app.test_client()
    page = client.get("/auth/sign-in")
    client.post(
        "/auth/sign-in",
        data={"username": "auditor", "password": password, "csrf_token": csrf_token(page.text)},
    )
    results = []
    for label, url in (
        ("GET /audit/", "/audit/"),
        (f"GET /audit/?resident_id={resident}", f"/audit/?resident_id={resident}"),
        ("GET /audit/?action=session.correction", "/audit/?action=session.correction"),
    ):

        def fetch(url=url):
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            response.close()

        results.append((label, timed(fetch, PAGE_RUNS)))
    return results


# ----- the report ----------------------------------------------------------------------------


def main():
    """Build the million-entry trail, measure verify and the listing; return the tables."""
    with data.database("sqlite") as url:
        app = data.demo_home(url)
        with app.app_context():
            db.engine.dispose()
        build_seconds = build_trail(url, ENTRIES)
        verify = measure_verify(app)
        listing = measure_listing(app)
        pages = measure_page(app)
        with app.app_context():
            db.engine.dispose()

    rate_ok = "yes" if verify["rate"] > VERIFY_AIM else "NO"
    per_entry = verify["seconds"] / ENTRIES * 1e6
    verify_table = Table(
        f"audit verify: {ENTRIES:,} entries on SQLite",
        ("measure", "value"),
        [
            ("verify, seconds", round(verify["seconds"], 2)),
            ("entries per second", int(verify["rate"])),
            (f"over {VERIFY_AIM:,}/s?", rate_ok),
            ("verify per entry, us", round(per_entry, 2)),
            (
                "  fetching a row through a SQLAlchemy result (for comparison), us",
                round(verify["fetch_us"], 2),
            ),
            ("  fetching a row on the raw sqlite3 cursor, us", round(verify["raw_fetch_us"], 2)),
            ("  entry_hash (canonical json + sha256), us", round(verify["hash_us"], 2)),
            ("    of which sha256, us", round(verify["sha_us"], 2)),
            ("Python peak memory during verify (tracemalloc), MiB", round(verify["peak_mib"], 1)),
            ("process max RSS after verify (includes the build), MiB", round(verify["maxrss_mib"])),
        ],
        [
            f"fixture built in {build_seconds:.0f} s with bulk inserts (benchmark only)",
            f"profile of verify over the first {SAMPLE:,} entries, share of own time:",
            *(f"  {share:4.1f}%  {where}" for where, share in verify["profile"]),
        ],
    )
    listing_table = Table(
        f"auditor listing: audit_search.page, median of {RUNS} runs",
        ("filter", "page", "rows", "median ms", "p95 ms", f"under {LISTING_AIM_MS} ms?"),
        [
            (
                label,
                where,
                rows,
                round(statistics.median(spent), 2),
                round(percentile(spent, 0.95), 2),
                "yes" if statistics.median(spent) < LISTING_AIM_MS else "NO",
            )
            for label, where, rows, spent in listing
        ],
        ["deep = the page starting 90% of the way down the matching entries (?before=)"],
    )
    page_table = Table(
        f"the auditor's trail page through the test client, median of {PAGE_RUNS} runs",
        ("request", "median ms", "p95 ms"),
        [
            (label, round(statistics.median(spent), 1), round(percentile(spent, 0.95), 1))
            for label, spent in pages
        ],
        ["includes the filter form, whose action list is SELECT DISTINCT action over the trail"],
    )
    return [verify_table, listing_table, page_table]


if __name__ == "__main__":
    for table in main():
        print(table.render(), end="\n\n")
