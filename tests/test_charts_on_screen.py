"""Charts on the resident's page: the PDF's drawings as inline SVG, read back point by point, and
the resident's own ratings summarised apart from an observer's."""

from __future__ import annotations

from datetime import date, time, timedelta

from bs4 import BeautifulSoup

from carelog.accounts import staff_accounts
from carelog.care.vocabulary import MOOD, RELAXATION
from carelog.reports.document import Rating
from carelog.reports.pdf import charts, small_charts
from carelog.reports.span import Span
from carelog.reports.stats import paired_by_rater
from carelog.residents import records
from tests.helpers.records import (
    actor,
    add_residents_with_sessions,
    admit_consenting,
    counting_queries,
    given_content,
    local_time,
    no_session_content,
    record,
    record_given,
    today,
    user_id,
)
from tests.test_dashboard import admit


def rated(name: str, value: int, rater: str = "self") -> dict:
    return {f"{name}_value": value, f"{name}_status": "answered", f"{name}_rater": rater}


def plotted_value(y: float, scale) -> float:
    """A chart's y (drawing units; the SVG keeps them and flips its group) back to a rating."""
    plot = charts.HEIGHT - charts.BOTTOM - charts.TOP
    return round(scale.low + (y - charts.BOTTOM) / plot * (scale.high - scale.low), 1)


def markers(svg, scale) -> dict[str, list[float]]:
    """The values plotted as each kind of marker: the resident's circles (before) and filled
    squares (after), an observer's hollow and filled triangles."""
    found: dict[str, list[float]] = {"self before": [], "self after": [], "observer": []}
    top = charts.HEIGHT - charts.TOP + 1  # the legend's samples sit on the title line, above
    for circle in svg.find_all("circle"):
        if float(circle["cy"]) < top:
            found["self before"].append(plotted_value(float(circle["cy"]), scale))
    for rect in svg.find_all("rect"):
        size = float(rect["width"])
        square = abs(size - float(rect["height"])) < 0.05 and size < charts.SQUARE + 0.05
        if square and rect.get("fill") == "rgb(0%,0%,0%)":
            centre = float(rect["y"]) + size / 2
            if centre < top:
                found["self after"].append(plotted_value(centre, scale))
    for polygon in svg.find_all("polygon"):
        ys = [float(pair.split()[1]) for pair in polygon["points"].split(",")]
        apex, base = max(ys), min(ys)
        radius = (apex - base) / 1.8
        centre = apex - radius
        if centre < top:
            found["observer"].append(plotted_value(centre, scale))
    return {kind: sorted(values) for kind, values in found.items()}


def test_a_span_of_months_ends_today_and_counts_its_days():
    span = Span.months_to(3, date(2026, 12, 2))
    assert (span.first_day, span.last_day, span.days) == (date(2026, 9, 3), date(2026, 12, 2), 91)
    assert Span.months_to(1, date(2027, 3, 31)).first_day == date(2027, 3, 1)
    assert Span.months_to(12, date(2028, 2, 29)).first_day == date(2027, 3, 1)
    assert span.index(date(2026, 9, 3)) == 1 and span.index(date(2026, 9, 2)) is None
    assert (span.index(date(2026, 10, 1)), "Oct") in span.ticks()
    assert span.label == "3 Sep to 2 Dec 2026"
    assert Span.months_to(1, date(2027, 1, 10)).label == "11 Dec 2026 to 10 Jan 2027"
    assert "Jan 2027" in dict(Span.months_to(6, date(2027, 3, 1)).ticks()).values()


def test_the_residents_own_ratings_and_an_observers_are_never_pooled():
    pairs = [
        (Rating(2), Rating(6)),
        (Rating(3), Rating(4)),
        (Rating(5, rater="observer"), Rating(4, rater="observer")),
        (Rating(1), Rating(9, rater="observer")),  # one of each: compared in neither
        (Rating(absence="declined"), Rating(7)),
    ]
    figures = paired_by_rater(pairs)
    assert figures.self_rated.n_pairs == 2 and figures.self_rated.median_change == 2.5
    assert figures.self_rated.improved == 2
    assert figures.observer.n_pairs == 1 and figures.observer.median_change == -1
    assert figures.observer.worse == 1 and figures.mixed == 1


def test_the_resident_page_draws_every_rating_where_it_belongs(app, signed_in):
    day = today(app)
    person = admit_consenting(app, "Chart", "Reader", "C01", day - timedelta(days=200))
    record_given(
        app, person, local_time(app, day - timedelta(days=6)),
        **rated("relaxation_before", 3), **rated("relaxation_after", 7),
        **rated("mood_before", 2), **rated("mood_after", 4),
    )  # fmt: skip
    record_given(
        app, person, local_time(app, day - timedelta(days=5)),
        **rated("relaxation_before", 2, "observer"), **rated("relaxation_after", 5, "observer"),
        **rated("mood_before", 3), **rated("mood_after", 3),
    )  # fmt: skip
    record_given(
        app, person, local_time(app, day - timedelta(days=4)),
        **rated("relaxation_before", 4), **rated("relaxation_after", 6, "observer"),
        **rated("mood_before", 5), **rated("mood_after", 5),
    )  # fmt: skip
    record_given(  # before the month shown: drawn only over 3 months
        app, person, local_time(app, day - timedelta(days=40)),
        **rated("relaxation_before", 1), **rated("relaxation_after", 10),
    )  # fmt: skip
    manager = signed_in("manager")
    page = manager.get(f"/residents/{person}?months=1")
    assert page.status_code == 200
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    relaxation, mood, sleep = soup.find_all("svg", class_="chart")
    assert markers(relaxation, RELAXATION) == {
        "self before": [3, 4],
        "self after": [7],
        "observer": [2, 5, 6],
    }
    assert markers(mood, MOOD) == {
        "self before": [2, 3, 5],
        "self after": [3, 4, 5],
        "observer": [],
    }
    assert "style=" not in str(relaxation)  # the page's CSP allows no inline style
    assert relaxation.find("title").get_text().startswith("Relaxation, ")

    tables = soup.select("table.figures")
    rows = [[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])]
            for row in tables[0].select("tbody tr")]  # fmt: skip
    assert rows == [
        ["By the resident", "1", "3 → 7", "+4", "1 of 1 (100 %)"],
        ["By an observer", "1", "2 → 5", "+3", "1 of 1 (100 %)"],
    ]
    assert "1 session rated once by the resident and once by an observer" in tables[0].parent.text
    assert "3 massages given" in page.get_data(as_text=True)

    longer = BeautifulSoup(manager.get(f"/residents/{person}?months=3").data, "html.parser")
    assert markers(longer.find("svg", class_="chart"), RELAXATION)["self after"] == [7, 10]


def test_a_period_not_offered_is_refused_in_words(app, signed_in):
    nurse = signed_in("nurse")
    response = nurse.get("/residents/1?months=7")
    assert response.status_code == 400
    assert "Charts cover 1, 3, 6 or 12 months." in response.get_data(as_text=True)


# ----- a ward's residents side by side ------------------------------------------------------------


def strip_changes(svg) -> dict[str, list[float]]:
    """The changes plotted on a small chart: filled circles (the resident) and triangles
    (an observer), read back from their centres."""
    reach, plot = 5, small_charts.HEIGHT - small_charts.BOTTOM - small_charts.TOP

    def change(y: float) -> float:
        return round((y - small_charts.BOTTOM) / plot * 2 * reach - reach, 1)

    own = [change(float(c["cy"])) for c in svg.find_all("circle")]
    observed = []
    for polygon in svg.find_all("polygon"):
        ys = [float(pair.split()[1]) for pair in polygon["points"].split(",")]
        observed.append(change(max(ys) - (max(ys) - min(ys)) / 1.8))
    return {"self": sorted(own), "observer": sorted(observed)}


def test_the_ward_page_shows_every_resident_on_the_board_with_their_changes(app, signed_in):
    day = today(app)
    with app.app_context():
        ward = staff_accounts.create_ward(actor(app, "admin"), "Chart ward").id
    long_ago = day - timedelta(days=90)
    rated_one = admit(app, ward, "Rated", long_ago, 3)
    admit(app, ward, "Quiet", long_ago, 3)
    gone = admit(app, ward, "Gone", long_ago, 3)
    nurse = user_id(app, "nurse")
    for days_ago, ratings in (
        (3, {**rated("relaxation_before", 3), **rated("relaxation_after", 6)}),
        (2, {**rated("relaxation_before", 5), **rated("relaxation_after", 4),
             **rated("mood_before", 2), **rated("mood_after", 4)}),
        (1, {**rated("relaxation_before", 2, "observer"),
             **rated("relaxation_after", 9, "observer")}),
        (40, {**rated("relaxation_before", 1), **rated("relaxation_after", 2)}),  # too long ago
    ):  # fmt: skip
        when = local_time(app, day - timedelta(days=days_ago))
        record(app, rated_one, given_content(nurse, when, **ratings), "manager")
    record(
        app, rated_one,
        no_session_content(nurse, local_time(app, day - timedelta(days=1), time(15)), "declined"),
        "manager",
    )  # fmt: skip
    with app.app_context():
        records.record_departure(actor(app, "manager"), gone, day, "Moved to another home")

    page = signed_in("auditor").get(f"/manager/wards/{ward}/charts")
    assert page.status_code == 200
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    panels = {li.h2.a.get_text(): li for li in soup.select("ul.ward-charts > li")}
    assert set(panels) == {"Rated Test", "Quiet Test"}
    # the observer's +7 is drawn on the edge of the scale, at +5
    assert strip_changes(panels["Rated Test"].svg) == {"self": [-1, 3], "observer": [5]}
    text = " ".join(panels["Rated Test"].dl.get_text(" ", strip=True).split())
    assert "Given 3 massages" in text
    assert "Relaxation resident +1, 1 of 2 better; observer +7, 1 of 1 better" in text
    # mood 3 -> 4 unless given: +1, +2, +1
    assert "Mood resident +1, 3 of 3 better; observer none" in text
    assert strip_changes(panels["Quiet Test"].svg) == {"self": [], "observer": []}


def test_the_ward_page_asks_the_same_number_of_queries_for_more_residents(app, signed_in):
    with app.app_context():
        ward = staff_accounts.create_ward(actor(app, "admin"), "Growing ward").id
    manager = signed_in("manager")

    def statements() -> int:
        with counting_queries(app) as seen:
            assert manager.get(f"/manager/wards/{ward}/charts").status_code == 200
        return len(seen)

    admit(app, ward, "First", today(app) - timedelta(days=30), 3)
    before = statements()
    add_residents_with_sessions(app, ward, 30)
    assert statements() == before


def test_an_unknown_ward_is_not_found(signed_in):
    assert signed_in("manager").get("/manager/wards/999999/charts").status_code == 404
