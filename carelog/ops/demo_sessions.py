"""Three months of believable sessions for the demo home: given, declined, not done, followed up."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from carelog.accounts.models import User
from carelog.audit.actor import Actor
from carelog.care import amendments, recording
from carelog.care.models import CONTENT_FIELDS, SessionContent
from carelog.database import clock_at, existing, utcnow
from carelog.extensions import db
from carelog.local_time import home_zone, local_today
from carelog.residents.models import Resident

DAYS = 91


def _clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _rating(rng: random.Random, name: str, value: int, observer: bool) -> dict:
    roll = rng.random()
    if roll < 0.04:
        return {f"{name}_value": None, f"{name}_status": "unable", f"{name}_rater": None}
    if roll < 0.06:
        return {f"{name}_value": None, f"{name}_status": "declined", f"{name}_rater": None}
    return {
        f"{name}_value": value,
        f"{name}_status": "answered",
        f"{name}_rater": "observer" if observer else "self",
    }


def _blank() -> dict[str, Any]:
    content: dict[str, Any] = {field: None for field in CONTENT_FIELDS}
    content["precautions_confirmed"] = False
    return content


def _given(rng, resident: Resident, nurse: User, when: datetime, observer: bool) -> dict:
    base = 3 + (resident.id % 4)
    relax_before = _clip(rng.gauss(base, 1.5), 0, 10)
    mood_before = _clip(rng.gauss(2.8, 0.8), 1, 5)
    stopped = rng.random() < 0.06
    content = _blank()
    hands = "right" if resident.avoid_left_hand else "left" if resident.avoid_right_hand else "both"
    content.update(
        occurred_at=when,
        duration_minutes=rng.randint(4, 7) if stopped else rng.choice((10, 10, 10, 11, 12, 9)),
        given_by_id=nurse.id,
        precautions_confirmed=True,
        hands=hands,
        pressure="light" if resident.light_pressure_only else rng.choice(("light", "normal")),
        product=resident.preferred_product,
        assent="withdrew" if stopped else rng.choice(("agreed", "agreed", "nonverbal")),
        outcome="stopped_early" if stopped else "completed",
        outcome_reason="Became restless and pulled her hand away" if stopped else None,
    )
    if resident.light_pressure_only and 1 <= (local_today() - when.date()).days <= 3:
        # A few recent sessions given despite a warning, for the care manager's overview to
        # show and acknowledge (decided without a random draw: the rest of the demo stays put).
        content.update(
            pressure="normal",
            override_reason="She asked for firmer pressure; skin checked before and after, "
            "no marks",
        )
    content.update(_rating(rng, "relaxation_before", relax_before, observer))
    content.update(
        _rating(rng, "relaxation_after", _clip(relax_before + rng.gauss(1.4, 1.3), 0, 10), observer)
    )
    content.update(_rating(rng, "mood_before", mood_before, observer))
    content.update(
        _rating(rng, "mood_after", _clip(mood_before + rng.gauss(0.5, 0.7), 1, 5), observer)
    )
    content.update(_rating(rng, "sleep_before", _clip(rng.gauss(5.5, 2), 0, 10), observer))
    content.update(sleep_after_value=None, sleep_after_status=None, sleep_after_rater=None)
    if rng.random() < 0.03:
        content.update(
            observations=rng.choice(("redness", "bruise", "redness,pain")),
            observation_action="Stopped on that hand, checked skin, documented in care notes",
            observation_told="Nurse in charge",
        )
    if rng.random() < 0.1:
        content["note"] = rng.choice(
            (
                "Chatted about her garden throughout.",
                "Hummed along to the radio; very settled afterwards.",
                "Asked for the other hand too.",
                "Dozed off towards the end.",
            )
        )
    return content


def seed_sessions(rng: random.Random, days: int = DAYS) -> None:
    """Lay down `days` of sessions for every resident with consent, through the use cases.

    Planned resident by resident (the random draws in a fixed order), then recorded in time
    order under clock_at, so the trail reads as the ward lived it."""
    zone = home_zone()
    today = local_today()
    real_now = datetime.now(zone)
    nurses = {u.ward_id: u for u in db.session.scalars(select(User).where(User.role == "nurse"))}
    residents = db.session.scalars(select(Resident).order_by(Resident.id)).all()
    plans = [(r.id, r.ward_id, r.sessions_per_week, r.admitted_on) for r in residents]
    events: list[tuple[datetime, int, Callable[[dict], None]]] = []
    for resident_id, ward_id, per_week, admitted_on in plans:
        nurse = nurses[ward_id]
        actor = Actor(nurse.id, nurse.username, "127.0.0.1", "demo seeder")
        observer = resident_id % 4 == 0
        for offset in range(days, -1, -1):
            day = today - timedelta(days=offset)
            if day < admitted_on or rng.random() > per_week / 7 * 0.95:
                continue
            hour = time(rng.randint(10, 16), rng.choice((0, 10, 15, 30, 40, 45)))
            when = datetime.combine(day, hour, tzinfo=zone)
            if offset == 0 and when > real_now:
                continue
            events += _one_session(rng, actor, nurse, resident_id, when, observer, day == today)
    saved: dict[str, int] = {}
    for moment, _, record in sorted(events, key=lambda event: (event[0], event[1])):
        with clock_at(min(moment, real_now)):
            record(saved)


def _one_session(rng, actor, nurse, resident_id, when, observer, is_today) -> list:
    """Plan one session (and its follow-up): the events to record, with their times."""
    resident = existing(db.session, Resident, resident_id)
    consent = resident.current_consent
    roll = rng.random()
    content = _blank()
    content.update(occurred_at=when, given_by_id=nurse.id)
    if consent is None or not consent.is_valid_on(when.date()) or resident.deferred_on(when.date()):
        if roll < 0.5:
            return []
        content.update(outcome="not_done", not_done_reason="deferred")
    elif roll < 0.08:
        content.update(outcome="declined", assent="declined")
    elif roll < 0.14:
        reason = rng.choice(("asleep", "unwell", "away"))
        content.update(outcome="not_done", not_done_reason=reason)
    else:
        content = _given(rng, resident, nurse, when, observer)
    recorded = when + timedelta(minutes=rng.randint(12, 40))
    if rng.random() < 0.03:
        recorded = when + timedelta(hours=rng.randint(3, 6))
        content["note"] = "Recorded at the end of the shift: the tablet was in use elsewhere."
    key = str(uuid.UUID(int=rng.getrandbits(128)))
    session = SessionContent.from_columns(content)

    def record(saved: dict) -> None:  # run under clock_at(the time it was recorded)
        saved[key] = recording.record_session(
            actor, resident_id, key, session, {"demo": key}, now=utcnow()
        ).session_id

    events = [(recorded, 0, record)]
    if content["outcome"] in ("completed", "stopped_early") and not is_today:
        events += _follow_up(rng, actor, key, when, observer)
    return events


def _follow_up(rng, actor, session_key, when, observer) -> list:
    if when.date() >= local_today() - timedelta(days=1) and rng.random() < 0.7:
        return []  # leave some of yesterday's for the morning follow-up list
    if rng.random() < 0.12:
        return []  # some follow-ups are never made: the report counts them as missing
    morning = datetime.combine(
        when.date() + timedelta(days=1), time(8, rng.randint(0, 59)), tzinfo=when.tzinfo
    )
    rating = _rating(rng, "sleep_after", _clip(rng.gauss(6.2, 1.8), 0, 10), observer)
    key = str(uuid.UUID(int=rng.getrandbits(128)))

    def record(saved: dict) -> None:
        amendments.record_sleep_after(
            actor,
            saved[session_key],
            key,
            rating["sleep_after_value"],
            rating["sleep_after_status"],
            rating["sleep_after_rater"],
            expected_version=1,
            now=utcnow(),  # under clock_at(the next morning)
        )

    return [(morning, 1, record)]
