"""The audit trail in plain words: every kind of entry reads as a sentence with full names."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from carelog.audit.changes import changes
from carelog.audit.models import AuditEntry
from carelog.audit.sentences import ACTION_LABELS, SENTENCES, Names, sentence
from carelog.extensions import db
from carelog.residents.models import Resident
from tests.helpers.records import earlier_today, record_given

AT_ROWAN_1 = {"tablet_id": 1, "tablet": "Rowan 1"}
NAMES = Names(
    users={1: "Ada Admin", 2: "Morgan Okafor", 3: "Niamh Byrne"},
    usernames={"admin": "Ada Admin", "manager": "Morgan Okafor", "nurse": "Niamh Byrne"},
    residents={7: "Peggy (Margaret Hughes)"},
    wards={1: "Rowan"},
)


def entry(action, actor_id=3, entity="care_session", entity_id="99", resident_id=7, **values):
    return AuditEntry(
        action=action,
        actor_id=actor_id,
        actor=None,
        entity=entity,
        entity_id=entity_id,
        resident_id=resident_id,
        old_values=json.dumps(values["old"]) if "old" in values else None,
        new_values=json.dumps(values["new"]) if "new" in values else None,
    )


CASES = {
    "auth.sign_in": (entry("auth.sign_in", 3, "user", "3", None), "Niamh Byrne signed in"),
    "auth.sign_out": (
        entry("auth.sign_out", 3, "user", "3", None, new={"why": "idle"}),
        "Niamh Byrne signed out (idle)",
    ),
    "auth.sign_in_failed": (
        entry("auth.sign_in_failed", None, "user", "3", None),
        "Someone failed to sign in as Niamh Byrne",
    ),
    "auth.locked_out": (
        entry("auth.locked_out", None, "user", "3", None),
        "The command line locked the account of Niamh Byrne after too many failed sign-ins",
    ),
    "auth.throttled": (
        entry("auth.throttled", None, "client", None, None, new={"minutes": 15}),
        "Someone was refused sign-in from one address for 15 minutes after too many failures",
    ),
    "session.record": (
        entry("session.record", new={"outcome": "completed"}),
        "Niamh Byrne recorded a massage given to Peggy (Margaret Hughes)",
    ),
    "session.follow_up": (
        entry("session.follow_up"),
        "Niamh Byrne added how Peggy (Margaret Hughes) slept the night after a massage",
    ),
    "session.correction": (
        entry("session.correction", 2),
        "Morgan Okafor corrected a session of Peggy (Margaret Hughes)",
    ),
    "session.void": (
        entry("session.void", 2),
        "Morgan Okafor marked a session of Peggy (Margaret Hughes) as entered in error",
    ),
    "session.override_acknowledged": (
        entry("session.override_acknowledged", 2),
        "Morgan Okafor acknowledged a massage given to Peggy (Margaret Hughes) despite a warning",
    ),
    "resident.admit": (
        entry("resident.admit", 2, "resident", "7"),
        "Morgan Okafor admitted Peggy (Margaret Hughes)",
    ),
    "resident.update": (
        entry("resident.update", 2, "resident", "7"),
        "Morgan Okafor changed the record of Peggy (Margaret Hughes)",
    ),
    "resident.depart": (
        entry("resident.depart", 2, "resident", "7"),
        "Morgan Okafor recorded that Peggy (Margaret Hughes) left the home",
    ),
    "resident.view": (
        entry("resident.view", 3, "resident", "7", new={"page": "history"}),
        "Niamh Byrne opened the record of Peggy (Margaret Hughes) (history)",
    ),
    "consent.record": (
        entry("consent.record", 2, "consent", "4", new={"consent_given": False}),
        "Morgan Okafor recorded a consent decision for Peggy (Margaret Hughes): does not consent",
    ),
    "report.download": (
        entry("report.download", 2, "report", "r1", new={"month": "2026-11", "kind": "resident"}),
        "Morgan Okafor printed the November 2026 report for Peggy (Margaret Hughes)",
    ),
    "report.batch": (
        entry("report.batch", 2, "report_job", "j1", None, new={"month": "2026-11", "ward_id": 1}),
        "Morgan Okafor made the November 2026 reports for Rowan ward",
    ),
    "export.download": (
        entry("export.download", 2, "export", None, 7),
        "Morgan Okafor exported sessions as a spreadsheet for Peggy (Margaret Hughes)",
    ),
    "audit.export": (
        entry("audit.export", 2, "audit", None, None),
        "Morgan Okafor exported the audit trail",
    ),
    "access.request": (
        entry("access.request", 1, "user", "3", None),
        "Ada Admin asked for clinical access for Niamh Byrne",
    ),
    "access.approve": (
        entry("access.approve", 2, "user", "3", None),
        "Morgan Okafor approved clinical access for Niamh Byrne",
    ),
    "access.refuse": (
        entry("access.refuse", 2, "user", "3", None),
        "Morgan Okafor refused clinical access for Niamh Byrne",
    ),
    "user.create": (
        entry(
            "user.create", 1, "user", "3", None, new={"full_name": "Niamh Byrne", "role": "nurse"}
        ),
        "Ada Admin created the account of Niamh Byrne, nurse",
    ),
    "user.update": (
        entry("user.update", 1, "user", "3", None),
        "Ada Admin changed the account of Niamh Byrne",
    ),
    "user.password": (
        entry("user.password", 1, "user", "3", None),
        "Ada Admin set a new password for Niamh Byrne, to be replaced at their next sign-in",
    ),
    "user.unlock": (
        entry("user.unlock", 2, "user", "3", None),
        "Morgan Okafor unlocked the account of Niamh Byrne",
    ),
    "user.deactivate": (
        entry("user.deactivate", 1, "user", "3", None),
        "Ada Admin deactivated the account of Niamh Byrne",
    ),
    "user.reactivate": (
        entry("user.reactivate", 1, "user", "3", None),
        "Ada Admin reactivated the account of Niamh Byrne",
    ),
    "ward.create": (
        entry("ward.create", 1, "ward", "1", None, new={"name": "Rowan"}),
        "Ada Admin created Rowan ward",
    ),
    "ward.update": (
        entry("ward.update", 1, "ward", "1", None, new={"name": "Oak"}),
        "Ada Admin renamed a ward to Oak ward",
    ),
    "auth.switch": (
        entry(
            "auth.switch",
            3,
            "user",
            "3",
            None,
            new={"tablet_id": 1, "tablet": "Rowan 1", "from_user_id": 2},
        ),
        "Niamh Byrne took over the tablet Rowan 1 by PIN from Morgan Okafor",
    ),
    "auth.pin_failed": (
        entry(
            "auth.pin_failed", None, "user", "3", None, new={"tablet_id": 1, "tablet": "Rowan 1"}
        ),
        "Someone typed a wrong PIN for Niamh Byrne on the tablet Rowan 1",
    ),
    "auth.pin_blocked": (
        entry(
            "auth.pin_blocked", None, "user", "3", None, new={"tablet_id": 1, "tablet": "Rowan 1"}
        ),
        "Someone stopped the PIN of Niamh Byrne with too many wrong tries on the tablet Rowan 1",
    ),
    "tablet.enrol": (
        entry("tablet.enrol", 2, "tablet", "1", None, new={"name": "Rowan 1", "ward_id": 1}),
        "Morgan Okafor enrolled the tablet Rowan 1 on Rowan ward",
    ),
    "tablet.revoke": (
        entry("tablet.revoke", 2, "tablet", "1", None, new={"name": "Rowan 1", "ward_id": 1}),
        "Morgan Okafor revoked the tablet Rowan 1, signing out everyone on it",
    ),
    "resident.photo": (
        entry(
            "resident.photo", 2, "resident", "7", 7, new={"photo_id": 3, "agreed_by": "resident"}
        ),
        "Morgan Okafor added a photo of Peggy (Margaret Hughes)",
    ),
    "cards.print": (
        entry("cards.print", 2, "ward", "1", None, new={"ward_id": 1, "residents": 12}),
        "Morgan Okafor printed the door cards of Rowan ward",
    ),
    "user.pin": (
        entry("user.pin", 3, "user", "3", None),
        "Niamh Byrne chose a new PIN for the quick switch on ward tablets",
    ),
}


def test_every_action_has_a_case_here_and_a_label():
    assert set(CASES) == set(SENTENCES) == set(ACTION_LABELS)


@pytest.mark.parametrize("action", sorted(CASES))
def test_each_action_reads_as_a_sentence_with_full_names(action):
    made, words = CASES[action]
    assert sentence(made, NAMES) == words


def test_choosing_ones_own_password_reads_as_such():
    chosen = entry("user.password", 3, "user", "3", None, new={"by": "themselves"})
    assert sentence(chosen, NAMES) == "Niamh Byrne chose a new password"


def test_values_are_shown_in_words_field_by_field():
    corrected = entry(
        "session.correction",
        old={"outcome": "completed", "hands": "both", "relaxation_after_value": 7,
             "relaxation_after_status": "answered", "relaxation_after_rater": "self"},
        new={"outcome": "stopped_early", "hands": "left", "relaxation_after_value": 5,
             "relaxation_after_status": "answered", "relaxation_after_rater": "observer",
             "observations": "redness,pain", "version": 2},
    )  # fmt: skip
    shown = {c.label: (c.old, c.new) for c in changes(corrected, NAMES)}
    assert shown["Outcome"] == ("Completed", "Stopped early")
    assert shown["Hands"] == ("Both", "Left")
    assert shown["Relaxation after"] == ("7", "5 (observer)")
    assert shown["Observed"] == (None, "Redness, Pain")
    assert "version" not in shown and "Version" not in shown


def test_every_action_in_a_lived_trail_has_its_own_sentence(app):
    """The demo home's trail, laid down through the use cases, uses no action without words."""
    with app.app_context():
        used = set(db.session.scalars(select(AuditEntry.action).distinct()))
    assert used <= set(SENTENCES), used - set(SENTENCES)


def test_the_auditor_reads_sentences_with_full_names(app, signed_in):
    with app.app_context():
        person = db.session.scalars(
            select(Resident).where(Resident.preferred_name.is_not(None))
        ).first()
        known_as = person.known_as
    record_given(app, person.id, earlier_today(app))
    page = signed_in("auditor").get("/audit/").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    said = [td.get_text(" ", strip=True) for td in soup.select("td.sentence")]
    assert f"Niamh Byrne recorded a massage given to {known_as}" in said


def test_a_reversed_date_range_says_so(signed_in):
    page = signed_in("auditor").get("/audit/?date_from=2026-11-20&date_to=2026-11-01")
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert "This is before the From date" in soup.get_text(" ", strip=True)
    refused = signed_in("auditor").get("/audit/export.csv?date_from=2026-11-20&date_to=2026-11-01")
    assert refused.status_code == 400
