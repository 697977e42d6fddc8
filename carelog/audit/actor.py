"""Who is acting and from where, for the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_login import current_user


def current_actor() -> Actor:
    """The signed-in user (if any) and where the request came from, for the audit trail."""
    user = current_user if current_user and current_user.is_authenticated else None
    return Actor(
        user_id=user.id if user else None,
        name=user.username if user else None,
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent", ""),
    )


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where, as the request (or the command line) knows it."""

    user_id: int | None
    name: str | None
    ip: str | None = None
    user_agent: str | None = None
