"""A demo home with two wards, varied residents and one account per role, for trying carelog."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy import func, select

from carelog.accounts import staff_accounts
from carelog.accounts.models import User
from carelog.accounts.roles import Role
from carelog.audit.actor import Actor
from carelog.database import clock_at
from carelog.extensions import db
from carelog.local_time import home_zone, local_today
from carelog.ops.demo_photos import add_demo_photo
from carelog.residents import records
from carelog.residents.vocabulary import ConsentDecider

SEED_ACTOR = Actor(user_id=None, name="demo-seed", ip=None, user_agent="flask demo")


DEMO_ACCOUNTS = (
    # username, full name, role, ward index, password
    ("admin", "Alex Admin", Role.ADMIN, None, "admin-demo-password"),
    ("manager", "Morgan Okafor", Role.CARE_MANAGER, None, "manager-demo-password"),
    ("auditor", "Ines Inspector", Role.AUDITOR, None, "auditor-demo-password"),
    ("nurse", "Niamh Byrne", Role.NURSE, 0, "nurse-demo-password"),
    ("nurse2", "Tomasz Wiśniewski", Role.NURSE, 1, "nurse2-demo-password"),
)


SIGN_IN_HELP = "Demo sign-ins (username / password):\n" + "\n".join(
    f"  {role.label:<13} {name:<8} / {password}" for name, _, role, _, password in DEMO_ACCOUNTS
)


WARDS = ("Rowan", "Willow")


RESIDENTS = (
    # given, family, preferred
    ("Margaret", "Hughes", "Peggy"),
    ("Łucja", "Nowak", None),
    ("Zoë", "Fairbanks", None),
    ("Siobhán", "O'Connor", None),
    ("Arthur", "Pemberton", None),
    ("Dorothy", "Clarke", "Dot"),
    ("Ngozi", "Adeyemi", None),
    ("Harold", "Whitfield", "Harry"),
    ("Edith", "Marsh", None),
    ("Raj", "Patel", None),
    ("Winifred", "Lamb", "Winnie"),
    ("José", "Álvarez", None),
    ("Agnes", "Byrne", None),
    ("Stanley", "Cooper", "Stan"),
    ("Ørjan", "Haugen", None),
    ("Beryl", "Thompson", None),
    ("Kwame", "Mensah", None),
    ("Irene", "Fletcher", None),
    ("Dmitri", "Volkov", None),
    ("Mavis", "Holloway", None),
    ("Frank", "Doyle", None),
    ("Hana", "Kobayashi", None),
    ("Gwen", "Price", None),
    ("Leonard", "Ashworth", "Len"),
)


# Person-centred plans for a few residents (the rest have none yet, as in a real home).
DEMO_PLANS = {
    0: {
        "plan_days": "mon,wed,fri", "plan_times": "afternoon", "plan_hand": "both",
        "plan_likes": "Radio 2; talking about her garden and her grandchildren",
        "plan_dislikes": "Cold hands; strong scents",
        "plan_at_ease": "Warm the cream in your hands first; sit on her right",
        "plan_discomfort": "Goes quiet and draws her hand back",
        "communication_hearing": "Hearing aid in the right ear: speak on her right side",
    },
    1: {
        "plan_times": "morning",
        "communication_language": "Speaks Polish, a few words of English; picture cards in the "
        "top drawer",
    },
    4: {
        "plan_days": "tue,thu,sat",
        "plan_at_ease": "Tell him what you are about to do before you do it",
        "communication_understanding": "Short sentences, one question at a time",
    },
    6: {
        "plan_likes": "Hymns; the window open",
        "communication_sight": "Registered blind: say your name and touch her forearm first",
    },
}  # fmt: skip


def home_has_staff() -> bool:
    """True once any account exists, so a second `make run` keeps the data."""
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def seed(rng: random.Random | None = None, with_sessions: bool = True) -> None:
    """Create the demo home through the same use cases staff use, so it is fully audited.

    Everything is planned first (the same random draws in the same order), then laid down in
    time order under clock_at, so that each record and its audit entry carry the time of the
    event: the home set up, each admission and consent decision, then months of sessions."""
    rng = rng or random.Random(2026)
    today = local_today()
    registration = [
        f"NMC {rng.randint(10, 99)}A{rng.randint(1000, 9999)}E" if role == Role.NURSE else None
        for _, _, role, _, _ in DEMO_ACCOUNTS
    ]
    plans = [
        _plan_resident(rng, today, index, given, family, preferred)
        for index, (given, family, preferred) in enumerate(RESIDENTS)
    ]
    # Admitted in the order they are numbered, so that the trail reads in time order.
    for plan, admitted in zip(plans, sorted(p.admitted for p in plans), strict=True):
        plan.admitted = admitted
    opened = datetime.combine(plans[0].admitted - timedelta(days=1), time(9), home_zone())
    with clock_at(opened):
        ward_ids = _open_the_home(registration)
    manager = db.session.scalars(select(User).where(User.username == "manager")).one()
    actor = Actor(manager.id, manager.username, None, "flask demo")
    events = []
    for index, plan in enumerate(plans):
        events.append((_at(plan.admitted, 10, index), partial(_admit, actor, plan, ward_ids)))
        if plan.consent is not None:
            decided = plan.admitted + plan.consent_after
            events.append((_at(decided, 11, index), partial(_decide, actor, plan, decided)))
    for moment, action in sorted(events, key=lambda event: event[0]):
        with clock_at(moment):
            action()
    if with_sessions:
        from carelog.ops.demo_sessions import seed_sessions

        seed_sessions(rng)


def _at(day: date, hour: int, index: int) -> datetime:
    """A moment on a day in the home's zone; the index keeps same-day events in order."""
    return datetime.combine(day, time(hour, index % 60), home_zone())


def _open_the_home(registration: list[str | None]) -> list[int]:
    wards = [staff_accounts.create_ward(SEED_ACTOR, name) for name in WARDS]
    ward_ids = [w.id for w in wards]
    for (username, full_name, role, ward_index, password), number in zip(
        DEMO_ACCOUNTS, registration, strict=True
    ):
        staff_accounts.create_user(
            SEED_ACTOR,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            ward_id=None if ward_index is None else ward_ids[ward_index],
            registration_number=number,
        )
    return ward_ids


@dataclass
class _ResidentPlan:
    index: int
    admitted: date
    values: dict
    consent: dict | None = None
    consent_after: timedelta = timedelta(0)
    resident_id: int = 0


def _plan_resident(rng, today, index, given, family, preferred) -> _ResidentPlan:
    admitted = today - timedelta(days=rng.randint(120, 1500))
    precautions = {
        "defer_sessions": index == 7,
        "defer_reason": "Chest infection" if index == 7 else None,
        "defer_until": today + timedelta(days=4) if index == 7 else None,
        "avoid_left_hand": index in (2, 11),
        "avoid_right_hand": index == 16,
        "light_pressure_only": index in (1, 4, 9, 13, 20),
        "allergies": {3: "Nut oils", 10: "Fragrance", 18: "Nut oils, lanolin"}.get(index),
        "precaution_notes": {
            2: "Skin tear on the back of the left hand, dressed.",
            7: "Chest infection; defer until the GP review.",
            9: "On apixaban: light pressure, watch for bruising.",
            16: "Fistula in the right arm.",
        }.get(index),
    }
    values = {
        "given_name": given,
        "family_name": family,
        "preferred_name": preferred,
        "room": f"{'RW'[index % 2]}{index // 2 + 1:02d}",
        "ward_index": index % 2,
        "date_of_birth": today.replace(year=today.year - rng.randint(72, 98))
        - timedelta(days=rng.randint(0, 364)),
        "local_identifier": f"CH-{1000 + index}",
        "preferred_product": "Own fragrance-free emollient",
        "sessions_per_week": rng.choice((2, 3, 3, 3, 5)),
        **precautions,
        **DEMO_PLANS.get(index, {}),
    }
    plan = _ResidentPlan(index, admitted, values)
    if index == 22:
        return plan  # a new admission whose consent is still to be recorded
    if index == 5:
        decided_by, maker = ConsentDecider.BEST_INTERESTS, "Dr Priya Shah (GP), with her daughter"
    elif index in (8, 14):
        decided_by, maker = ConsentDecider.LASTING_POWER_OF_ATTORNEY, "Her son, Paul (LPA health)"
    else:
        decided_by, maker = ConsentDecider.RESIDENT, None
    plan.consent_after = timedelta(days=rng.randint(1, 20))
    review_on = today + timedelta(days=rng.randint(30, 300))
    if index == 19:
        review_on = today - timedelta(days=12)  # review overdue: the board warns
    plan.consent = {
        "decided_by": decided_by.value,
        "decision_maker": maker,
        "consent_given": index != 12,
        "review_on": review_on,
        "scope_hands": "right" if index in (2, 11) else "left" if index == 16 else "both",
        "scope_products": "Own emollient only" if index in (3, 10, 18) else None,
        "notes": "Declines hand massage; prefers a chat." if index == 12 else None,
    }
    return plan


def _admit(actor: Actor, plan: _ResidentPlan, ward_ids: list[int]) -> None:
    values = dict(plan.values)
    values["ward_id"] = ward_ids[values.pop("ward_index")]
    plan.resident_id = records.admit(actor, {**values, "admitted_on": plan.admitted}).id


def _decide(actor: Actor, plan: _ResidentPlan, decided: date) -> None:
    assert plan.consent is not None
    records.record_consent(actor, plan.resident_id, {**plan.consent, "decided_on": decided})
    initials = plan.values["given_name"][0] + plan.values["family_name"][0]
    add_demo_photo(actor, plan.index, plan.resident_id, initials)
