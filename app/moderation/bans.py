"""Bans: only a higher role bans or unbans a user; each is written to the audit log."""
from datetime import timedelta

from sqlalchemy import select

from ..accounts import identity_bans
from ..database import writing
from ..discussion.lifecycle import change_status
from ..errors import forbidden, not_found
from ..extensions import db
from ..models import (
    FOREVER,
    Comment,
    Status,
    User,
)
from ..timeutil import utcnow
from .audit import record_event
from .decisions import resolve_flags


def _target_user(user_id: int, actor: User, verb: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("No such user.")
    if user.id == actor.id:
        raise forbidden(f"You cannot {verb} yourself.")
    # Only a higher role acts on a user: moderators ban readers, admins ban readers and moderators.
    if actor.rank <= user.rank:
        raise forbidden(f"You cannot {verb} a {user.role}.")
    return user


@writing()
def ban_user(user_id: int, actor: User, days: int | None, reason: str | None,
             purge: bool = False) -> User:
    """Ban ``user_id`` for ``days`` (None: for ever); ``purge`` rejects their pending comments.

    Banning a banned user replaces the ban. Each purged comment gets its own
    ``reject`` entry in the log, after the ``ban`` entry.
    """
    user = _target_user(user_id, actor, "ban")
    user.banned_until = FOREVER if days is None else utcnow() + timedelta(days=days)
    user.ban_reason = reason or None
    record_event("ban", actor=actor, user_id=user.id, reason=reason)
    if purge:
        pending = list(db.session.scalars(
            select(Comment).where(Comment.author_id == user.id, Comment.status == Status.PENDING)
            .order_by(Comment.id).with_for_update()
        ))
        for comment in pending:
            change_status(comment, Status.REJECTED)
            record_event("reject", actor=actor, comment=comment, user_id=user.id,
                         from_status=Status.PENDING, to_status=Status.REJECTED,
                         reason=f"purged with the author's ban{': ' + reason if reason else ''}")
        resolve_flags([comment.id for comment in pending])
    db.session.flush()
    return user


@writing()
def unban_user(user_id: int, actor: User) -> User:
    """Lift a ban; unbanning a user who is not banned changes nothing and logs nothing."""
    user = _target_user(user_id, actor, "unban")
    if user.banned_until is None:
        return user
    was_active = user.is_banned()
    user.banned_until = None
    user.ban_reason = None
    identity_bans.forget_ban(user)
    if was_active:
        record_event("unban", actor=actor, user_id=user.id)
    db.session.flush()
    return user


