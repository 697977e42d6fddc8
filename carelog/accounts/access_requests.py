"""Separation of duties: an admin alone cannot give anyone, themselves included, clinical access.

A new account with a clinical role, or a change of role to one, made by an admin is held as an
AccessRequest until a care manager or a second admin approves it. The person who asked cannot
decide, nobody decides on their own access, and the last active admin keeps that role. Accounts
made on the server's command line (by whoever runs the server) need no approval.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session, selectinload

from carelog.accounts.models import AccessRequest, User
from carelog.accounts.roles import ACCESS_APPROVERS, CLINICAL_READERS, Role
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.database import existing, utcnow, write_transaction
from carelog.errors import FieldError
from carelog.extensions import db


class AccessError(FieldError):
    """A decision on access that cannot be made, in words."""


def needs_approval(actor: Actor, role: str) -> bool:
    """Clinical access given by a signed-in person waits for someone else's approval."""
    return actor.user_id is not None and Role(role) in CLINICAL_READERS


def ask(session: Session, actor: Actor, user: User, role: str, kind: str) -> AccessRequest:
    """Hold a grant of `role` to `user` until someone else decides (inside the caller's commit)."""
    for earlier in pending_for(session, user.id):  # a newer request replaces an open one
        earlier.decided_by_id, earlier.decided_at, earlier.approved = actor.user_id, utcnow(), False
        earlier.note = "Replaced by a newer request."
    request = AccessRequest(
        user_id=user.id, kind=kind, role=Role(role).value, requested_by_id=actor.user_id
    )
    session.add(request)
    session.flush()
    chain.record(
        session,
        actor,
        "access.request",
        "user",
        user.id,
        new={"role": request.role, "kind": kind, "request": request.id},
    )
    return request


def pending_for(session: Session | scoped_session, user_id: int) -> list[AccessRequest]:
    return list(
        session.scalars(
            select(AccessRequest).where(
                AccessRequest.user_id == user_id, AccessRequest.decided_at.is_(None)
            )
        )
    )


def pending() -> list[AccessRequest]:
    """Open requests, oldest first, with the people involved loaded."""
    return list(
        db.session.scalars(
            select(AccessRequest)
            .options(selectinload(AccessRequest.user), selectinload(AccessRequest.requested_by))
            .where(AccessRequest.decided_at.is_(None))
            .order_by(AccessRequest.id)
        )
    )


def refuse_losing_the_last_admin(session: Session, user: User, new_role: str | None) -> None:
    """The last active admin can neither be deactivated nor given another role."""
    if user.role != Role.ADMIN or not user.active or new_role == Role.ADMIN:
        return
    admins = session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )
    if (admins or 0) <= 1:
        raise AccessError(None, "This is the last active admin account: add another admin first.")


def decide(actor: Actor, request_id: int, approve: bool, note: str | None) -> AccessRequest:
    """Approve or refuse a request; approving applies the role. Both are audited."""
    with write_transaction(db.session) as session:
        request = existing(session, AccessRequest, request_id, with_for_update=True)
        decider = existing(session, User, actor.user_id)
        if request.decided_at is not None:
            raise AccessError(None, "Someone has already decided this request.")
        if Role(decider.role) not in ACCESS_APPROVERS:
            raise AccessError(None, "Only a care manager or an admin can decide on access.")
        if actor.user_id == request.requested_by_id:
            raise AccessError(None, "Someone other than the person who asked must decide.")
        if actor.user_id == request.user_id:
            raise AccessError(None, "Nobody can decide on their own access.")
        if not approve and not (note or "").strip():
            raise AccessError("note", "Say why the request is refused.")
        user = existing(session, User, request.user_id)
        request.decided_by_id, request.decided_at = actor.user_id, utcnow()
        request.approved, request.note = approve, (note or "").strip() or None
        old = {"role": user.role, "awaiting_approval": user.awaiting_approval}
        if approve:
            refuse_losing_the_last_admin(session, user, request.role)
            user.role, user.awaiting_approval = request.role, False
        chain.record(
            session,
            actor,
            "access.approve" if approve else "access.refuse",
            "user",
            user.id,
            old=old,
            new={"role": user.role, "awaiting_approval": user.awaiting_approval,
                 "request": request.id},
            reason=request.note,
        )  # fmt: skip
    return request
