"""Moderators' decisions, bans and settings, each written to the audit log. Plain functions that flush, never commit.

Every decision -- a moderator's or a rule's -- writes exactly one
``ModerationEvent``; status changes go through ``lifecycle.change_status`` so
the article's approved count moves in the same transaction. What a moderator
reads (the queues and the audit log) is in ``moderation_queues.py``.

Transitions (anything else is ``409 conflict``, and nothing is done twice):
- approve: pending, rejected or spam -> approved; an approved comment with
  open flags stays approved (the flags are dismissed);
- reject: pending, approved or spam -> rejected;
- spam: pending, approved or rejected -> spam;
- pin / unpin: any comment that is not deleted and not already (un)pinned;
  pinning only changes the order of top-level comments.
Approving, rejecting and marking spam resolve the comment's open flags.
Deleted comments cannot be decided on. A moderator's or admin's comment is acted on only
by its author or a higher role (``ensure_outranks_authors``, 403).
"""
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from . import identities
from .errors import ApiError, not_found, validation_error
from .extensions import db
from .lifecycle import change_status, touch_article
from .models import (FOREVER, ROLE_RANK, Comment, Flag, ModerationEvent, ModerationSettings, Role,
                     Status, User)
from .rules import SETTING_FIELDS, effective_settings, open_flaggers
from .timeutil import utcnow

ACTIONS = ("approve", "reject", "spam", "pin", "unpin")
MAX_BULK = 500

# action -> (statuses it may start from, status it leads to)
_TRANSITIONS = {
    "approve": ((Status.PENDING, Status.REJECTED, Status.SPAM), Status.APPROVED),
    "reject": ((Status.PENDING, Status.APPROVED, Status.SPAM), Status.REJECTED),
    "spam": ((Status.PENDING, Status.APPROVED, Status.REJECTED), Status.SPAM),
}
_DONE = {"approve": "approved", "reject": "rejected", "spam": "marked as spam"}


def record_event(action: str, *, actor: User | None, comment: Comment | None = None,
                 user_id: int | None = None, from_status: str | None = None,
                 to_status: str | None = None, reason: str | None = None,
                 previous_body: str | None = None) -> ModerationEvent:
    """One row of the audit log; ``user_id`` is the user affected (the author, or the banned user)."""
    affected = user_id if user_id is not None else (comment.author_id if comment is not None else None)
    event = ModerationEvent(
        action=action, actor_id=actor.id if actor is not None else None,
        comment_id=comment.id if comment is not None else None,
        user_id=affected,
        # Read in the INSERT itself: the log names the user even after the account is deleted.
        user_name=select(User.username).where(User.id == affected).scalar_subquery() if affected else None,
        from_status=str(from_status) if from_status is not None else None,
        to_status=str(to_status) if to_status is not None else None,
        reason=(reason or None) and reason[:500],
        previous_body=previous_body,
    )
    db.session.add(event)  # flushed with the decision it records
    return event


# -- decisions on comments -----------------------------------------------------------

def ensure_outranks_authors(actor: User, comments: list[Comment], verb: str) -> None:
    """Staff words are acted on only by their author or a higher role (an admin's by no one else); 403."""
    others = {c.author_id for c in comments if c.author_id is not None and c.author_id != actor.id}
    if not others:
        return
    roles = db.session.execute(select(User.id, User.role).where(User.id.in_(others))).all()
    outranked = {user_id for user_id, role in roles if ROLE_RANK[Role(role)] >= actor.rank}
    if outranked:
        shown = ", ".join(str(c.id) for c in comments if c.author_id in outranked)
        raise ApiError(403, "forbidden", f"You cannot {verb} comments by staff of your rank or "
                                         f"above (comment {shown}). Nothing was changed.")


def find_for_decision(comment_id: int) -> Comment:
    """The comment, locked for this transaction (so two moderators cannot count it twice); 404."""
    comment = db.session.scalar(
        select(Comment).where(Comment.id == comment_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if comment is None:
        raise not_found("No such comment.")
    return comment


def _apply(comment: Comment, action: str, actor: User, reason: str | None) -> bool:
    """Make the decision and its audit row; True when the comment's open flags are to be resolved."""
    if action not in ACTIONS:
        raise validation_error({"action": "must be one of " + ", ".join(ACTIONS)})
    current = Status(comment.status)
    if current == Status.DELETED:
        raise ApiError(409, "conflict", f"Comment {comment.id} is deleted.")
    if action in ("pin", "unpin"):
        wanted = action == "pin"
        if comment.pinned == wanted:
            raise ApiError(409, "conflict", f"Comment {comment.id} is already {action}ned.")
        comment.pinned = wanted
        touch_article(comment.article_id)
        record_event(action, actor=actor, comment=comment, from_status=current,
                     to_status=current, reason=reason)
        return False
    sources, target = _TRANSITIONS[action]
    dismisses_flags = action == "approve" and current == Status.APPROVED and comment.open_flags > 0
    if current not in sources and not dismisses_flags:
        raise ApiError(409, "conflict",
                       f"Comment {comment.id} is {current.value}; it cannot be {_DONE[action]}.")
    change_status(comment, target)
    record_event(action, actor=actor, comment=comment, from_status=current, to_status=target,
                 reason=reason)
    return True


def _resolve_flags(comment_ids: list[int]) -> None:
    if not comment_ids:
        return
    db.session.execute(update(Flag).where(Flag.comment_id.in_(comment_ids), Flag.resolved_at.is_(None))
                       .values(resolved_at=utcnow()))
    db.session.execute(update(Comment).where(Comment.id.in_(comment_ids)).values(open_flags=0)
                       .execution_options(synchronize_session="fetch"))


def decide(comment: Comment, action: str, actor: User, reason: str | None = None) -> Comment:
    """A moderator's decision on one comment (see the module's transitions)."""
    ensure_outranks_authors(actor, [comment], "decide on")
    if _apply(comment, action, actor, reason):
        _resolve_flags([comment.id])
    db.session.flush()
    return comment


def bulk_decide(ids: list[int], action: str, actor: User, reason: str | None = None) -> int:
    """The same decision on many comments, all or nothing.

    Any unknown id is ``404`` and any invalid transition ``409`` for the whole
    request: the error handler rolls everything back. Duplicated ids count once.
    """
    wanted = sorted(set(ids))
    if len(wanted) > MAX_BULK:
        raise validation_error({"ids": f"at most {MAX_BULK} ids at once"})
    # Locked in id order, so two bulk requests cannot deadlock each other.
    found = list(db.session.scalars(
        select(Comment).where(Comment.id.in_(wanted)).order_by(Comment.id).with_for_update()
        .execution_options(populate_existing=True)
    ))
    missing = set(wanted) - {comment.id for comment in found}
    if missing:
        shown = ", ".join(str(i) for i in sorted(missing)[:20])
        raise not_found(f"No such comment: {shown}. Nothing was changed.")
    ensure_outranks_authors(actor, found, "decide on")
    to_resolve = [comment.id for comment in found if _apply(comment, action, actor, reason)]
    _resolve_flags(to_resolve)
    db.session.flush()
    return len(found)


def hold_for_flags(comment: Comment) -> None:
    """Send an approved comment that reached the flag threshold back to pending (a rule's decision)."""
    db.session.refresh(comment, with_for_update=True)
    if comment.status != Status.APPROVED:
        return  # another request held or decided it meanwhile
    flaggers = open_flaggers(comment.id)
    old = change_status(comment, Status.PENDING)
    record_event("hold", actor=None, comment=comment, from_status=old, to_status=Status.PENDING,
                 reason=f"flagged by {flaggers} reader{'s' if flaggers != 1 else ''}")
    db.session.flush()


# -- bans ------------------------------------------------------------------------------

def _target_user(user_id: int, actor: User, verb: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("No such user.")
    if user.id == actor.id:
        raise ApiError(403, "forbidden", f"You cannot {verb} yourself.")
    # Only a higher role acts on a user: moderators ban readers, admins ban readers and moderators.
    if actor.rank <= user.rank:
        raise ApiError(403, "forbidden", f"You cannot {verb} a {user.role}.")
    return user


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
        _resolve_flags([comment.id for comment in pending])
    db.session.flush()
    return user


def unban_user(user_id: int, actor: User) -> User:
    """Lift a ban; unbanning a user who is not banned changes nothing and logs nothing."""
    user = _target_user(user_id, actor, "unban")
    if user.banned_until is None:
        return user
    was_active = user.is_banned()
    user.banned_until = None
    user.ban_reason = None
    identities.forget_ban(user)
    if was_active:
        record_event("unban", actor=actor, user_id=user.id)
    db.session.flush()
    return user


# -- settings --------------------------------------------------------------------------

def update_settings(fields: dict) -> dict:
    """Store the given (already validated) settings; answers the whole effective settings."""
    unknown = set(fields) - set(SETTING_FIELDS)
    if unknown:
        raise validation_error({name: "is not a setting" for name in unknown})
    row = db.session.get(ModerationSettings, 1, with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                row = ModerationSettings(id=1)
                db.session.add(row)
        except IntegrityError:  # another admin saved the first settings at the same moment
            row = db.session.get(ModerationSettings, 1, with_for_update=True, populate_existing=True)
    for name, value in fields.items():
        setattr(row, name, list(value) if isinstance(value, (list, tuple)) else value)
    db.session.flush()
    return effective_settings()
