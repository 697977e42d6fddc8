"""The person-centred plan: kept by care managers with a reason, shown to the nurse before each
session, flagged wherever the record opens when the person has communication needs, followed by
the board's due and overdue, and printed in a monthly report as it stood that month."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup

from carelog.audit.models import AuditEntry
from carelog.care.board import week_state
from carelog.extensions import db
from carelog.reports.month import Month
from carelog.residents import records
from carelog.residents.models import Resident, ResidentVersion
from carelog.residents.plan import days_words, plan_weekdays
from tests.helpers.records import actor, admit_consenting, count, local_time, record_given, today
from tests.test_report_pdf import pdf_text

MONDAY = date(2026, 11, 30)
PLAN = {
    "plan_days": ["mon", "fri"],
    "plan_times": ["afternoon"],
    "plan_hand": "left",
    "plan_likes": "Elvis on the radio",
    "plan_dislikes": "Being rushed",
    "plan_at_ease": "Tell her your name each time",
    "plan_discomfort": "Frowns and goes quiet",
    "communication_hearing": "",
    "communication_sight": "Cataracts: come in front of her",
    "communication_language": "",
    "communication_understanding": "",
    "reason": "Agreed with her daughter at the review",
}


def on(weekday: int) -> date:
    return MONDAY + timedelta(days=weekday)


@pytest.mark.parametrize(
    "plan, given, target, weekday, since, expected",
    [
        ("mon,wed,fri", 0, 3, 0, 2, "due"),  # Monday, a plan day
        ("mon,wed,fri", 1, 3, 1, 1, "later"),  # Tuesday: Wednesday and Friday still to come
        ("mon,wed,fri", 0, 3, 1, 4, "overdue"),  # Monday passed without one
        ("mon,wed,fri", 2, 3, 5, 1, "overdue"),  # Saturday, Friday's is missing
        ("mon,wed,fri", 3, 3, 3, 1, "met"),
        ("fri", 0, 1, 2, 5, "later"),  # once a week on Friday: Wednesday is not the day
        ("fri", 0, 1, 4, 6, "due"),
        ("fri", 0, 1, 0, 3, "later"),  # Monday, last Friday's was three days ago
        ("fri", 0, 1, 1, 11, "overdue"),  # but not when last Friday's was missed
        ("mon,tue", 0, 2, 0, 6, "due"),  # Tuesday to Monday is the plan's own gap: not overdue
        ("tue", 0, 3, 3, 2, "overdue"),  # three a week cannot fit one plan day: never "later"
        ("sat,sun", 0, 2, 4, 5, "later"),
    ],
)
def test_the_week_follows_the_plans_days(plan, given, target, weekday, since, expected):
    assert week_state(given, target, on(weekday), since, plan_weekdays(plan)) == expected


def test_plan_days_read_as_words():
    assert days_words("mon,wed,fri") == "Monday, Wednesday and Friday"
    assert days_words(None) == ""
    assert plan_weekdays("tue,sun") == {1, 6}


def plan_form(page: str) -> dict:
    return {"csrf_token": BeautifulSoup(page, "html.parser").find(id="csrf_token")["value"]}


def test_a_care_manager_keeps_the_plan_with_a_reason_and_it_is_audited(app, signed_in):
    person = admit_consenting(app, "Plan", "Holder", "P01", today(app) - timedelta(days=90))
    manager = signed_in("manager")
    versions = count(app, ResidentVersion, ResidentVersion.resident_id == person)
    page = manager.get(f"/residents/{person}/plan").get_data(as_text=True)
    without_reason = manager.post(
        f"/residents/{person}/plan", data={**PLAN, "reason": "", **plan_form(page)}
    )
    assert without_reason.status_code == 200
    assert "Say why the plan changes." in without_reason.get_data(as_text=True)
    assert count(app, ResidentVersion, ResidentVersion.resident_id == person) == versions

    saved = manager.post(f"/residents/{person}/plan", data={**PLAN, **plan_form(page)})
    assert saved.status_code == 303
    with app.app_context():
        resident = db.session.get(Resident, person)
        assert (resident.plan_days, resident.plan_times, resident.plan_hand) == (
            "mon,fri", "afternoon", "left",
        )  # fmt: skip
        assert resident.communication_hearing is None  # an empty answer stores nothing
        entry = db.session.scalars(
            db.select(AuditEntry)
            .where(AuditEntry.action == "resident.update", AuditEntry.entity_id == str(person))
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.new["plan_days"] == "mon,fri" and entry.old["plan_days"] is None
        version = db.session.scalars(
            db.select(ResidentVersion)
            .where(ResidentVersion.resident_id == person)
            .order_by(ResidentVersion.version_no.desc())
        ).first()
        assert version.reason == "Agreed with her daughter at the review"
        assert version.values["plan_likes"] == "Elvis on the radio"
    assert count(app, ResidentVersion, ResidentVersion.resident_id == person) == versions + 1

    shown = BeautifulSoup(manager.get(f"/residents/{person}").data, "html.parser")
    plan = {dt.text: dt.find_next("dd").text for dt in shown.select(".plan-lines dt")}
    assert plan == {
        "Preferred days": "Monday and Friday",
        "Preferred times of day": "Afternoon",
        "Preferred hand": "Left hand",
        "Likes": "Elvis on the radio",
        "Dislikes": "Being rushed",
        "How to help me feel at ease": "Tell her your name each time",
        "How I show discomfort or pain": "Frowns and goes quiet",
    }
    trail = signed_in("auditor").get(f"/audit/residents/{person}").get_data(as_text=True)
    assert "Monday and Friday" in trail  # the trail shows the days in words, not codes

    reopened = BeautifulSoup(manager.get(f"/residents/{person}/plan").data, "html.parser")
    ticked = {box["value"] for box in reopened.select("input[name=plan_days][checked]")}
    assert ticked == {"mon", "fri"}


def test_communication_needs_are_flagged_wherever_the_record_opens(app, signed_in):
    person = admit_consenting(app, "Needs", "Flagged", "F01", today(app) - timedelta(days=30))
    with app.app_context():
        records.update(
            actor(app, "manager"), person,
            {"communication_sight": "Registered blind", "communication_language": "Welsh first"},
            "Assessment",
        )  # fmt: skip
    record_given(app, person, local_time(app, today(app) - timedelta(days=1)))
    nurse = signed_in("nurse")
    badge = "Communication: sight, language"
    for path in (f"/residents/{person}", f"/residents/{person}/session", "/ward/",
                 f"/residents/{person}/sessions"):  # fmt: skip
        page = nurse.get(path)
        assert page.status_code == 200, path
        assert badge in page.get_data(as_text=True), path
    auditor_page = signed_in("auditor").get(f"/audit/residents/{person}")
    assert badge in auditor_page.get_data(as_text=True)
    form = BeautifulSoup(nurse.get(f"/residents/{person}/session").data, "html.parser")
    needs = form.select_one(".precautions .communication").get_text(" ", strip=True)
    assert "Sight: Registered blind" in needs and "Language: Welsh first" in needs


def test_the_board_says_when_the_plan_names_another_day(app, signed_in):
    day = today(app)
    person = admit_consenting(app, "Later", "Planned", "L01", day - timedelta(days=60))
    other_days = [d for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                  if plan_weekdays(d) != {day.weekday()}]  # fmt: skip
    coming = [d for d in other_days if next(iter(plan_weekdays(d))) > day.weekday()]
    with app.app_context():
        records.update(
            actor(app, "manager"), person,
            {"plan_days": ",".join(coming) or None, "sessions_per_week": 1}, "Plan",
        )  # fmt: skip
    # a week ago: before this week, and not so long ago that the gap makes it overdue
    record_given(app, person, local_time(app, day - timedelta(days=7)))
    board = BeautifulSoup(signed_in("nurse").get("/ward/").data, "html.parser")
    line = next(li for li in board.select("li.board-row") if "Later Planned" in li.text)
    if not coming:  # Sunday: no day of the week is still to come
        assert "Planned for another day" not in line.text
        return
    assert "Planned for another day" in line.text
    assert f"planned {', '.join(d.capitalize() for d in coming)}" in line.text


def test_the_monthly_report_prints_the_plan_in_force_that_month(app, signed_in):
    day = today(app)
    admitted = day - timedelta(days=120)
    person = admit_consenting(app, "Report", "Plan", "R01", admitted)
    earlier = Month.parse(f"{(day.replace(day=1) - timedelta(days=40)):%Y-%m}")
    before_it = datetime.combine(earlier.first_day - timedelta(days=5), time(12))
    with time_machine.travel(before_it), app.app_context():
        records.update(actor(app, "manager"), person, {"plan_likes": "Gardening"}, "Plan")
    with app.app_context():
        records.update(actor(app, "manager"), person, {"plan_likes": "Crosswords"}, "Changed")
    manager = signed_in("manager")
    pdf = manager.get(f"/reports/resident.pdf?resident_id={person}&month={earlier}")
    assert pdf.status_code == 200
    first_page = " ".join(pdf_text(pdf.data)[0].split())
    assert "Likes: Gardening" in first_page
    assert "Crosswords" not in first_page
