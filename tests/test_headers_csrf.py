"""Cookies, security headers, templates without inline script, and a CSRF token on every POST."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import func, select

from carelog.accounts.models import User
from carelog.accounts.roles import Role
from carelog.audit.models import AuditEntry
from carelog.extensions import db
from carelog.web.policy import PUBLIC, allowed_roles
from tests.conftest import CSRF_PATTERN, PASSWORDS, StaffClient

COOKIE = "carelog_session"
HTTPS = "https://localhost"
ACCOUNT_FOR_ROLE = {
    Role.NURSE: "nurse",
    Role.CARE_MANAGER: "manager",
    Role.AUDITOR: "auditor",
    Role.ADMIN: "admin",
}
# Policies that still send the origin on same-origin POSTs, which Flask-WTF checks on HTTPS.
REFERRER_POLICIES_THAT_KEEP_CSRF_WORKING = {
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\bon[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"javascript:", re.I)
INLINE_STYLE = re.compile(r"<style\b|\bstyle\s*=", re.I)
EXTERNAL_URL = re.compile(r"https?://|(?:src|href|action)\s*=\s*[\"']?//|url\(\s*[\"']?//", re.I)
# Sample values for URL parts; anything not listed gets 1 (CSRF is checked before the view runs).
SAMPLE_ARGS = {"resident_id": 1, "user_id": 4, "ward_id": 1}


def _cookie_attributes(response, name: str = COOKIE) -> dict[str, str]:
    """The attributes of the Set-Cookie header for one cookie, lower-cased names."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            attributes = {}
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attributes[key.lower()] = value
            return attributes
    raise AssertionError(f"{name} was not set: {response.headers.getlist('Set-Cookie')}")


def _sign_in_over(browser, base_url: str, referer: str | None):
    """Sign in as the nurse through the form at base_url, with the given Referer (or none)."""
    page = browser.get("/auth/sign-in", base_url=base_url)
    token = CSRF_PATTERN.search(page.get_data(as_text=True)).group(1)
    headers = {"Referer": referer} if referer else {}
    return browser.post(
        "/auth/sign-in",
        base_url=base_url,
        headers=headers,
        data={"username": "nurse", "password": PASSWORDS["nurse"], "csrf_token": token},
    )


def _audit_length(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def _csp(response) -> dict[str, set[str]]:
    """The Content-Security-Policy as {directive: {sources}}."""
    policy = response.headers.get("Content-Security-Policy")
    assert policy, "no Content-Security-Policy"
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name.lower()] = set(sources)
    return directives


def test_the_session_cookie_is_httponly_lax_and_not_secure_over_http(client):
    """Over plain HTTP the cookie is HttpOnly and SameSite=Lax, not Secure (it would be lost)."""
    response = client.sign_in("nurse")
    assert response.status_code == 303
    attributes = _cookie_attributes(response)
    assert "httponly" in attributes
    assert attributes.get("samesite") == "Lax"
    assert "secure" not in attributes


def test_the_session_cookie_is_secure_over_https(app):
    """When the request came over HTTPS, every session cookie set is also marked Secure."""
    browser = app.test_client()
    page = browser.get("/auth/sign-in", base_url=HTTPS)
    attributes = _cookie_attributes(page)
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes.get("samesite") == "Lax"

    response = _sign_in_over(browser, HTTPS, referer=f"{HTTPS}/auth/sign-in")
    assert response.status_code == 303, response.get_data(as_text=True)
    attributes = _cookie_attributes(response)
    assert {"secure", "httponly"} <= attributes.keys()
    assert attributes.get("samesite") == "Lax"
    assert response.headers.get("Strict-Transport-Security", "").startswith("max-age=")


def test_on_https_a_post_needs_a_same_origin_referer(app):
    """On HTTPS Flask-WTF needs a same-origin Referer: why no-referrer would break every form."""
    assert _sign_in_over(app.test_client(), HTTPS, referer=None).status_code == 400
    assert (
        _sign_in_over(app.test_client(), HTTPS, referer="https://evil.example/").status_code == 400
    )
    assert _sign_in_over(app.test_client(), HTTPS, referer=f"{HTTPS}/").status_code == 303


@pytest.mark.parametrize(
    "who, path",
    [
        (None, "/auth/sign-in"),
        (None, "/healthz"),
        ("nurse", "/residents/"),
        ("nurse", "/residents/1"),
        ("nurse", "/no-such-page"),
        ("nurse", "/admin/users"),
        ("manager", "/residents/new"),
        ("admin", "/admin/users"),
    ],
)
def test_pages_carry_the_security_headers(client, signed_in, who, path):
    """CSP without inline script and no framing, nosniff, a CSRF-safe referrer policy, no-store."""
    browser = signed_in(who) if who else client
    response = browser.get(path)
    assert response.status_code in (200, 403, 404), response.status_code
    csp = _csp(response)
    assert csp["default-src"] == {"'self'"}
    for directive in ("default-src", "script-src", "style-src"):
        sources = csp.get(directive, csp["default-src"])
        assert "'unsafe-inline'" not in sources, directive
        assert "'unsafe-eval'" not in sources, directive
    assert csp["frame-ancestors"] == {"'none'"}
    assert csp["object-src"] == {"'none'"}
    assert csp["base-uri"] == {"'none'"}
    assert csp["form-action"] == {"'self'"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in REFERRER_POLICIES_THAT_KEEP_CSRF_WORKING
    assert "no-store" in response.headers["Cache-Control"]
    response.close()


def _web_files(app) -> list[Path]:
    templates = Path(app.root_path, app.template_folder)
    static = Path(app.static_folder)
    files = sorted(templates.rglob("*.html"))
    files += sorted(static.rglob("*.js")) + sorted(static.rglob("*.css"))
    # A library copied in unchanged (its comments cite web pages) loads nothing: it is checked
    # by the browser tests under the same CSP, and carelog's own files here.
    files = [f for f in files if not f.is_relative_to(static / "vendor")]
    assert files, "no templates found"
    return files


def test_templates_have_no_inline_script_style_or_outside_assets(app):
    """The CSP blocks inline script and style, so templates must not need them; assets are ours."""
    problems = []
    for path in _web_files(app):
        text = path.read_text(encoding="utf-8")
        checks = [(EXTERNAL_URL, "an asset or link outside the app")]
        if path.suffix == ".html":
            checks += [
                (INLINE_SCRIPT, "an inline <script> block"),
                (EVENT_HANDLER, "an on*= event handler attribute"),
                (JAVASCRIPT_URL, "a javascript: URL"),
                (INLINE_STYLE, "inline style, which the CSP blocks"),
            ]
        for pattern, what in checks:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.name}:{line}: {what}: {match.group(0)!r}")
    assert problems == []


def test_the_template_checks_catch_what_they_look_for():
    """Negative control: each pattern catches a sample of what it forbids, not clean markup."""
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/carelog.js" defer></script>')
    assert EVENT_HANDLER.search('<button onclick="go()">')
    assert EVENT_HANDLER.search("<body onload='x()'>")
    assert not EVENT_HANDLER.search('<form action="/x" data-clears-drafts>')
    assert INLINE_STYLE.search('<div style="width: 40%">')
    assert EXTERNAL_URL.search('<link href="https://cdn.example/x.css">')
    assert EXTERNAL_URL.search('<script src="//cdn.example/x.js">')
    assert EXTERNAL_URL.search("background: url(//cdn.example/x.png)")
    assert not EXTERNAL_URL.search('<link href="/static/carelog.css">')


def _post_routes(app) -> list[tuple[str, str]]:
    """(endpoint, url) for every route that accepts POST."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "POST" in rule.methods:
                args = {name: SAMPLE_ARGS.get(name, 1) for name in rule.arguments}
                routes.append((rule.endpoint, url_for(rule.endpoint, **args)))
    return sorted(routes)


def _account_for(app, endpoint: str) -> str | None:
    """A demo account whose role may use the endpoint; None for public routes."""
    with app.test_request_context():
        policy = allowed_roles(endpoint)
    if policy is PUBLIC:
        return None
    assert policy, f"{endpoint} declares no roles"
    return ACCOUNT_FOR_ROLE[sorted(policy)[0]]


# Form data that would be accepted with a token, so that only the missing token stops it.
PLAUSIBLE_DATA = {
    "auth.sign_in": {"username": "nurse", "password": PASSWORDS["nurse"]},
    "admin.wards": {"name": "Hazel"},
    "admin.edit_ward": {"name": "Rowan East"},
    "admin.new_user": {
        "username": "csrfvictim",
        "full_name": "C Victim",
        "role": "auditor",
        "ward_id": "0",
        "password": "a-long-enough-password",
    },
    "admin.toggle_active": {"reason": "left the home"},
}


def test_every_post_route_refuses_a_request_without_a_csrf_token(app, client, signed_in):
    """For each POST route, a permitted user's POST without a token is a 400 and saves nothing."""
    routes = _post_routes(app)
    assert ("auth.sign_in", "/auth/sign-in") in routes
    browsers: dict[str | None, StaffClient] = {None: client}
    for endpoint, url in routes:
        account = _account_for(app, endpoint)
        if account not in browsers:
            browsers[account] = signed_in(account)
        browser = browsers[account]
        before = _audit_length(app)
        response = browser.post(url, data=PLAUSIBLE_DATA.get(endpoint, {}))
        assert response.status_code == 400, f"{endpoint} {url}: {response.status_code}"
        assert _audit_length(app) == before, f"{endpoint} {url} saved something"
    assert client.get("/").headers["Location"].startswith("/auth/sign-in")  # no sign-in happened
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "csrfvictim")) is None
    for account, browser in browsers.items():
        if account is not None:  # a refused sign-out left every session open
            assert "/auth/sign-in" not in browser.get("/").headers["Location"], account


@pytest.mark.parametrize(
    "endpoint, url, page",
    [
        ("auth.sign_in", "/auth/sign-in", "/auth/sign-in"),
        ("admin.wards", "/admin/wards", "/admin/wards"),
        ("admin.toggle_active", "/admin/users/4/active", "/admin/users/4"),
    ],
)
def test_the_same_post_with_its_token_is_saved(app, client, signed_in, endpoint, url, page):
    """Positive control: the data used above is accepted once the token is there."""
    account = _account_for(app, endpoint)
    browser = signed_in(account) if account else client
    before = _audit_length(app)
    response = browser.submit(url, PLAUSIBLE_DATA[endpoint], page=page)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _audit_length(app) > before
