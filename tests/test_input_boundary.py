"""One input boundary: every id, page, cursor, month and date a client sends is checked once, and
a value out of range is a 400 or a form error in words, never a 500."""

from __future__ import annotations

import pytest

from tests.helpers.records import audit_entries

HUGE = "99999999999999999999999"
# Each out of range for one kind of input: ids and pages, months, dates (Hypothesis adds text).
BAD_VALUES = (HUGE, "2147483648", "-1", "0000-01", "9999-12", "9999-12-31")
QUERY_NAMES = ("ward", "ward_id", "resident_id", "actor_id", "page", "before", "month", "date_from",
               "date_to", "checkpoint", "report")  # fmt: skip
WHO = {"manager": "care_manager", "auditor": "auditor", "admin": "admin", "nurse": "nurse"}


def get_routes(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods
            and rule.endpoint != "static"]  # fmt: skip


def url_with(rule, value: str) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = path.replace(f"<int:{argument}>", value).replace(f"<{argument}>", value)
        path = path.replace(f"<string:{argument}>", value).replace(f"<path:{argument}>", value)
    return path


@pytest.mark.longest
def test_no_get_route_answers_500_to_values_out_of_range(app, signed_in):
    """The thirteen 500s of the outside test, and more: every GET route, every role, every name
    a query string uses, each bad value."""
    from carelog.web.policy import allowed_roles

    clients = {role: signed_in(name) for name, role in WHO.items()}  # managers before nurses
    failures = []
    for rule in get_routes(app):
        with app.app_context():
            policy = allowed_roles(rule.endpoint) or ()
        who = next((role for role in clients if role in policy), None)
        client = clients[who] if who else clients["nurse"]
        for value in BAD_VALUES:
            if rule.arguments and not value:
                continue
            base = url_with(rule, value) if rule.arguments else rule.rule
            for name in QUERY_NAMES:
                url = f"{base}?{name}={value}" + ("&month=2026-10" if name != "month" else "")
                try:
                    response = client.get(url)
                    response.get_data()
                    response.close()
                except Exception as error:  # the test client lets a 500's exception through
                    failures.append((who, url, type(error).__name__))
                    continue
                if response.status_code >= 500:
                    failures.append((who, url, response.status_code))
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize(
    "url",
    [
        f"/ward/?ward={HUGE}",
        f"/audit/?before={HUGE}",
        "/audit/?date_to=9999-12-31",
        "/audit/export.csv?date_to=9999-12-31",
        "/reports/sessions.csv?month=0000-01",
        "/reports/sessions.csv?month=9999-12",
        f"/reports/sessions.csv?month=2026-10&resident_id={HUGE}",
        f"/reports/sessions.csv?month=2026-10&ward_id={HUGE}",
        "/ward/?ward=\u00b2",  # a digit to str.isdigit(), not to int()
        "/audit/?before=\u00b2\u00b3",
    ],
)
def test_out_of_range_values_are_refused_in_words(app, signed_in, url):
    """A 400 (or the form again) that says what is wrong, and no trail entry for an export that was
    not produced."""
    who = "auditor" if url.startswith("/audit") else "manager"
    client = signed_in(who)
    before = len(audit_entries(app))
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    if response.status_code != 404:
        assert any(words in body for words in ("between", "month as", "from the list")), url
    after = [e.action for e in audit_entries(app)[before:]]
    assert not [a for a in after if a in ("export.download", "audit.export")], after


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1899-12", "2200-01"])
def test_a_batch_for_a_month_out_of_range_is_refused_before_it_starts(app, signed_in, month):
    """The batch once accepted 9999-12 and failed in the background; now the form says why."""
    from carelog.reports.models import ReportJob
    from tests.helpers.records import count

    manager = signed_in("manager")
    jobs = count(app, ReportJob)
    response = manager.submit("/reports/batch", {"month": month, "ward_id": "0"}, page="/reports/")
    assert response.status_code == 303
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "Give a month between 1900 and 2199" in page or "YYYY-MM" in page
    assert count(app, ReportJob) == jobs


def test_hypothesis_finds_no_500_in_any_query_string(app, signed_in):
    """Hypothesis throws numbers of any size, dates, months and odd text at every GET route."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from carelog.web.policy import allowed_roles

    clients = {role: signed_in(name) for name, role in WHO.items()}
    routes = []
    for rule in get_routes(app):
        with app.app_context():
            policy = allowed_roles(rule.endpoint) or ()
        who = next((role for role in clients if role in policy), "nurse")
        routes.append((rule, clients[who]))
    values = st.one_of(
        st.integers().map(str),
        st.dates().map(str),
        st.tuples(st.integers(0, 9999), st.integers(0, 99)).map(lambda p: f"{p[0]:04d}-{p[1]:02d}"),
        st.text(max_size=40),
    )

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(route=st.sampled_from(routes), name=st.sampled_from(QUERY_NAMES), value=values,
           path_id=st.integers(min_value=-(2**70), max_value=2**70))  # fmt: skip
    def no_500(route, name, value, path_id):
        rule, client = route
        path = url_with(rule, str(path_id)) if rule.arguments else rule.rule
        response = client.get(path, query_string={name: value, "month": "2026-10"} | {name: value})
        response.get_data()
        response.close()
        assert response.status_code < 500, (path, name, value)

    no_500()
