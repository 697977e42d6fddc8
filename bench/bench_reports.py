"""Time the monthly PDF renderer: one resident month, and a 150-resident batch with peak memory.

Run: .venv/bin/python bench/bench_reports.py [--runs 60] [--residents 150] [--batches 3],
or with the other benchmarks: .venv/bin/python -m bench reports
Aims on a 2-core machine (issue 10, with the richer content): <= 40 ms per resident report;
<= 6 s and <= 300 MB for the batch.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.lib import rl_accel  # noqa: E402

from bench import Table  # noqa: E402
from carelog.reports.document import (
    AuditFingerprint,
    BatchReport,
    Consent,
    Correction,
    Month,
    Observation,
    Precautions,
    Rating,
    Resident,
    ResidentReport,
    SessionRow,
    SleepNight,
    printed_code_address,
)
from carelog.reports.pdf.render import render_batch, render_resident_report

NAMES = [
    "Łucja Nowak",
    "Zoë Adeyemi",
    "Siobhán Kelly",
    "Żaneta Wiśniewska",
    "Ørjan Berg",
    "Ngozi Okafor",
    "Дмитрий Петров",
    "Σοφία Παππά",
    "Margaret O'Neill",
    "Arthur Jones",
]
OUTCOMES = ["completed"] * 7 + ["stopped_early", "declined", "not_done"]
FINGERPRINT = AuditFingerprint("3b7e" * 16, 182_304)


REPORT_ID = "8c1f1e0a-5b7d-4e2a-9c3f-2d6b1a4e7f90"
VERIFY_URL = printed_code_address(
    "https://carelog.example.org/audit/qr/", REPORT_ID, "9f2c" * 16 + ":4821"
)  # as printed as a QR code on every page


def _rating(rng: random.Random, low: int, high: int) -> Rating:
    """Return a mostly-answered rating, sometimes by an observer, sometimes declined."""
    roll = rng.random()
    if roll < 0.06:
        return Rating(absence=rng.choice(["declined", "unable", "not_assessed"]))
    return Rating(rng.randint(low, high), rater="observer" if roll > 0.85 else "self")


def resident_month(seed: int, sessions: int = 30) -> ResidentReport:
    """Return a realistic resident month: about one session a day, ratings, a few flags."""
    rng = random.Random(seed)
    month = Month(2025, 6)
    rows = []
    for i in range(sessions):
        outcome = rng.choice(OUTCOMES)
        given = outcome in ("completed", "stopped_early")

        def rated(low: int, high: int, given: bool = given) -> Rating:
            return _rating(rng, low, high) if given else Rating()

        rows.append(
            SessionRow(
                start=datetime(2025, 6, 1, 9) + timedelta(days=i % 30, minutes=rng.randint(0, 600)),
                given_by=rng.choice(NAMES),
                outcome=outcome,  # type: ignore[arg-type]
                duration_min=10 if outcome == "completed" else 5,
                hands="both" if given else None,
                pressure=rng.choice(["light", "normal"]) if given else None,
                product="own fragrance-free emollient",
                assent="agreed" if given else "declined",
                not_done_reason="asleep" if outcome == "not_done" else None,
                relaxation_before=rated(0, 7),
                relaxation_after=rated(3, 10),
                mood_before=rated(1, 4),
                mood_after=rated(2, 5),
                sleep_before=_rating(rng, 2, 9),
                sleep_after=_rating(rng, 2, 9),
                late=rng.random() < 0.05,
                corrected=rng.random() < 0.05,
                voided=rng.random() < 0.02,
                observations=(Observation("redness", "emollient applied", "nurse in charge"),)
                if rng.random() < 0.05
                else (),
                note="Enjoyed it, talked about her garden." if rng.random() < 0.2 else "",
            )
        )
    nights = [
        SleepNight(date(2025, 6, d), rng.randint(2, 9) if rng.random() > 0.1 else None, d % 7 != 0)
        for d in range(1, 31)
    ]
    return ResidentReport(
        home_name="Rosewood House",
        ward_name="Oak ward",
        resident=Resident(
            f"{NAMES[seed % len(NAMES)]} {seed}", "", f"{seed:03d}", date(1935, 5, 1)
        ),
        month=month,
        consent=Consent(
            "resident", "the resident", date(2025, 1, 3), date(2026, 1, 3), "both hands"
        ),
        precautions=Precautions(("light pressure only",), "fragile skin on the back of the hands"),
        planned_sessions=30,
        sessions=rows,
        corrections=[
            Correction(
                datetime(2025, 6, 12, 9), "Ørjan Berg", "S12", "correction", "wrong hand recorded"
            )
        ],
        sleep_nights=nights,
        generated_by="Ørjan Berg",
        generated_at=datetime(2025, 7, 1, 9, 30),
        timezone="Europe/London",
        fingerprint=FINGERPRINT,
        report_id=REPORT_ID,
        verify_url=VERIFY_URL,
        weekly_target=3,
        usual_product="Own fragrance-free emollient",
        admitted_on=date(2023, 4, 2),
    )


def measure(runs: int = 60, residents: int = 150, batches: int = 3) -> Table:
    """Time one resident month over runs, then the batch (median of `batches` runs) with the
    process's peak memory. The runs are many, and the batch is run more than once, because
    this shared machine's speed moves by a third from minute to minute."""
    report = resident_month(1)
    for _ in range(5):  # fonts, caches and the allocator settle first
        render_resident_report(report)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        data = render_resident_report(report)
        times.append(time.perf_counter() - start)

    batch = BatchReport(
        home_name="Rosewood House",
        ward_name=None,
        month=Month(2025, 6),
        residents=[resident_month(seed) for seed in range(residents)],
        generated_by="Ørjan Berg",
        generated_at=datetime(2025, 7, 1, 9, 30),
        timezone="Europe/London",
        fingerprint=FINGERPRINT,
        report_id=REPORT_ID,
        verify_url=VERIFY_URL,
    )
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    batch_times = []
    for _ in range(batches):
        start = time.perf_counter()
        batch_pdf = render_batch(batch)
        batch_times.append(time.perf_counter() - start)
    batch_s = statistics.median(batch_times)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    accel = "with" if rl_accel._c_funcs else "without"
    return Table(
        title=f"Monthly report PDFs ({accel} rl_accel)",
        columns=["measure", "result", "aim", "note"],
        rows=[
            ("one resident month, median", f"{statistics.median(times) * 1000:.1f} ms",
             "<= 40 ms", f"{runs} runs (fastest {min(times) * 1000:.1f} ms), "
             f"{len(report.sessions)} sessions, {len(data) // 1024} KiB"),
            (f"batch of {residents} residents, median", f"{batch_s:.2f} s", "<= 6 s",
             f"{batches} runs ({', '.join(f'{t:.2f}' for t in batch_times)} s), "
             f"{len(batch_pdf) // 1024} KiB"),
            ("peak RSS of the process", f"{rss_peak:.0f} MB", "<= 300 MB",
             f"{rss_before:.0f} MB before the batch"),
        ],
        notes=["Peak RSS is the process's high-water mark: run this file alone to isolate it."],
    )  # fmt: skip


def main() -> Table:
    """Run the benchmark with its default sizes (for `python -m bench reports`)."""
    return measure()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--residents", type=int, default=150)
    parser.add_argument("--batches", type=int, default=3)
    args = parser.parse_args()
    print(measure(args.runs, args.residents, args.batches).render())
