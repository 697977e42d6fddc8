"""The auditor's workspace: the filtered trail, keyset pages, CSV export, a resident's record and
readers, the integrity page, and that the auditor changes nothing.

A known set of entries is written through carelog.audit.chain.record with the clock set to chosen
moments around the 2025 clock changes, so that "local date" filters have something to get wrong.
Every expectation is computed by an oracle in this file that reads every entry and filters it in
Python, with its own time-zone conversion; the pages must show exactly those ids.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql

from carelog.accounts.models import User, Ward
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.audit.free_text import fingerprint
from carelog.audit.models import AuditEntry
from carelog.care.models import CareSession, CareSessionVersion
from carelog.database import write_transaction
from carelog.extensions import db
from carelog.residents.models import Consent, Resident
from tests.helpers.pages import text
from tests.helpers.records import (
    add_correction,
    counting_queries,
    local_time,
    nurse_ward,
    plain_residents,
    record_given,
    today,
    user_id,
    ward_id,
)

HOME_ZONE = ZoneInfo("Europe/London")
PAGE_SIZE = 50
CSV_HEADER = [
    "id",
    "recorded_at",
    "actor_id",
    "actor",
    "action",
    "entity",
    "entity_id",
    "resident_id",
    "old_values",
    "new_values",
    "reason",
    "ip",
    "user_agent",
    "prev_hash",
    "hash",
]
# Moments (UTC) whose local dates differ from their UTC dates around the 2025 clock changes.
MOMENTS = (
    datetime(2025, 3, 29, 23, 30, tzinfo=UTC),  # 29 Mar 23:30 GMT
    datetime(2025, 3, 30, 0, 30, tzinfo=UTC),  # 30 Mar 00:30 GMT, just before the change
    datetime(2025, 3, 30, 23, 30, tzinfo=UTC),  # 31 Mar 00:30 BST
    datetime(2025, 7, 1, 22, 58, tzinfo=UTC),  # 1 Jul 23:58 BST
    datetime(2025, 7, 1, 23, 1, tzinfo=UTC),  # 2 Jul 00:01 BST
    datetime(2025, 10, 25, 23, 30, tzinfo=UTC),  # 26 Oct 00:30 BST
    datetime(2025, 10, 26, 23, 30, tzinfo=UTC),  # 26 Oct 23:30 GMT
)
# POSTs the auditor may make because they only produce something to read: a batch of report PDFs
# made in the background (allowed to the auditor in tests/test_route_policy.py's table).
AUDITOR_MAY_POST = frozenset({"reports.start_batch", "auditor.verify_report"})  # reads only
ACTIONS = ("session.record", "resident.view", "report.download")
KNOWN = 210  # enough for several pages of the whole trail and of one action


# ----- a known set of entries ---------------------------------------------------------------


@pytest.fixture
def known(app, monkeypatch) -> list[int]:
    """210 entries by three users about residents of both wards, at the MOMENTS; their ids."""
    with app.app_context():
        people = db.session.scalars(select(Resident.id).order_by(Resident.id)).all()
        staff = db.session.execute(
            select(User.id, User.username)
            .where(User.username.in_(["nurse", "nurse2", "manager"]))
            .order_by(User.id)
        ).all()
    clock = {"now": MOMENTS[0]}
    monkeypatch.setattr(chain, "utcnow", lambda: clock["now"])
    ids = []
    with app.app_context(), write_transaction(db.session) as session:
        for n in range(KNOWN):
            clock["now"] = MOMENTS[n % len(MOMENTS)] + timedelta(seconds=n // len(MOMENTS))
            who = staff[n % len(staff)]
            resident = people[(n * 5) % len(people)]
            action = ACTIONS[n % len(ACTIONS)]
            entry = chain.record(
                session,
                Actor(who.id, who.username, f"10.0.0.{n % 7}", "tablet"),
                action,
                "care_session" if action == "session.record" else "resident",
                n,
                resident_id=resident,
                new={"n": n, "label": "Zoë's hands, Łucja's ward"},
            )
            ids.append(entry.id)
    monkeypatch.undo()
    return ids


def all_entries(app) -> list[AuditEntry]:
    """Every entry, in chain order, detached."""
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        return list(entries)


def local_date(entry: AuditEntry) -> date:
    """The entry's date where the home is, computed here, not by carelog.local_time."""
    stamp = datetime.strptime(entry.recorded_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return stamp.astimezone(HOME_ZONE).date()


def wards_of(app) -> dict[int, int]:
    """resident id -> ward id."""
    with app.app_context():
        return dict(db.session.execute(select(Resident.id, Resident.ward_id)).all())


def oracle(app, **filters) -> list[int]:
    """The ids that should match the filters, newest first, computed in Python."""
    ward_of = wards_of(app)
    checks: list[Callable[[AuditEntry], bool]] = []
    if "date_from" in filters:
        checks.append(lambda e: local_date(e) >= date.fromisoformat(filters["date_from"]))
    if "date_to" in filters:
        checks.append(lambda e: local_date(e) <= date.fromisoformat(filters["date_to"]))
    if "actor_id" in filters:
        checks.append(lambda e: e.actor_id == filters["actor_id"])
    if "resident_id" in filters:
        checks.append(lambda e: e.resident_id == filters["resident_id"])
    if "ward_id" in filters:
        checks.append(lambda e: ward_of.get(e.resident_id) == filters["ward_id"])
    if "action" in filters:
        checks.append(lambda e: e.action == filters["action"])
    matching = [e.id for e in all_entries(app) if all(check(e) for check in checks)]
    return sorted(matching, reverse=True)


# ----- reading the trail pages --------------------------------------------------------------


def entry_ids(page: str) -> list[int]:
    """The entry numbers listed on a page, in the order shown."""
    return [int(n) for n in re.findall(r"<small>#(\d+)</small>", page)]


def older_link(page: str) -> str | None:
    """Where the 'Older entries' button points, if there is one."""
    match = re.search(r'<a class="button secondary" href="([^"]+)">Older entries</a>', page)
    return html.unescape(match.group(1)) if match else None


def walk_trail(staff, **filters) -> list[list[int]]:
    """Every page of the trail for the filters, following 'Older entries' to the end."""
    url = "/audit/?" + urlencode(filters) if filters else "/audit/"
    pages = []
    while url:
        response = staff.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        pages.append(entry_ids(page))
        url = older_link(page)
        assert len(pages) < 100, "the pager does not end"
    return pages


def flat(pages: list[list[int]]) -> list[int]:
    return [n for page in pages for n in page]


# ----- the trail ----------------------------------------------------------------------------


def test_the_trail_is_newest_first_and_pages_without_overlap_or_gap(app, signed_in, known):
    """Unfiltered: pages of 50, newest first, each starting below the last; together, all."""
    auditor = signed_in("auditor")
    pages = walk_trail(auditor)
    expected = oracle(app)
    assert len(expected) > 4 * PAGE_SIZE
    assert flat(pages) == expected
    assert [len(p) for p in pages[:-1]] == [PAGE_SIZE] * (len(pages) - 1)
    assert 0 < len(pages[-1]) <= PAGE_SIZE
    assert pages[0][0] == max(e.id for e in all_entries(app))
    for newer, older in zip(pages, pages[1:], strict=False):
        assert older[0] == newer[-1] - 1, "a gap or an overlap between pages"


def test_an_entry_shows_who_what_why_and_from_where(app, signed_in, resident_with_history):
    """A correction's row carries the old and new values, the reason and the address."""
    session_id, _ = resident_with_history
    page = signed_in("auditor").get("/audit/?action=session.correction").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page, re.S)
    assert len(rows) == 1
    row = text(rows[0])
    assert f"care_session {session_id}" in row
    assert f"Why: given in the record ({fingerprint('Corrected in a test')})" in row
    assert "Duration (minutes) 10 → 25" in row
    assert "Morgan Okafor corrected a session of" in row and "from 127.0.0.1" in row


@pytest.mark.parametrize(
    "filters",
    [
        {"date_from": "2025-03-30", "date_to": "2025-03-31"},
        {"date_from": "2025-03-31", "date_to": "2025-03-31"},
        {"date_from": "2025-07-02", "date_to": "2025-10-26"},
        {"date_to": "2025-07-01"},
        {"date_from": "2025-10-26"},
        {"actor": "nurse2"},
        {"resident": 2},
        {"ward": "Willow"},
        {"action": "resident.view"},
        {"ward": "Rowan", "action": "report.download", "date_from": "2025-07-02"},
        {"actor": "manager", "resident": 7, "date_to": "2025-03-31"},
    ],
    ids=lambda f: "+".join(f"{k}={v}" for k, v in f.items()),
)
def test_each_filter_narrows_to_exactly_the_matching_entries(app, signed_in, known, filters):
    """The page shows exactly the oracle's ids, newest first, across every page."""
    query = dict(filters)
    if "actor" in query:
        query["actor_id"] = user_id(app, query.pop("actor"))
    if "resident" in query:
        query["resident_id"] = query.pop("resident")
    if "ward" in query:
        query["ward_id"] = ward_id(app, query.pop("ward"))
    auditor = signed_in("auditor")
    expected = oracle(app, **query)
    assert expected, "the filter should match something"
    assert len(expected) < len(oracle(app)), "the filter should leave something out"
    assert flat(walk_trail(auditor, **query)) == expected


def test_local_dates_decide_the_date_filters(app, signed_in, known):
    """23:30 UTC on 30 March 2025 is 31 March in London; 23:30 UTC on 26 October is still 26th."""
    n = len(MOMENTS)
    on_day = {
        "2025-03-29": [known[i] for i in range(0, KNOWN, n)],
        "2025-03-30": [known[i] for i in range(1, KNOWN, n)],
        "2025-03-31": [known[i] for i in range(2, KNOWN, n)],
        "2025-07-01": [known[i] for i in range(3, KNOWN, n)],
        "2025-07-02": [known[i] for i in range(4, KNOWN, n)],
        "2025-10-26": [known[i] for j in (5, 6) for i in range(j, KNOWN, n)],
    }
    auditor = signed_in("auditor")
    for day, ids in on_day.items():
        shown = flat(walk_trail(auditor, date_from=day, date_to=day))
        assert shown == sorted(ids, reverse=True), day


# ----- the CSV export -----------------------------------------------------------------------


def export(staff, **filters) -> tuple[str, list[list[str]]]:
    """Download the CSV; return the raw text and its parsed rows."""
    response = staff.get("/audit/export.csv?" + urlencode(filters))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    response.close()
    body = raw.decode("utf-8")
    return body, list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def cell(value) -> str:
    """How the csv module writes a value."""
    return "" if value is None else str(value)


def test_the_csv_export_has_the_header_a_bom_and_one_row_per_entry(app, signed_in, known):
    """Filtered by resident: a BOM, the documented header, every matching entry, accents intact."""
    accented = 2
    with app.app_context():
        name = db.session.get(Resident, accented).given_name
    assert name == "Łucja"
    auditor = signed_in("auditor")
    body, rows = export(auditor, resident_id=accented)

    assert body.startswith("\ufeff")
    assert rows[0] == CSV_HEADER
    entries = {e.id: e for e in all_entries(app)}
    expected = sorted(oracle(app, resident_id=accented))
    assert [int(r[0]) for r in rows[1:]] == expected
    for row in rows[1:]:
        assert row == [cell(getattr(entries[int(row[0])], c)) for c in CSV_HEADER]
    admitted = [r for r in rows[1:] if r[4] == "resident.admit"]
    assert len(admitted) == 1 and '"given_name":"Łucja"' in admitted[0][9]
    assert any("Zoë's hands, Łucja's ward" in r[9] for r in rows[1:])

    last = entries[max(entries)]
    assert (last.action, last.actor, last.resident_id) == ("audit.export", "auditor", accented)
    assert last.new == {"resident_id": str(accented)}
    assert rows[-1][0] == str(last.id), "the export is itself in the export it made"


def test_the_csv_export_follows_every_filter(app, signed_in, known):
    """Date range and action in the export are the trail's filters, oldest first."""
    filters = {"date_from": "2025-03-30", "date_to": "2025-07-01", "action": "resident.view"}
    _, rows = export(signed_in("auditor"), **filters)
    assert [int(r[0]) for r in rows[1:]] == sorted(oracle(app, **filters))
    assert all(r[4] == "resident.view" for r in rows[1:])
    assert audit_entries_of(app, "audit.export")[-1].new == filters


def test_a_whole_export_can_be_verified_away_from_carelog(app, signed_in, known):
    """The unfiltered CSV holds every hashed field: the chain verifies from the file alone."""
    _, rows = export(signed_in("auditor"))
    header, body = rows[0], rows[1:]
    integers = {"id", "actor_id", "resident_id"}
    parsed = [
        {
            name: (int(value) if name in integers and value else value or None)
            for name, value in zip(header, row, strict=True)
        }
        for row in body
    ]
    result = chain.verify_rows(parsed)
    assert result.ok, result.problem
    assert result.count == len(all_entries(app))
    parsed[3]["reason"] = "inserted afterwards"
    assert not chain.verify_rows(parsed).ok


def audit_entries_of(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
        db.session.expunge_all()
        return list(entries)


# ----- a resident's record and readers ------------------------------------------------------


@pytest.fixture
def resident_with_history(app) -> tuple[int, int]:
    """A resident of the nurse's ward with a session and a manager's correction: (session, id)."""
    person = plain_residents(app, nurse_ward(app, "nurse"))[0]
    session_id = record_given(app, person.id, local_time(app, today(app) - timedelta(days=1)))
    add_correction(app, session_id, {"duration_minutes": 25})
    return session_id, person.id


def actors(part: str) -> list[str]:
    """Who acted in each entry listed in part of a page: the start of its sentence."""
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", part, re.S)
    said = [text(re.findall(r'<td class="sentence">(.*?)</td>', row, re.S)[0]) for row in rows]
    return [words.split(" opened ")[0] for words in said]


def section(page: str, heading: str) -> str:
    """The part of the page from an h2 starting with `heading` to the next h2."""
    match = re.search(rf"<h2>{re.escape(heading)}.*?(?=<h2>|\Z)", page, re.S)
    assert match, heading
    return match.group(0)


def test_a_residents_record_lists_changes_and_separately_who_viewed(
    app, signed_in, resident_with_history
):
    """Views by a nurse and a manager are listed as reads; the session and correction as changes."""
    session_id, resident = resident_with_history
    for who in ("nurse", "manager"):
        assert signed_in(who).get(f"/residents/{resident}").status_code == 200
    views = [e for e in audit_entries_of(app, "resident.view") if e.resident_id == resident]
    assert [e.actor for e in views] == ["nurse", "manager"]

    auditor = signed_in("auditor")
    page = auditor.get(f"/audit/residents/{resident}").get_data(as_text=True)
    reads, changes = section(page, "Who viewed"), section(page, "Everything recorded")
    about = [e for e in all_entries(app) if e.resident_id == resident]
    assert sorted(entry_ids(reads)) == [e.id for e in views]
    assert sorted(entry_ids(changes)) == [e.id for e in about if e.action != "resident.view"]
    assert entry_ids(reads) == sorted(entry_ids(reads), reverse=True)
    assert entry_ids(changes) == sorted(entry_ids(changes), reverse=True)
    actions = {e.id: e.action for e in about}
    assert {actions[n] for n in entry_ids(changes)} >= {
        "resident.admit",
        "session.record",
        "session.correction",
    }
    assert actors(reads) == ["Morgan Okafor", "Niamh Byrne"]
    assert f"care_session {session_id}" in text(changes)

    again = auditor.get(f"/audit/residents/{resident}").get_data(as_text=True)
    readers = [e.actor for e in audit_entries_of(app, "resident.view") if e.resident_id == resident]
    assert readers == ["nurse", "manager", "auditor", "auditor"]
    assert len(entry_ids(section(again, "Who viewed"))) == 3, "the auditor's own visit is a read"


# ----- integrity ----------------------------------------------------------------------------


def integrity(staff, checkpoint: str | None = None) -> str:
    url = "/audit/integrity" + (f"?{urlencode({'checkpoint': checkpoint})}" if checkpoint else "")
    response = staff.get(url)
    assert response.status_code == 200
    return text(response)


def head(app) -> tuple[str, int]:
    with app.app_context():
        return chain.head(db.session)


def test_the_integrity_page_shows_intact_with_count_and_head(app, signed_in):
    """Verified now: intact, the number of entries and the head hash, and the checkpoint."""
    auditor = signed_in("auditor")
    digest, count = head(app)
    page = integrity(auditor)
    assert "Verified now: the chain is intact." in page
    assert f"Entries verified {count} " in page
    assert f"Head hash {digest} " in page
    assert f"Checkpoint {digest}:{count} " in page


def test_a_checkpoint_is_confirmed_and_a_wrong_one_is_not(app, signed_in, resident_with_history):
    """The current head confirms; an earlier head still confirms; a wrong or longer one does not."""
    auditor = signed_in("auditor")
    digest, count = head(app)
    confirmed = integrity(auditor, f"{digest}:{count}")
    assert "the chain is intact" in confirmed
    assert f"Checked against {digest}:{count}" in confirmed

    earlier = all_entries(app)[count // 2 - 1]
    assert "the chain is intact" in integrity(auditor, f"{earlier.hash}:{earlier.id}")

    slip = ("0" if digest[0] != "0" else "1") + digest[1:]
    mistyped = integrity(auditor, f"{slip}:{count}")
    assert "This does not match: check the typing." in mistyped
    assert "the chain is intact" not in mistyped

    wrong = "".join("0" if c != "0" else "1" for c in digest[:12]) + digest[12:]
    refused = integrity(auditor, f"{wrong}:{count}")
    assert "does NOT match that checkpoint (differs from the checkpoint)" in refused
    assert "the chain is intact" not in refused

    longer = integrity(auditor, f"{digest}:{count + 5}")
    assert "shorter than the checkpoint: entries removed" in longer

    malformed = integrity(auditor, "not-a-checkpoint")
    assert "not in the form HASH:COUNT" in malformed


def test_the_integrity_page_names_an_entry_changed_behind_the_apps_back(
    app, backend, signed_in, resident_with_history
):
    """Someone with the database owner's rights disables the trigger and edits an entry."""
    victim = all_entries(app)[9].id
    if backend == "sqlite":
        statements = [
            "DROP TRIGGER audit_entry_no_update",
            f"UPDATE audit_entry SET reason = 'nothing to see' WHERE id = {victim}",
        ]
    else:
        statements = [
            "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change",
            f"UPDATE audit_entry SET reason = 'nothing to see' WHERE id = {victim}",
        ]
    with app.app_context(), write_transaction(db.session) as session:
        for statement in statements:
            session.execute(sql(statement))
    page = integrity(signed_in("auditor"))
    assert f"does NOT verify at entry {victim}: content altered" in page
    assert f"Entries verified {victim - 1} " in page


# ----- the auditor changes nothing ----------------------------------------------------------


def row_counts(app) -> dict[str, int]:
    """Rows in every clinical and staff table, and audit entries other than sign-ins."""
    with app.app_context():
        counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Ward, User, Resident, Consent, CareSession, CareSessionVersion)
        }
        counts["audit (not sign-in)"] = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.not_like("auth.%"))
        )
        return counts


def test_every_non_get_route_answers_403_to_the_auditor(app, signed_in, resident_with_history):
    """Every POST (and any other writing method) in the app is refused; nothing changes."""
    session_id, resident = resident_with_history
    args = {
        "session_id": session_id,
        "resident_id": resident,
        "user_id": user_id(app, "nurse"),
        "ward_id": ward_id(app, "Rowan"),
    }
    auditor = signed_in("auditor")
    token = auditor.csrf_token("/")
    before = row_counts(app)
    tried, served = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("auth.") or rule.endpoint in ("static", "tablets.switch"):
            continue  # signing in and out (switching nurse too) is every user's own business
        if rule.endpoint == "offline.receive_entry":
            continue  # the signing nurse's entry, whoever is signed in (tests/test_offline.py)
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **{name: args.get(name, 1) for name in rule.arguments})
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            response = auditor.open(url, method=method, data={"csrf_token": token})
            response.close()
            tried.append(f"{method} {url}")
            if rule.endpoint in AUDITOR_MAY_POST:
                assert response.status_code < 400, f"{method} {url}"
            elif response.status_code != 403:
                served.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
    assert served == [], "the auditor may change something"
    assert any("/correct" in t for t in tried) and any("/void" in t for t in tried)
    assert row_counts(app) == before


def test_the_trail_names_the_resident_of_each_entry_from_one_resident_query(app, signed_in):
    """Entries about a resident carry their name; the names come from the filter's own list."""
    person = plain_residents(app, nurse_ward(app))[0]
    record_given(app, person.id, local_time(app, today(app)))
    auditor = signed_in("auditor")
    with counting_queries(app) as statements:
        page = auditor.get(f"/audit/?resident_id={person.id}").get_data(as_text=True)
    assert f"recorded a massage given to {html.escape(person.known_as)}</td>" in page
    resident_queries = [s for s in statements if re.search(r"\bFROM resident\b", s)]
    assert len(resident_queries) == 1, resident_queries
