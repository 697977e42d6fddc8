"""Who may use which route: role declarations and the deny-by-default check."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from carelog.accounts.roles import Role
from carelog.extensions import login_manager

PUBLIC = frozenset({"public"})
ROLES_ATTRIBUTE = "allowed_roles"  # set on each view function by @roles or @public


PUBLIC_ENDPOINTS = frozenset({"static"})
# All that opens for someone whose password an admin chose, until they choose their own.
WHILE_CHOOSING_A_PASSWORD = frozenset({"auth.choose_password", "auth.sign_out", "auth.keepalive"})


def roles(allowed: frozenset[Role]) -> Callable:
    """Declare which set of roles may use a view; a view without one is refused to all."""

    def decorate(view: Callable) -> Callable:
        setattr(view, ROLES_ATTRIBUTE, frozenset(allowed))
        return view

    return decorate


def public(view: Callable) -> Callable:
    """Declare a view open to anyone, signed in or not."""
    setattr(view, ROLES_ATTRIBUTE, PUBLIC)
    return view


def allowed_roles(endpoint: str) -> frozenset | None:
    """The roles an endpoint admits, PUBLIC, or None if it declares nothing."""
    if endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ROLES_ATTRIBUTE, None)


def enforce_route_policy():
    """Refuse a request unless its route declared the signed-in user's role."""
    if request.endpoint is None:
        return None  # no such route: Flask answers 404 or 405 itself
    policy = allowed_roles(request.endpoint)
    if policy is None:
        current_app.logger.error("route %s declares no roles; refused", request.endpoint)
        abort(403)
    if policy is PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in policy:
        abort(403)
    if current_user.must_choose_password and request.endpoint not in WHILE_CHOOSING_A_PASSWORD:
        return redirect(url_for("auth.choose_password"), 303)
    return None
