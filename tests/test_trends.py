"""Twelve months for a resident and a ward: every figure checked against values worked out here
from the rows the test creates, on both databases; and the pure month-by-month rule against an
independent reading of random massages."""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta

from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from carelog.accounts import staff_accounts
from carelog.reports.document import Rating
from carelog.reports.month import Month
from carelog.reports.trends import GivenMassage, last_months, month_trends, time_of_day
from tests.helpers.records import (
    actor,
    add_residents_with_sessions,
    counting_queries,
    given_content,
    local_time,
    record,
    today,
    user_id,
)
from tests.test_dashboard import admit
from tests.test_report_pdf import pdf_text


def test_the_last_months_end_with_this_one():
    months = last_months(date(2026, 2, 14))
    assert (months[0], months[-1], len(months)) == (Month(2025, 3), Month(2026, 2), 12)
    assert last_months(date(2026, 12, 1), 2) == [Month(2026, 11), Month(2026, 12)]


ratings = st.one_of(st.none(), st.integers(0, 10))
raters = st.sampled_from(["self", "observer"])
massages = st.lists(
    st.tuples(
        st.datetimes(datetime(2026, 1, 1), datetime(2026, 6, 30, 23, 59)),
        ratings, raters, ratings, raters,
    ),
    max_size=40,
)  # fmt: skip


@given(massages)
def test_each_month_counts_its_own_massages_and_never_pools_raters(drawn):
    months = [Month(2026, m) for m in range(1, 7)]
    given_massages = [
        GivenMassage(start, (Rating(b, rater=rb), Rating(a, rater=ra)), (Rating(), Rating()))
        for start, b, rb, a, ra in drawn
    ]
    trends = month_trends(given_massages, months, {Month(2026, 3): 9}, date(2026, 7, 1))
    for trend in trends:
        mine = [d for d in drawn if (d[0].year, d[0].month) == (2026, trend.month.month)]
        assert trend.given == len(mine)
        assert trend.planned == (9 if trend.month.month == 3 else 0)
        assert sum(trend.times_of_day) == len(mine)
        assert trend.times_of_day[0] == sum(1 for d in mine if d[0].hour < 6)
        assert trend.times_of_day[3] == sum(1 for d in mine if d[0].hour >= 18)
        for rater, figures in (("self", trend.relaxation.self_rated),
                               ("observer", trend.relaxation.observer)):  # fmt: skip
            changes = [
                a - b
                for _, b, rb, a, ra in mine
                if b is not None and a is not None and rb == ra == rater
            ]
            assert figures.n_pairs == len(changes)
            assert figures.median_change == (statistics.median(changes) if changes else None)
            assert figures.improved == sum(c > 0 for c in changes)
        mixed = sum(1 for _, b, rb, a, ra in mine if b is not None and a is not None and rb != ra)
        assert trend.relaxation.mixed == mixed


def test_times_of_day_begin_on_the_hour():
    assert [time_of_day(datetime(2026, 1, 1, h, 59)) for h in (5, 6, 11, 12, 17, 18, 23)] == [
        0, 1, 1, 2, 2, 3, 3,
    ]  # fmt: skip


def rated(name: str, value: int, rater: str = "self") -> dict:
    return {f"{name}_value": value, f"{name}_status": "answered", f"{name}_rater": rater}


def table(page: str) -> dict[str, dict[str, str]]:
    """The trend table's figures by month (YYYY-MM), cell by cell."""
    soup = BeautifulSoup(page, "html.parser")
    found = {}
    for row in soup.select("table.trends tbody tr"):
        cells = row.find_all("td")
        found[row["data-month"]] = {
            "planned": cells[0].get_text(strip=True),
            "given": cells[1].get_text(" ", strip=True),
            "relaxation self": cells[2].get_text(" ", strip=True),
            "relaxation observer": cells[3].get_text(" ", strip=True),
            "mood self": cells[4].get_text(" ", strip=True),
            "times": " ".join(c.get_text() for c in cells[6:]),
        }
    return found


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class Ward:
    """A ward of the test's own: one resident admitted 40 days ago, at 7 a week, with massages
    at known times; another admitted today, with none."""

    def __init__(self, app):
        self.today = today(app)
        with app.app_context():
            self.id = staff_accounts.create_ward(actor(app, "admin"), "Trend ward").id
        self.admitted = self.today - timedelta(days=40)
        self.daily = admit(app, self.id, "Daily", self.admitted, 7)
        self.newcomer = admit(app, self.id, "Newcomer", self.today, 7)
        nurse = user_id(app, "nurse")
        self.massages = [
            (self.today - timedelta(days=30), time(9, 30), 3, 7, "self"),
            (self.today - timedelta(days=29), time(14, 0), 5, 4, "self"),
            (self.today - timedelta(days=28), time(19, 15), 2, 6, "observer"),
            (self.today - timedelta(days=2), time(10, 0), 4, 8, "self"),
        ]
        for day, at, before, after, rater in self.massages:
            content = given_content(
                nurse, local_time(app, day, at),
                **rated("relaxation_before", before, rater),
                **rated("relaxation_after", after, rater),
            )  # fmt: skip
            record(app, self.daily, content, "manager")

    def planned(self, month_first: date, month_last: date, admitted: date) -> int:
        """7 a week on every day in the home with consent, to today."""
        first, last = max(month_first, admitted), min(month_last, self.today)
        return max(0, (last - first).days + 1)

    def expected(self, residents) -> dict[str, dict[str, object]]:
        found = {}
        for month in last_months(self.today):
            mine = [
                m for m in self.massages if (m[0].year, m[0].month) == (month.year, month.month)
            ]
            planned = sum(self.planned(month.first_day, month.last_day, a) for a in residents)
            times = [0, 0, 0, 0]
            for _, at, *_ in mine:
                times[at.hour // 6] += 1
            found[str(month)] = {
                "planned": str(planned),
                "given": len(mine),
                "self": [after - before for _, _, before, after, r in mine if r == "self"],
                "observer": [after - before for _, _, before, after, r in mine if r == "observer"],
                "times": " ".join(str(t) for t in times),
            }
        return found


def check(page: str, expected) -> None:
    shown = table(page)
    assert set(shown) == set(expected)
    for month, want in expected.items():
        got = shown[month]
        assert got["planned"] == want["planned"], month
        assert got["given"].split()[0] == str(want["given"]), month
        assert got["times"] == want["times"], month
        for rater in ("self", "observer"):
            changes = want[rater]
            cell = got[f"relaxation {rater}"]
            if not changes:
                assert cell == "–", month
                continue
            median = statistics.median(changes)
            share = round(100 * sum(c > 0 for c in changes) / len(changes))
            sign = "+" if median > 0 else ("−" if median < 0 else "")
            number = f"{abs(median):g}"
            assert cell == f"{sign}{number} {share}\xa0%", (month, cell)


def test_a_residents_twelve_months_match_the_rows(app, signed_in):
    ward = Ward(app)
    page = signed_in("manager").get(f"/residents/{ward.daily}/trends")
    assert page.status_code == 200
    check(page.get_data(as_text=True), ward.expected([ward.admitted]))
    summary = " ".join(
        BeautifulSoup(page.data, "html.parser").select_one(".times-of-day").text.split()
    )
    assert summary == (
        "Over these 12 months, 4 massages given: night (00:00 to 06:00) 0 (0 %), "
        "morning (06:00 to 12:00) 2 (50 %), afternoon (12:00 to 18:00) 1 (25 %), "
        "evening (18:00 to 24:00) 1 (25 %)."
    )


def test_a_wards_twelve_months_add_up_its_residents(app, signed_in):
    ward = Ward(app)
    page = signed_in("auditor").get(f"/manager/wards/{ward.id}/trends")
    assert page.status_code == 200
    check(page.get_data(as_text=True), ward.expected([ward.admitted, ward.today]))
    assert "the 2 residents who count under Trend ward" in page.get_data(as_text=True)


def test_the_ward_trend_asks_the_same_number_of_queries_for_more_residents(app, signed_in):
    ward = Ward(app)
    manager = signed_in("manager")

    def statements() -> int:
        with counting_queries(app) as seen:
            assert manager.get(f"/manager/wards/{ward.id}/trends").status_code == 200
        return len(seen)

    before = statements()
    add_residents_with_sessions(app, ward.id, 25)
    assert statements() == before


def test_the_monthly_pdf_adds_a_last_page_of_the_twelve_months_when_asked(app, signed_in):
    ward = Ward(app)
    manager = signed_in("manager")
    month = last_months(ward.today)[-1]
    url = f"/reports/resident.pdf?resident_id={ward.daily}&month={month}"
    plain, with_trend = manager.get(url), manager.get(url + "&trend=y")
    assert plain.status_code == with_trend.status_code == 200
    plain_pages, pages = pdf_text(plain.data), pdf_text(with_trend.data)
    assert len(pages) == len(plain_pages) + 1
    lines = pages[-1].splitlines()
    assert lines[0] == f"The 12 months to {month.label}"
    for key, want in ward.expected([ward.admitted]).items():
        given, planned = want["given"], int(want["planned"])
        label = Month.parse(key).label
        at = next(i for i, line in enumerate(lines) if line.startswith(label))
        if lines[at].count("(") > lines[at].count(")"):
            at += 1  # the month still running wraps its "(to 2 Dec 2026)" onto a second line
        share = f" ({round(100 * given / planned)} %)" if planned else ""
        assert lines[at + 1 : at + 3] == [str(planned), f"{given}{share}"], key
        assert lines[at + 7] == want["times"].replace(" ", " / "), key
    assert "The 12 months" not in " ".join(plain_pages)
