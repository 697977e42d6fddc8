"""Residents through the real forms: admission, updates, departure, consent, who sees what."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import select

from carelog.accounts.models import User, Ward
from carelog.audit.free_text import fingerprint, without_free_text
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from carelog.local_time import local_today
from carelog.ops import demo
from carelog.residents.models import Consent, Resident, ResidentVersion
from carelog.web.filters import format_date
from tests.helpers.records import audit_entries, count, written_entries

FLAGS = ("defer_sessions", "avoid_left_hand", "avoid_right_hand", "light_pressure_only")
# Demo resident number i is CH-(1000+i) on ward Rowan when i is even, Willow when odd.
DISPLAY_NAMES = [f"{preferred or given} {family}" for given, family, preferred in demo.RESIDENTS]
ROWAN_NAMES = DISPLAY_NAMES[0::2]
WILLOW_NAMES = DISPLAY_NAMES[1::2]
# POST routes an auditor may use: signing in and out, keeping the sign-in alive, and asking for
# a batch of reports (reading, which writes only the job and its audit entry). Every other POST
# changes the home's records and must answer 403 to an auditor.
AUDITOR_POSTS = {
    "auth.sign_in",
    "auth.sign_out",
    "auth.keepalive",
    "reports.start_batch",
    "auditor.verify_report",
    "auth.choose_password",  # their own password, when an admin has set one; else back home
    # An entry from a tablet's outbox is the signing nurse's whoever is signed in; without one
    # it is refused 400 (tests/test_offline.py: a forged or foreign one saves nothing).
    "offline.receive_entry",
    "tablets.switch",  # public: on a browser that is no enrolled tablet it only redirects
}  # starts or reads; changes no record


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages shown next to a form field, as the person reads them."""
    pattern = rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>'
    return [html.unescape(m) for m in re.findall(pattern, page, re.S)]


def demo_resident(app, number: int) -> Resident:
    """Demo resident number `number`, found by its local identifier."""
    with app.app_context():
        return db.session.scalar(
            select(Resident).where(Resident.local_identifier == f"CH-{1000 + number}")
        )


def resident(app, resident_id: int) -> Resident:
    """A resident as stored now."""
    with app.app_context():
        return db.session.get(Resident, resident_id)


def ward_id(app, name: str) -> int:
    """The id of a ward."""
    with app.app_context():
        return db.session.scalar(select(Ward.id).where(Ward.name == name))


def today(app) -> date:
    """Today where the home is."""
    with app.app_context():
        return local_today()


def page_text(response) -> str:
    """The page as the reader sees it, entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def admission(app, **changes) -> dict:
    """A complete, valid admission form."""
    data = {
        "given_name": "Łucja",
        "family_name": "Dąbrowska",
        "preferred_name": "Lucy",
        "room": "W42",
        "ward_id": str(ward_id(app, "Willow")),
        "date_of_birth": "1938-04-02",
        "local_identifier": "CH-9001",
        "admitted_on": "2025-01-15",
        "preferred_product": "Unscented lotion",
        "sessions_per_week": "5",
        "defer_sessions": "y",
        "defer_reason": "Chest infection",
        "defer_until": "2025-01-20",
        "avoid_left_hand": "y",
        "light_pressure_only": "y",
        "allergies": "Nut oils",
        "precaution_notes": "Skin tear on the back of the left hand.",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def resident_form(person: Resident, **changes) -> dict:
    """The edit form as a care manager would submit it, from the stored values.

    A change of None unticks a box (a browser sends nothing for it).
    """
    data = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "preferred_name": person.preferred_name or "",
        "room": person.room,
        "ward_id": str(person.ward_id),
        "date_of_birth": person.date_of_birth.isoformat(),
        "local_identifier": person.local_identifier or "",
        "admitted_on": person.admitted_on.isoformat(),
        "preferred_product": person.preferred_product,
        "sessions_per_week": str(person.sessions_per_week),
        "allergies": person.allergies or "",
        "precaution_notes": person.precaution_notes or "",
        "defer_reason": person.defer_reason or "",
        "defer_until": person.defer_until.isoformat() if person.defer_until else "",
        "reason": "",
    }
    data.update({flag: "y" for flag in FLAGS if getattr(person, flag)})
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def resident_history(app, resident_id: int) -> list[ResidentVersion]:
    """The resident's record after each change, oldest first."""
    with app.app_context():
        versions = db.session.scalars(
            select(ResidentVersion)
            .where(ResidentVersion.resident_id == resident_id)
            .order_by(ResidentVersion.version_no)
        ).all()
        db.session.expunge_all()
        return list(versions)


def consent_form(**changes) -> dict:
    """A valid consent decision by the resident."""
    data = {
        "decided_by": "resident",
        "decision_maker": "",
        "consent_given": "yes",
        "decided_on": "2025-02-01",
        "review_on": "2025-08-01",
        "scope_hands": "both",
        "scope_products": "",
        "notes": "",
    }
    data.update(changes)
    return data


def test_a_deferral_says_why_and_lifting_it_clears_its_reason(app, signed_in):
    """Deferring without a reason is refused beside the field; unticking clears reason and date."""
    manager = signed_in("manager")
    response = manager.submit("/residents/new", admission(app, defer_reason=None))
    assert response.status_code == 200
    assert "Say why sessions are deferred." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Resident).where(Resident.room == "W42")) is None
    response = manager.submit("/residents/new", admission(app))
    resident_id = int(re.search(r"/residents/(\d+)/", response.headers["Location"]).group(1))
    person = resident(app, resident_id)
    edit = resident_form(person, defer_sessions=None, reason="Infection cleared")
    assert manager.submit(f"/residents/{resident_id}/edit", edit).status_code == 303
    lifted = resident(app, resident_id)
    assert (lifted.defer_sessions, lifted.defer_reason, lifted.defer_until) == (False, None, None)


def test_care_manager_admits_a_resident_with_every_field(app, signed_in):
    """Every field of the admission form is stored as typed, and the trail holds the new record."""
    manager = signed_in("manager")
    response = manager.submit("/residents/new", admission(app))
    assert response.status_code == 303, response.get_data(as_text=True)
    match = re.search(r"/residents/(\d+)/consent$", response.headers["Location"])
    assert match, response.headers["Location"]
    admitted = resident(app, int(match.group(1)))
    assert {
        "given_name": admitted.given_name,
        "family_name": admitted.family_name,
        "preferred_name": admitted.preferred_name,
        "room": admitted.room,
        "ward_id": admitted.ward_id,
        "date_of_birth": admitted.date_of_birth,
        "local_identifier": admitted.local_identifier,
        "admitted_on": admitted.admitted_on,
        "preferred_product": admitted.preferred_product,
        "sessions_per_week": admitted.sessions_per_week,
        "flags": {flag: getattr(admitted, flag) for flag in FLAGS},
        "deferral": (admitted.defer_reason, admitted.defer_until),
        "allergies": admitted.allergies,
        "precaution_notes": admitted.precaution_notes,
        "departed_on": admitted.departed_on,
    } == {
        "given_name": "Łucja",
        "family_name": "Dąbrowska",
        "preferred_name": "Lucy",
        "room": "W42",
        "ward_id": ward_id(app, "Willow"),
        "date_of_birth": date(1938, 4, 2),
        "local_identifier": "CH-9001",
        "admitted_on": date(2025, 1, 15),
        "preferred_product": "Unscented lotion",
        "sessions_per_week": 5,
        "flags": {
            "defer_sessions": True,
            "avoid_left_hand": True,
            "avoid_right_hand": False,
            "light_pressure_only": True,
        },
        "deferral": ("Chest infection", date(2025, 1, 20)),
        "allergies": "Nut oils",
        "precaution_notes": "Skin tear on the back of the left hand.",
        "departed_on": None,
    }
    [entry] = audit_entries(app, "resident.admit", admitted.id)
    assert (entry.actor, entry.resident_id) == ("manager", admitted.id)
    assert entry.new["given_name"] == "Łucja"
    assert entry.new["date_of_birth"] == "1938-04-02"
    assert entry.new["avoid_right_hand"] is False

    shown = page_text(manager.get(f"/residents/{admitted.id}"))
    for words in ("Lucy Dąbrowska", "Room", "W42 · Willow", "2 Apr 1938", "CH-9001", "15 Jan 2025"):
        assert words in shown, words
    for words in ("Defer all sessions.", "Avoid the left hand.", "Light pressure only."):
        assert words in shown, words
    assert "Avoid the right hand." not in shown
    assert "Allergies: Nut oils" in shown
    assert "5 sessions a week" in shown
    assert "No consent recorded" in shown


def test_bad_admissions_are_shown_again_with_a_message_and_nothing_saved(app, signed_in):
    """Each mistake re-shows the form (200, not 500) with plain words next to the field."""
    manager = signed_in("manager")
    future = (date.today() + timedelta(days=30)).isoformat()
    cases = [
        ({"given_name": ""}, "given_name", "Please fill this in."),
        ({"family_name": "   "}, "family_name", "Please fill this in."),
        ({"date_of_birth": future}, "date_of_birth", "The date of birth cannot be in the future."),
        ({"date_of_birth": ""}, "date_of_birth", "Please give a date."),
        ({"admitted_on": ""}, "admitted_on", "Please give a date."),
        (
            {"admitted_on": "0001-01-01"},
            "admitted_on",
            "Give a date between 1900 and 2199; check the year.",
        ),
        (
            {"admitted_on": "9999-12-31"},
            "admitted_on",
            "Give a date between 1900 and 2199; check the year.",
        ),
        (
            {"admitted_on": "1949-12-31"},
            "admitted_on",
            "Give an admission date between 1950 and a year from today.",
        ),
        (
            {"admitted_on": "2199-01-01"},
            "admitted_on",
            "Give an admission date between 1950 and a year from today.",
        ),
        (
            {"date_of_birth": "1899-12-31"},
            "date_of_birth",
            "Give a date between 1900 and 2199; check the year.",
        ),
        ({"sessions_per_week": "99"}, "sessions_per_week", "Give a number from 0 to 14."),
        ({"sessions_per_week": "abc"}, "sessions_per_week", "Give a number from 0 to 14."),
        ({"precaution_notes": "x" * 5000}, "precaution_notes", "Keep this under 2000 characters."),
        ({"ward_id": "9999"}, "ward_id", None),
        (
            {"local_identifier": "CH-1000"},
            "local_identifier",
            "Another resident already has this identifier.",
        ),
        (
            {"local_identifier": "ch-1003"},
            "local_identifier",
            "Another resident already has this identifier.",
        ),
    ]
    residents, entries = count(app, Resident), written_entries(app)
    for changes, field, message in cases:
        response = manager.submit("/residents/new", admission(app, **changes))
        assert response.status_code == 200, changes
        page = response.get_data(as_text=True)
        errors = field_errors(page, field)
        assert errors, (changes, "no message next to the field")
        if message:
            assert message in errors, (changes, errors)
        assert 'value="W42"' in page, "what was typed is shown again"
        assert (count(app, Resident), written_entries(app)) == (residents, entries), changes


def test_care_manager_updates_a_resident_with_a_reason(app, signed_in):
    """Only the changed fields go into the trail, old and new, with the reason given."""
    manager = signed_in("manager")
    arthur = demo_resident(app, 4)
    assert (arthur.room, arthur.allergies, arthur.light_pressure_only) == ("R03", None, True)
    response = manager.submit(
        f"/residents/{arthur.id}/edit",
        resident_form(
            arthur,
            room="R10",
            allergies="Lanolin",
            light_pressure_only=None,
            reason="Moved rooms; pressure reviewed by the GP",
        ),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/residents/{arthur.id}")
    changed = resident(app, arthur.id)
    assert (changed.room, changed.allergies, changed.light_pressure_only) == (
        "R10",
        "Lanolin",
        False,
    )
    assert changed.given_name == arthur.given_name
    assert changed.local_identifier == arthur.local_identifier
    [entry] = audit_entries(app, "resident.update", arthur.id)
    assert entry.actor == "manager"
    assert entry.resident_id == arthur.id
    # The trail proves what changed; clinical words are fingerprints there, text in the history.
    assert entry.reason == fingerprint("Moved rooms; pressure reviewed by the GP")
    assert entry.old == {"room": "R03", "allergies": None, "light_pressure_only": True}
    assert entry.new == {
        "room": "R10",
        "allergies": fingerprint("Lanolin"),
        "light_pressure_only": False,
    }
    latest = resident_history(app, arthur.id)[-1]
    assert (latest.action, latest.reason) == ("update", "Moved rooms; pressure reviewed by the GP")
    assert (latest.values["allergies"], latest.values["room"]) == ("Lanolin", "R10")

    residents, entries = count(app, Resident), written_entries(app)
    edited = resident(app, arthur.id)
    for changes, field in (
        ({"local_identifier": "CH-1001", "reason": "Typo"}, "local_identifier"),
        ({"sessions_per_week": "-1", "reason": "Typo"}, "sessions_per_week"),
        ({"room": "", "reason": "Typo"}, "room"),
        ({"room": "R11", "reason": ""}, "reason"),  # every change says why (DOMAIN rule 2)
    ):
        response = manager.submit(f"/residents/{arthur.id}/edit", resident_form(edited, **changes))
        assert response.status_code == 200, changes
        assert field_errors(response.get_data(as_text=True), field), changes
        assert resident(app, arthur.id).room == "R10"
        assert resident(app, arthur.id).local_identifier == "CH-1004"
        assert (count(app, Resident), written_entries(app)) == (residents, entries)


def test_care_manager_records_a_departure(app, signed_in):
    """A date before admission is refused; a departed resident leaves the default list only."""
    manager = signed_in("manager")
    ngozi = demo_resident(app, 6)
    name = "Ngozi Adeyemi"
    url = f"/residents/{ngozi.id}/departure"
    entries = written_entries(app)
    before_admission = (ngozi.admitted_on - timedelta(days=1)).isoformat()
    for changes, field, message in (
        (
            {"departed_on": before_admission},
            "departed_on",
            "The departure date is before the admission date.",
        ),
        ({"departure_reason": " "}, "departure_reason", "Please fill this in."),
        ({"departed_on": ""}, "departed_on", "Please give a date."),
        (
            {"departed_on": "9999-12-31"},
            "departed_on",
            "Give a date between 1900 and 2199; check the year.",
        ),
        (
            {"departed_on": (today(app) + timedelta(days=400)).isoformat()},
            "departed_on",
            "Give a departure date no more than a year from today.",
        ),
    ):
        data = {"departed_on": today(app).isoformat(), "departure_reason": "Moved to hospital"}
        response = manager.submit(url, {**data, **changes})
        assert response.status_code == 200, changes
        assert message in field_errors(response.get_data(as_text=True), field), changes
        assert resident(app, ngozi.id).departed_on is None
        assert written_entries(app) == entries
    assert name in page_text(manager.get("/residents/"))

    response = manager.submit(
        url, {"departed_on": today(app).isoformat(), "departure_reason": "Moved to hospital"}
    )
    assert response.status_code == 303
    departed = resident(app, ngozi.id)
    assert (departed.departed_on, departed.departure_reason) == (today(app), "Moved to hospital")
    [entry] = audit_entries(app, "resident.depart", ngozi.id)
    assert entry.old == {"departed_on": None, "departure_reason": None}
    assert entry.new == {
        "departed_on": today(app).isoformat(),
        "departure_reason": fingerprint("Moved to hospital"),
    }
    assert entry.reason == fingerprint("Moved to hospital")
    latest = resident_history(app, ngozi.id)[-1]
    assert (latest.action, latest.values["departure_reason"]) == ("depart", "Moved to hospital")

    current = page_text(manager.get("/residents/"))
    assert name not in current
    assert "Peggy Hughes" in current
    everyone = page_text(manager.get("/residents/?departed=1"))
    assert name in everyone
    assert f"left {format_date(today(app))}" in everyone
    shown = page_text(manager.get(f"/residents/{ngozi.id}"))
    assert "Moved to hospital" in shown


def test_consent_by_someone_else_needs_the_decision_maker_named(app, signed_in):
    """A best-interests or LPA decision without the decision maker's name is refused."""
    manager = signed_in("manager")
    hana = demo_resident(app, 22)
    consents, entries = count(app, Consent), written_entries(app)
    for decided_by in ("best_interests", "lpa"):
        for blank in ("", "  "):
            form = consent_form(decided_by=decided_by, decision_maker=blank)
            response = manager.submit(f"/residents/{hana.id}/consent", form)
            assert response.status_code == 200, (decided_by, blank)
            errors = field_errors(response.get_data(as_text=True), "decision_maker")
            assert errors == ["Name the person who made the decision."], (decided_by, blank)
            assert (count(app, Consent), written_entries(app)) == (consents, entries)
    response = manager.submit(
        f"/residents/{hana.id}/consent",
        consent_form(decided_by="lpa", decision_maker="Her son, Kenji (LPA health)"),
    )
    assert response.status_code == 303


def test_care_manager_records_consent_and_keeps_the_history(app, signed_in):
    """Invalid decisions are refused; a second decision becomes current, the first stays listed."""
    manager = signed_in("manager")
    hana = demo_resident(app, 22)
    url = f"/residents/{hana.id}/consent"
    with app.app_context():
        assert db.session.scalar(select(Consent).where(Consent.resident_id == hana.id)) is None
    consents, entries = count(app, Consent), written_entries(app)
    for changes, field, message in (
        (
            {"decided_on": "2025-02-01", "review_on": "2025-01-31"},
            "review_on",
            "The review date must be after the decision date.",
        ),
        ({"decided_on": ""}, "decided_on", "Please give a date."),
        (
            {"decided_on": "0001-01-01"},
            "decided_on",
            "Give a date between 1900 and 2199; check the year.",
        ),
        (
            {"review_on": "9999-12-31"},
            "review_on",
            "Give a date between 1900 and 2199; check the year.",
        ),
        (
            {"decided_on": (today(app) + timedelta(days=1)).isoformat()},
            "decided_on",
            "The decision cannot be dated in the future.",
        ),
        (
            {"decided_on": "2025-02-01", "review_on": "2031-02-01"},
            "review_on",
            "Review the decision within five years of making it.",
        ),
        ({"consent_given": ""}, "consent_given", "Choose the decision."),
    ):
        response = manager.submit(url, consent_form(**changes))
        assert response.status_code == 200, changes
        assert message in field_errors(response.get_data(as_text=True), field), changes
        assert (count(app, Consent), written_entries(app)) == (consents, entries), changes
    with app.app_context():
        assert db.session.scalar(select(Consent).where(Consent.resident_id == hana.id)) is None

    first = consent_form(decided_on="2025-02-01", review_on="2025-08-01", scope_hands="both")
    assert manager.submit(url, first).status_code == 303
    second_day = today(app)
    second = consent_form(
        decided_by="best_interests",
        decision_maker="Dr Amara Obi (GP), with her son Kenji",
        consent_given="yes",
        decided_on=second_day.isoformat(),
        review_on=(second_day + timedelta(days=180)).isoformat(),
        scope_hands="left",
        scope_products="Own emollient only",
    )
    response = manager.submit(url, second)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/residents/{hana.id}")

    with app.app_context():
        stored = db.session.scalars(
            select(Consent).where(Consent.resident_id == hana.id).order_by(Consent.id)
        ).all()
        manager_id = db.session.scalar(select(User.id).where(User.username == "manager"))
    assert [(c.decided_by, c.decided_on, c.scope_hands) for c in stored] == [
        ("resident", date(2025, 2, 1), "both"),
        ("best_interests", second_day, "left"),
    ]
    assert {c.recorded_by_id for c in stored} == {manager_id}
    logged = [e for e in audit_entries(app, "consent.record") if e.resident_id == hana.id]
    assert [e.new["decided_by"] for e in logged] == ["resident", "best_interests"]

    page = manager.get(f"/residents/{hana.id}").get_data(as_text=True)
    current = re.search(r'<p class="current-consent">(.*?)</p>', page, re.S)
    assert current, "the current decision is labelled"
    current_text = html.unescape(current.group(1))
    assert "Current:" in current_text
    assert "Dr Amara Obi (GP), with her son Kenji" in current_text
    assert format_date(second_day) in current_text
    assert "Hands: left" in current_text
    history = re.search(r"<details>(.*?)</details>", page, re.S)
    assert history, "earlier decisions are listed"
    history_text = html.unescape(history.group(1))
    assert "Earlier decisions (1)" in history_text
    assert "1 Feb 2025" in history_text
    assert "1 Aug 2025" in history_text
    assert "Morgan Okafor" in history_text
    assert "No consent recorded" not in html.unescape(page)


def test_nurses_see_only_their_own_ward(app, signed_in):
    """A nurse's list holds their ward's residents; another ward's resident answers 404."""
    for username, own, other, own_number, other_number in (
        ("nurse", ROWAN_NAMES, WILLOW_NAMES, 0, 1),
        ("nurse2", WILLOW_NAMES, ROWAN_NAMES, 1, 0),
    ):
        nurse = signed_in(username)
        listing = page_text(nurse.get("/residents/"))
        for name in own:
            assert name in listing, (username, name)
        for name in other:
            assert name not in listing, (username, name)
        everyone = page_text(nurse.get("/residents/?departed=1"))
        assert not any(name in everyone for name in other), username

        mine, theirs = demo_resident(app, own_number), demo_resident(app, other_number)
        assert nurse.get(f"/residents/{mine.id}").status_code == 200
        views = len(audit_entries(app, "resident.view"))
        response = nurse.get(f"/residents/{theirs.id}")
        assert response.status_code == 404, username
        assert DISPLAY_NAMES[other_number] not in page_text(response)
        assert len(audit_entries(app, "resident.view")) == views


def test_auditors_see_every_resident_and_cannot_post_anything(app, signed_in):
    """An auditor reads both wards and is refused (403) on every POST route, nothing saved."""
    auditor = signed_in("auditor")
    listing = page_text(auditor.get("/residents/"))
    for name in DISPLAY_NAMES:
        assert name in listing, name
    for number in (0, 1):
        assert auditor.get(f"/residents/{demo_resident(app, number).id}").status_code == 200

    target = demo_resident(app, 4)
    with app.app_context():
        nurse_id = db.session.scalar(select(User.id).where(User.username == "nurse"))
    arguments = {"resident_id": target.id, "user_id": nurse_id, "ward_id": target.ward_id}
    valid = {
        **admission(app),
        **consent_form(),
        "departed_on": today(app).isoformat(),
        "departure_reason": "Moved",
        "reason": "Because",
        "name": "New ward",
        "username": "made.by.auditor",
        "full_name": "Made By Auditor",
        "role": "admin",
        "password": "a-long-enough-password-1",
    }
    token_page = "/residents/"
    tables = (Resident, Consent, User, Ward, AuditEntry)
    before = [count(app, table) for table in tables]
    refused = set()
    with app.test_request_context():
        routes = [
            (
                rule.endpoint,
                url_for(rule.endpoint, **{a: arguments.get(a, 1) for a in rule.arguments}),
            )
            for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and rule.endpoint not in AUDITOR_POSTS
        ]
    for endpoint, url in routes:
        response = auditor.submit(url, valid, page=token_page)
        assert response.status_code == 403, (endpoint, response.status_code)
        refused.add(endpoint)
    assert {
        "residents.new",
        "residents.edit",
        "residents.departure",
        "residents.consent",
        "admin.new_user",
        "admin.edit_user",
        "admin.toggle_active",
        "admin.wards",
        "admin.edit_ward",
    } <= refused
    assert [count(app, table) for table in tables] == before
    assert resident(app, target.id).room == target.room


def test_viewing_a_resident_is_audited_with_the_viewer(app, signed_in):
    """Opening a resident's record writes a resident.view entry naming who looked."""
    peggy = demo_resident(app, 0)
    with app.app_context():
        people = dict(db.session.execute(select(User.username, User.id)).tuples().all())
    for username in ("nurse", "manager", "auditor"):
        viewer = signed_in(username)
        before = len(audit_entries(app, "resident.view"))
        assert viewer.get(f"/residents/{peggy.id}").status_code == 200
        views = audit_entries(app, "resident.view")
        assert len(views) == before + 1, username
        entry = views[-1]
        assert (entry.actor, entry.actor_id) == (username, people[username])
        assert (entry.entity, entry.entity_id, entry.resident_id) == (
            "resident",
            str(peggy.id),
            peggy.id,
        )
    manager = signed_in("manager")
    before = len(audit_entries(app, "resident.view"))
    manager.get("/residents/")
    assert len(audit_entries(app, "resident.view")) == before, "the list is not a record view"


def test_names_in_any_script_and_markup_round_trip_escaped(app, signed_in):
    """Accented and Cyrillic names are stored exactly; markup typed into fields is never run."""
    manager = signed_in("manager")
    for name in ("Łucja Nowak", "Zoë Fairbanks", "Siobhán O'Connor"):
        assert name in page_text(manager.get("/residents/")), name
    script = "<script>alert(1)</script>"
    typed = {
        "given_name": "Дмитрий",
        "family_name": script,
        "preferred_name": "Zoë &amp; Siobhán",
        "room": "R<1>",
        "local_identifier": "Łucja&amp;1",
        "allergies": "Nuts & <b>lanolin</b>",
        "precaution_notes": f"&amp; {script} \"quoted\" 'single'",
    }
    response = manager.submit("/residents/new", admission(app, **typed))
    assert response.status_code == 303, response.get_data(as_text=True)
    resident_id = int(re.search(r"/residents/(\d+)/", response.headers["Location"]).group(1))
    stored = resident(app, resident_id)
    assert {field: getattr(stored, field) for field in typed} == typed
    [entry] = audit_entries(app, "resident.admit", resident_id)
    assert {field: entry.new[field] for field in typed} == without_free_text(typed)
    [first] = resident_history(app, resident_id)
    assert {field: first.values[field] for field in typed} == typed

    for url in (
        "/residents/",
        f"/residents/{resident_id}",
        f"/residents/{resident_id}/edit",
        f"/residents/{resident_id}/consent",
        f"/residents/{resident_id}/departure",
    ):
        page = manager.get(url).get_data(as_text=True)
        assert script not in page, url
        assert "<b>lanolin</b>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert "Zoë &amp;amp; Siobhán" in page, url
    shown = manager.get(f"/residents/{resident_id}").get_data(as_text=True)
    assert "Дмитрий &lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "Nuts &amp; &lt;b&gt;lanolin&lt;/b&gt;" in shown
    assert "&amp;amp; &lt;script&gt;" in shown
    assert "Łucja&amp;amp;1" in shown
    assert "Zoë &amp;amp; Siobhán" in manager.get("/residents/").get_data(as_text=True)

    edit = manager.get(f"/residents/{resident_id}/edit").get_data(as_text=True)
    assert 'value="Дмитрий"' in edit
    response = manager.submit(
        f"/residents/{resident_id}/edit", resident_form(stored, reason="No change intended")
    )
    assert response.status_code == 303
    assert {field: getattr(resident(app, resident_id), field) for field in typed} == typed
    assert audit_entries(app, "resident.update", resident_id) == [], "nothing changed"
