"""Deny by default: every route, every role, anonymous too, against one policy table."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from carelog.accounts.models import User
from carelog.audit.actor import Actor
from carelog.care import recording
from carelog.care.models import CONTENT_FIELDS, SessionContent
from carelog.database import utcnow
from carelog.extensions import db
from carelog.web.policy import PUBLIC, allowed_roles

NURSE, MANAGER, AUDITOR, ADMIN = "nurse", "care_manager", "auditor", "admin"
STAFF = {NURSE, MANAGER, AUDITOR, ADMIN}
ACCOUNTS = {NURSE: "nurse", MANAGER: "manager", AUDITOR: "auditor", ADMIN: "admin"}
EVERYONE = "everyone"

# endpoint -> who may use it. A route missing here fails test_every_route_is_in_the_table.
POLICY: dict[str, set[str] | str] = {
    "static": EVERYONE,
    "home.healthz": EVERYONE,
    "auth.sign_in": EVERYONE,
    "home.index": STAFF,
    "auth.sign_out": STAFF,
    "auth.keepalive": STAFF,
    "auth.choose_password": STAFF,
    "residents.index": {NURSE, MANAGER, AUDITOR},
    "residents.show": {NURSE, MANAGER, AUDITOR},
    "residents.trends": {NURSE, MANAGER, AUDITOR},
    "residents.plan": {MANAGER},
    "residents.new": {MANAGER},
    "residents.edit": {MANAGER},
    "residents.departure": {MANAGER},
    "residents.consent": {MANAGER},
    "admin.users": {ADMIN},
    "admin.new_user": {ADMIN},
    "admin.edit_user": {ADMIN},
    "admin.toggle_active": {ADMIN},
    "admin.unlock": {ADMIN, MANAGER},
    "admin.access": {ADMIN, MANAGER},
    "auditor.verify_report": {AUDITOR},
    "admin.decide_access": {ADMIN, MANAGER},
    "admin.wards": {ADMIN},
    "admin.edit_ward": {ADMIN},
    "ward.board": {NURSE, MANAGER, AUDITOR},
    "ward.follow_ups": {NURSE, MANAGER},
    "ward.record_follow_up": {NURSE, MANAGER},
    "sessions.new": {NURSE, MANAGER},
    "sessions.declined": {NURSE, MANAGER},
    "sessions.not_done": {NURSE, MANAGER},
    "sessions.show": {NURSE, MANAGER, AUDITOR},
    "sessions.history": {NURSE, MANAGER, AUDITOR},
    "corrections.correct": {NURSE, MANAGER},
    "corrections.void": {NURSE, MANAGER},
    "auditor.trail": {AUDITOR},
    "auditor.export": {AUDITOR},
    "auditor.integrity": {AUDITOR},
    "auditor.printed_code": {AUDITOR},
    "auditor.resident": {AUDITOR},
    "reports.index": {MANAGER, AUDITOR},
    "reports.resident_pdf": {MANAGER, AUDITOR},
    "reports.sessions_csv": {MANAGER, AUDITOR},
    "reports.start_batch": {MANAGER, AUDITOR},
    "reports.job": {MANAGER, AUDITOR},
    "reports.job_download": {MANAGER, AUDITOR},
    "dashboard.index": {MANAGER, AUDITOR},
    "dashboard.acknowledge": {MANAGER},
    "dashboard.ward_charts_page": {MANAGER, AUDITOR},
    "dashboard.ward_trends_page": {MANAGER, AUDITOR},
    "tablets.index": {MANAGER, ADMIN},
    "tablets.enrol": {MANAGER, ADMIN},
    "tablets.revoke": {MANAGER, ADMIN},
    "tablets.choose_pin": {NURSE},
    "tablets.switch": EVERYONE,
    "photos.show": {NURSE, MANAGER, AUDITOR},
    "photos.edit": {MANAGER},
    "photos.remove": {MANAGER},
    "cards.scan": {NURSE, MANAGER},
    "cards.open_card": {NURSE, MANAGER},
    "cards.ward_cards": {MANAGER},
    # Working offline: the page shells and the service worker hold no one's data; an entry
    # from the outbox carries its nurse's signature, whoever is signed in (or nobody).
    "offline.service_worker": EVERYONE,
    "offline.board_shell": EVERYONE,
    "offline.session_shell": EVERYONE,
    "offline.follow_ups_shell": EVERYONE,
    "offline.unavailable": EVERYONE,
    "offline.ping": EVERYONE,
    "offline.receive_entry": EVERYONE,
    "offline.roster": {NURSE, MANAGER},
}

SAMPLE_ARGS = {
    "resident_id": 1,
    "user_id": 4,
    "ward_id": 1,
    "session_id": 1,
    "job_id": "00000000-0000-4000-8000-000000000000",
    "request_id": 1,
    "filename": "carelog.css",
    "tablet_id": 1,
    "code": "R1-000000",
    "report": "00000000-0000-4000-8000-000000000000",
    "checkpoint": "0" * 64 + ":1",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        args = {name: SAMPLE_ARGS[name] for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_route_is_in_the_table(app):
    """A new route must be added to POLICY with the roles it admits."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - POLICY.keys() == set(), "routes missing from the policy table"
    assert POLICY.keys() - endpoints == set(), "table names routes that no longer exist"


def test_declared_roles_match_the_table(app):
    """What each view declares in code is what the table says."""
    with app.test_request_context():
        for endpoint, expected in POLICY.items():
            declared = allowed_roles(endpoint)
            if expected == EVERYONE:
                assert declared is PUBLIC, endpoint
            else:
                assert {str(r) for r in declared} == expected, endpoint


def test_a_view_without_a_declaration_is_refused(app, signed_in):
    """Deny by default: a route that forgot to declare roles answers 403 to everyone."""

    @app.get("/undeclared")
    def undeclared():
        return "should never be served"

    assert signed_in("admin").get("/undeclared").status_code == 403


def _a_session_for_resident_1(app) -> None:
    """Give the session routes something to show: a session the nurse logged just now."""
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.username == "nurse"))
        content = {field: None for field in CONTENT_FIELDS}
        content.update(occurred_at=utcnow(), given_by_id=nurse.id, outcome="declined")
        recording.record_session(
            Actor(nurse.id, nurse.username),
            1,
            str(uuid.uuid4()),
            SessionContent.from_columns(content),
            {},
        )


@pytest.mark.parametrize("who", [None, NURSE, MANAGER, AUDITOR, ADMIN])
def test_every_route_with_every_role(app, signed_in, client, who):
    """Allowed roles are served (never 403/500); others get 403; anonymous is sent to sign in."""
    _a_session_for_resident_1(app)
    browser = signed_in(ACCOUNTS[who]) if who else client
    token = browser.csrf_token("/" if who else "/auth/sign-in")
    for endpoint, method, url in _routes(app):
        if endpoint == "auth.sign_out":
            continue  # signing out ends the session this loop is using; tested on its own
        allowed = POLICY[endpoint]
        if method == "GET":
            response = browser.get(url)
        else:
            response = browser.post(url, data={"csrf_token": token})
        status = response.status_code
        response.close()
        label = f"{who or 'anonymous'} {method} {url}"
        assert status < 500, label
        if allowed == EVERYONE:
            assert status != 403, label
        elif who is None:
            assert status in (302, 303, 401), label
            if status != 401:
                assert "/auth/sign-in" in response.headers["Location"], label
        elif who in allowed:
            assert status not in (401, 403), label
        else:
            assert status == 403, label


@pytest.mark.parametrize("who", [NURSE, MANAGER, AUDITOR, ADMIN])
def test_every_role_can_sign_out(signed_in, who):
    """Sign-out is a POST open to every role."""
    browser = signed_in(ACCOUNTS[who])
    response = browser.submit("/auth/sign-out", page="/")
    assert response.status_code == 303
