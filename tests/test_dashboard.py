"""The care manager's overview: every figure checked against values worked out here from the rows
this test creates, on a ward of its own, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from sqlalchemy import select

from carelog.accounts import staff_accounts
from carelog.dashboard import views as dashboard_views
from carelog.extensions import db
from carelog.residents import records
from carelog.residents.models import Resident
from tests.helpers.records import (
    actor,
    add_residents_with_sessions,
    audit_entries,
    counting_queries,
    earlier_today,
    given_content,
    no_session_content,
    record,
    today,
    user_id,
)


def admit(app, ward: int, name: str, admitted: date, per_week: int, consent=True, **extra) -> int:
    """A resident of the test's ward through the use cases, with one consent decision."""
    manager = actor(app, "manager")
    review_on = extra.pop("review_on", admitted + timedelta(days=365))
    decided_on = extra.pop("decided_on", admitted)
    with app.app_context():
        person = records.admit(
            manager,
            {"given_name": name, "family_name": "Test", "room": name[:3], "ward_id": ward,
             "date_of_birth": date(1936, 5, 1), "admitted_on": admitted,
             "sessions_per_week": per_week, **extra},
        )  # fmt: skip
        if consent is not None:
            records.record_consent(
                manager, person.id,
                {"decided_by": "resident", "decision_maker": None, "consent_given": consent,
                 "decided_on": decided_on, "review_on": review_on, "scope_hands": "both"},
            )  # fmt: skip
        return person.id


class Home:
    """A ward of the test's own, with residents whose figures are easy to work out by hand."""

    def __init__(self, app):
        self.app = app
        self.today = today(app)
        with app.app_context():
            self.ward = staff_accounts.create_ward(actor(app, "admin"), "Test ward").id
        long_ago = self.today - timedelta(days=60)
        self.daily = admit(app, self.ward, "Daily", long_ago, 7)
        self.thrice = admit(app, self.ward, "Thrice", long_ago, 3)
        self.refuses = admit(app, self.ward, "Refuses", long_ago, 3, consent=False)
        self.deferred = admit(
            app,
            self.ward,
            "Deferred",
            long_ago,
            3,
            defer_sessions=True,
            defer_reason="Chest infection",
        )
        self.unmassaged = admit(app, self.ward, "Unmassaged", self.today - timedelta(days=30), 2)
        self.newcomer = admit(app, self.ward, "Newcomer", self.today - timedelta(days=3), 2)
        self.review_soon = admit(
            app, self.ward, "Soon", long_ago, 0, review_on=self.today + timedelta(days=10)
        )
        self.review_late = admit(
            app, self.ward, "Late", long_ago, 0, review_on=self.today - timedelta(days=1)
        )
        self.no_decision = admit(app, self.ward, "Undecided", long_ago, 0, consent=None)
        nurse = user_id(app, "nurse")
        when = earlier_today(app)
        self.given_today = record(
            app,
            self.daily,
            given_content(
                nurse,
                when,
                observations="redness,pain",
                observation_action="Barrier cream applied",
                observation_told="Nurse in charge",
            ),
            "manager",
        )
        self.not_done_today = record(
            app,
            self.daily,
            no_session_content(
                nurse, when, "not_done", not_done_reason="asleep", repeat_confirmed=True
            ),
            "manager",
        )
        self.declined_today = record(
            app, self.thrice, no_session_content(nurse, when, "declined"), "manager"
        )
        self.override = record(
            app,
            self.refuses,
            given_content(nurse, when, override_reason="She asked for it herself today"),
            "manager",
        )
        yesterday = when - timedelta(days=1)
        self.given_yesterday = record(app, self.thrice, given_content(nurse, yesterday), "manager")

    def in_period(self, first: date, moment: datetime) -> bool:
        return moment.date() >= first

    def expected(self, first: date) -> dict[str, int]:
        """Planned from the rule in words (the whole days from `first` to yesterday, at each
        target), and the entries this test made on those days: today's are counted apart."""
        yesterday = self.today - timedelta(days=1)
        days = max(0, (yesterday - first).days + 1)
        newcomer_days = min(days, 3)  # admitted three days ago
        # daily, thrice, unmassaged and the newcomer; the others plan nothing
        planned = days + round(3 * days / 7) + round(2 * days / 7) + round(2 * newcomer_days / 7)
        given = 1 if yesterday >= first else 0  # thrice, yesterday
        entries = {"planned": planned, "given": given, "declined": 0, "not_done": 0}
        entries["missed"] = max(0, planned - given)
        return entries


@pytest.fixture
def home(app):
    return Home(app)


def figures(page: str, ward: int | str) -> dict[str, dict[str, int]]:
    soup = BeautifulSoup(page, "html.parser")
    row = soup.select_one(f'table.delivery tr[data-ward="{ward}"]')
    found = {}
    for cell in row.select("td[data-period]"):
        found[cell["data-period"]] = {
            f["data-figure"]: int(f.get_text()) for f in cell.select("[data-figure]")
        }
        shares = [int(n) for n in re.findall(r"\((\d+) %\)", cell.get_text())]
        found[cell["data-period"]]["shares"] = shares
    return found


def test_planned_and_given_for_a_ward_match_the_rows(app, signed_in, home):
    page = signed_in("manager").get("/manager/").get_data(as_text=True)
    shown = figures(page, home.ward)
    week_first = home.today - timedelta(days=home.today.weekday())
    month_first = home.today.replace(day=1)
    for period, first in (("week", week_first), ("month", month_first)):
        wanted = home.expected(first)
        got = {k: v for k, v in shown[period].items() if k != "shares"}
        assert got == wanted, period
        if wanted["planned"] or wanted["given"]:
            assert sum(shown[period]["shares"]) == 100, period  # everything accounted for
    today = {k: v for k, v in shown["today"].items() if k != "shares"}
    # daily given and not done (asleep), thrice declined, refuses given with an override
    assert today == {"given": 2, "declined": 1, "not_done": 1}
    assert "asleep 1" in page


def test_the_home_line_is_the_sum_of_the_wards(app, signed_in, home):
    page = signed_in("manager").get("/manager/").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    wards = [tr["data-ward"] for tr in soup.select("table.delivery tr[data-ward]")]
    assert wards[-1] == "0" and str(home.ward) in wards
    total = figures(page, 0)
    for period in ("week", "month", "today"):
        for figure in ("planned", "given", "declined", "not_done"):
            if period == "today" and figure == "planned":
                continue
            parts = sum(figures(page, w)[period][figure] for w in wards[:-1])
            assert total[period][figure] == parts, (period, figure)


def attention_ids(page: str, name: str, attribute: str) -> list[int]:
    soup = BeautifulSoup(page, "html.parser")
    return [int(li[attribute]) for li in soup.select(f'ul[data-list="{name}"] > li')]


def test_what_needs_attention(app, signed_in, home):
    page = signed_in("manager").get("/manager/").get_data(as_text=True)
    not_massaged = attention_ids(page, "not-massaged", "data-resident")
    assert home.unmassaged in not_massaged
    assert home.deferred in not_massaged and home.refuses not in not_massaged  # she had one
    assert home.daily not in not_massaged and home.newcomer not in not_massaged

    reviews = attention_ids(page, "reviews", "data-resident")
    assert home.review_late in reviews and home.review_soon in reviews
    assert home.no_decision in reviews and home.daily not in reviews
    assert reviews.index(home.review_late) < reviews.index(home.review_soon)  # overdue first

    assert home.override in attention_ids(page, "overrides", "data-session")
    assert "She asked for it herself today" in page
    assert home.given_today not in attention_ids(page, "overrides", "data-session")

    seen = attention_ids(page, "observations", "data-session")
    assert seen.count(home.given_today) == 1
    soup = BeautifulSoup(page, "html.parser")
    line = soup.select_one(f'ul[data-list="observations"] li[data-session="{home.given_today}"]')
    words = line.get_text(" ", strip=True)
    assert "Redness, Pain" in words and "Barrier cream applied" in words
    assert "Nurse in charge" in words

    missing = attention_ids(page, "sleep-missing", "data-session")
    assert home.given_yesterday in missing
    assert home.given_today not in missing  # its night has not ended


def test_preferred_and_full_names_together(app, signed_in, home):
    with app.app_context():
        records.update(actor(app, "manager"), home.unmassaged, {"preferred_name": "Una"}, "asked")
    page = signed_in("manager").get("/manager/").get_data(as_text=True)
    assert "Una (Unmassaged Test)" in page


def test_a_manager_acknowledges_an_override_once_and_it_is_audited(app, signed_in, home):
    manager = signed_in("manager")
    url = f"/manager/overrides/{home.override}/acknowledge"
    answer = manager.submit(url, {"note": "Spoke to her daughter"}, page="/manager/")
    assert answer.status_code == 303
    page = manager.get("/manager/").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    line = soup.select_one(f'ul[data-list="overrides"] li[data-session="{home.override}"]')
    assert "acknowledged" in line["class"]
    assert "Acknowledged by Morgan Okafor" in line.get_text(" ", strip=True)
    again = manager.submit(url, {"note": ""}, page="/manager/", follow_redirects=True)
    assert "Already acknowledged" in again.get_data(as_text=True)
    entries = audit_entries(app, "session.override_acknowledged", str(home.override))
    assert len(entries) == 1


def test_a_session_without_an_override_cannot_be_acknowledged(app, signed_in, home):
    manager = signed_in("manager")
    url = f"/manager/overrides/{home.given_today}/acknowledge"
    answer = manager.submit(url, {}, page="/manager/", follow_redirects=True)
    assert "nothing to acknowledge" in answer.get_data(as_text=True)
    assert audit_entries(app, "session.override_acknowledged") == []


def test_an_auditor_reads_but_cannot_acknowledge(app, signed_in, home):
    auditor = signed_in("auditor")
    page = auditor.get("/manager/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "She asked for it herself today" in text
    assert f"/manager/overrides/{home.override}/acknowledge" not in text
    token = auditor.csrf_token("/manager/")
    refused = auditor.post(
        f"/manager/overrides/{home.override}/acknowledge", data={"csrf_token": token}
    )
    assert refused.status_code in (403, 404)
    assert audit_entries(app, "session.override_acknowledged") == []


def test_a_care_manager_starts_on_the_overview(signed_in):
    answer = signed_in("manager").get("/")
    assert answer.headers["Location"].endswith("/manager/")


def test_a_note_too_long_is_refused_in_words(app, signed_in, home):
    manager = signed_in("manager")
    url = f"/manager/overrides/{home.override}/acknowledge"
    answer = manager.submit(url, {"note": "x" * 301}, page="/manager/", follow_redirects=True)
    assert "Keep this under 300 characters" in answer.get_data(as_text=True)
    assert audit_entries(app, "session.override_acknowledged") == []


def test_the_overview_query_count_does_not_grow_with_residents(app, signed_in, home):
    """The same number of SQL statements with 40 more residents, each with sessions."""
    manager = signed_in("manager")

    def statements() -> int:
        manager.get("/manager/")
        with counting_queries(app) as seen:
            assert manager.get("/manager/").status_code == 200
        return len(seen)

    before = statements()
    add_residents_with_sessions(app, home.ward, 40)
    assert statements() == before
    assert before <= 30, f"{before} statements for the overview"


def test_a_long_list_shows_its_newest_lines_and_counts_the_rest(app, signed_in, home, monkeypatch):
    monkeypatch.setattr(dashboard_views, "LIST_LIMIT", 1)
    yesterday = earlier_today(app) - timedelta(days=1)
    record(app, home.daily, given_content(user_id(app, "nurse"), yesterday), "manager")
    page = signed_in("manager").get("/manager/").get_data(as_text=True)
    missing = attention_ids(page, "sleep-missing", "data-session")
    assert len(missing) == 1
    soup = BeautifulSoup(page, "html.parser")
    heading = soup.select_one("#sleep-title").get_text(" ", strip=True)
    total = int(re.search(r"\((\d+)\)", heading).group(1))
    assert total > 1
    note = soup.select_one('ul[data-list="sleep-missing"] + p.more').get_text(" ", strip=True)
    assert note == f"and {total - 1} more, not shown"


@pytest.mark.parametrize(("username", "page"), [("manager", "/reports/"), ("auditor", "/audit/")])
def test_pickers_show_the_preferred_name_with_the_full_name(app, signed_in, username, page):
    """The board says "Peggy"; the pickers say "Peggy (Margaret Hughes)", not only the name on
    the record."""
    with app.app_context():
        people = db.session.scalars(select(Resident).where(Resident.preferred_name.is_not(None)))
        wanted = {
            p.id: f"{p.preferred_name} ({p.given_name} {p.family_name})"
            for p in people
            if p.preferred_name != p.given_name
        }
    assert wanted, "the demo home has residents with a preferred name"
    soup = BeautifulSoup(signed_in(username).get(page).get_data(as_text=True), "html.parser")
    shown = {
        int(o["value"]): o.get_text(strip=True)
        for o in soup.select("select[name=resident_id] option")
    }
    for resident_id, words in wanted.items():
        assert shown[resident_id] == words


def test_planned_follows_the_days_the_plan_names(app, signed_in):
    """Twice a week on Tuesday and Saturday: one session planned on each of those days that
    has passed, none on the others, in the week and the month alike."""
    day = today(app)
    with app.app_context():
        ward = staff_accounts.create_ward(actor(app, "admin"), "Plan ward").id
    person = admit(app, ward, "Twice", day - timedelta(days=60), 2)
    # agreed seven weeks ago: the plan in force on each day is the one recorded by then
    with time_machine.travel(datetime.now(UTC) - timedelta(days=50)), app.app_context():
        records.update(actor(app, "manager"), person, {"plan_days": "tue,sat"}, "Plan agreed")
    shown = figures(signed_in("manager").get("/manager/").get_data(as_text=True), ward)
    yesterday = day - timedelta(days=1)
    for period, first in (
        ("week", day - timedelta(days=day.weekday())),
        ("month", day.replace(day=1)),
    ):
        plan_days = sum(
            1
            for n in range((yesterday - first).days + 1)
            if (first + timedelta(days=n)).weekday() in (1, 5)
        )
        assert shown[period]["planned"] == plan_days, period
        assert shown[period]["missed"] == plan_days, period
