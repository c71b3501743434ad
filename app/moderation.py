"""Moderators' decisions, bans, settings and the audit log. Plain functions that flush, never commit.

Every decision -- a moderator's or a rule's -- writes exactly one
``ModerationEvent``; status changes go through ``lifecycle.change_status`` so
the article's approved count moves in the same transaction. The queues a
moderator works from and the log are read at the end of this module.

Transitions (anything else is ``409 conflict``, and nothing is done twice):
- approve: pending, rejected or spam -> approved; an approved comment with
  open flags stays approved (the flags are dismissed);
- reject: pending, approved or spam -> rejected;
- spam: pending, approved or rejected -> spam;
- pin / unpin: any comment that is not deleted and not already (un)pinned;
  pinning only changes the order of top-level comments.
Approving, rejecting and marking spam resolve the comment's open flags.
Deleted comments cannot be decided on.
"""
from datetime import timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import cursors
from .errors import ApiError, not_found, validation_error
from .extensions import db
from .lifecycle import change_status, touch_article
from .models import (FOREVER, Article, Comment, Flag, ModerationEvent, ModerationSettings, Status,
                     User, Vote)
from .rules import SETTING_FIELDS, effective_settings, open_flaggers
from .serialize import ban_json, user_json
from .timeutil import isoformat, utcnow

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
                 to_status: str | None = None, reason: str | None = None) -> ModerationEvent:
    """One row of the audit log; ``user_id`` is the user affected (the author, or the banned user)."""
    event = ModerationEvent(
        action=action, actor_id=actor.id if actor is not None else None,
        comment_id=comment.id if comment is not None else None,
        user_id=user_id if user_id is not None else (comment.author_id if comment is not None else None),
        from_status=str(from_status) if from_status is not None else None,
        to_status=str(to_status) if to_status is not None else None,
        reason=(reason or None) and reason[:500],
    )
    db.session.add(event)  # flushed with the decision it records
    return event


# -- decisions on comments -----------------------------------------------------------

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


# -- queues ----------------------------------------------------------------------------

QUEUES = ("pending", "flagged", "spam", "rejected", "approved")
EXCERPT_LENGTH = 200
_REASONED_ACTIONS = ("approve", "reject", "spam", "hold")


def _queue_order(name: str) -> list[tuple]:
    """(column, descending) pairs; ties by id."""
    if name == "pending":
        return [(Comment.created_at, False), (Comment.id, False)]
    if name == "flagged":
        return [(Comment.open_flags, True), (Comment.created_at, False), (Comment.id, False)]
    return [(Comment.decided_at, True), (Comment.id, True)]


def _queue_filter(name: str):
    if name == "flagged":
        return and_(Comment.status == Status.APPROVED, Comment.open_flags > 0)
    return Comment.status == name


def _cursor_values(name: str, comment: Comment) -> list:
    if name == "pending":
        return [comment.created_at, comment.id]
    if name == "flagged":
        return [comment.open_flags, comment.created_at, comment.id]
    return [comment.decided_at, comment.id]


def _decode_cursor(name: str, token: str | None) -> list | None:
    values = cursors.decode(f"queue-{name}", token)
    if values is None:
        return None
    expected = 3 if name == "flagged" else 2
    if len(values) != expected or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise cursors.invalid()
    values[-2] = cursors.to_datetime(values[-2])
    return values


def _after(order, values):
    """Keyset condition: rows strictly after ``values`` in ``order``."""
    clauses = []
    for i, (column, descending) in enumerate(order):
        same = [col == value for (col, _), value in zip(order[:i], values[:i])]
        clauses.append(and_(*same, column < values[i] if descending else column > values[i]))
    return or_(*clauses)


def queue_page(name: str, viewer: User, article: Article | None = None, limit: int = 20,
               after: str | None = None) -> tuple[list[dict], str | None]:
    """A page of the queue ``name`` (see ``QUEUES``), each comment with what a moderator decides on."""
    order = _queue_order(name)
    query = (select(Comment).options(joinedload(Comment.author)).where(_queue_filter(name))
             .order_by(*[col.desc() if desc else col.asc() for col, desc in order]).limit(limit + 1))
    if article is not None:
        query = query.where(Comment.article_id == article.id)
    position = _decode_cursor(name, after)
    if position is not None:
        query = query.where(_after(order, position))
    rows = list(db.session.scalars(query).unique())
    page = rows[:limit]
    next_cursor = (cursors.encode(f"queue-{name}", *_cursor_values(name, page[-1]))
                   if len(rows) > limit else None)
    return _queue_items(page, viewer), next_cursor


def queue_counts(article: Article | None = None) -> dict:
    """How many comments wait in the pending, flagged and spam queues, in one query.

    With an article, the counts are that article's, like the queue beside them.
    """
    def tally(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = select(
        tally(Comment.status == Status.PENDING),
        tally(and_(Comment.status == Status.APPROVED, Comment.open_flags > 0)),
        tally(Comment.status == Status.SPAM),
    ).where(Comment.status.in_((Status.PENDING, Status.APPROVED, Status.SPAM)))
    if article is not None:
        query = query.where(Comment.article_id == article.id)
    pending, flagged, spam = db.session.execute(query).one()
    return {"pending": int(pending), "flagged": int(flagged), "spam": int(spam)}


def _queue_items(page: list[Comment], viewer: User) -> list[dict]:
    """The JSON of a page: a constant number of IN / GROUP BY queries, whatever its size."""
    from .threads import comment_json
    if not page:
        return []
    ids = [comment.id for comment in page]
    articles = {row.id: row for row in db.session.execute(
        select(Article.id, Article.key, Article.title, Article.url)
        .where(Article.id.in_({c.article_id for c in page})))}
    parent_ids = {c.parent_id for c in page if c.parent_id is not None}
    excerpts = dict(db.session.execute(
        select(Comment.id, func.substr(Comment.body, 1, EXCERPT_LENGTH + 1))
        .where(Comment.id.in_(parent_ids))).all()) if parent_ids else {}
    flags: dict[int, list] = {}
    for comment_id, reason, count in db.session.execute(
            select(Flag.comment_id, Flag.reason, func.count())
            .where(Flag.comment_id.in_(ids), Flag.resolved_at.is_(None))
            .group_by(Flag.comment_id, Flag.reason)
            .order_by(Flag.comment_id, func.count().desc(), Flag.reason)):
        flags.setdefault(comment_id, []).append({"reason": reason, "count": count})
    stats = _author_stats({c.author_id for c in page if c.author_id is not None})
    reasons = _current_reasons(ids)
    replies = dict(db.session.execute(
        select(Comment.parent_id, func.count()).where(Comment.parent_id.in_(ids),
                                                       Comment.status != Status.DELETED)
        .group_by(Comment.parent_id)).all())
    votes = dict(db.session.execute(
        select(Vote.comment_id, Vote.value).where(Vote.user_id == viewer.id, Vote.comment_id.in_(ids))
    ).all())

    items = []
    for comment in page:
        article = articles[comment.article_id]
        reply_count = replies.get(comment.id, 0)
        data = comment_json(comment, viewer, article.key, votes.get(comment.id, 0),
                            reply_count, reply_count)
        comment_flags = flags.get(comment.id, [])
        flag_count = sum(item["count"] for item in comment_flags)
        why = list(reasons.get(comment.id, []))
        if flag_count and comment.status == Status.APPROVED:
            why.append(f"flagged by {flag_count} reader{'s' if flag_count != 1 else ''}")
        excerpt = excerpts.get(comment.parent_id)
        if excerpt is not None and len(excerpt) > EXCERPT_LENGTH:
            excerpt = excerpt[:EXCERPT_LENGTH] + "…"
        data.update({
            "body": comment.body,
            "flags": comment_flags,
            "flag_count": flag_count,
            "author_stats": stats.get(comment.author_id, {"approved": 0, "rejected": 0, "spam": 0}),
            "author_banned_until": ban_json(comment.author) if comment.author else None,
            "reasons": why,
            "article_title": article.title,
            "article_url": article.url,
            "parent_excerpt": excerpt,
            "decided_at": isoformat(comment.decided_at),
        })
        items.append(data)
    return items


def _author_stats(author_ids: set[int]) -> dict[int, dict]:
    stats = {author_id: {"approved": 0, "rejected": 0, "spam": 0} for author_id in author_ids}
    if author_ids:
        for author_id, status, count in db.session.execute(
                select(Comment.author_id, Comment.status, func.count())
                .where(Comment.author_id.in_(author_ids),
                       Comment.status.in_((Status.APPROVED, Status.REJECTED, Status.SPAM)))
                .group_by(Comment.author_id, Comment.status)):
            stats[author_id][str(status)] = count
    return stats


def _current_reasons(ids: list[int]) -> dict[int, list[str]]:
    """Why each comment has its status: the reasons of the last decision that put it there."""
    latest = (
        select(func.max(ModerationEvent.id))
        .join(Comment, Comment.id == ModerationEvent.comment_id)
        .where(ModerationEvent.comment_id.in_(ids), ModerationEvent.to_status == Comment.status,
               ModerationEvent.action.in_(_REASONED_ACTIONS))
        .group_by(ModerationEvent.comment_id)
    )
    reasons = {}
    for comment_id, actor_id, reason in db.session.execute(
            select(ModerationEvent.comment_id, ModerationEvent.actor_id, ModerationEvent.reason)
            .where(ModerationEvent.id.in_(latest))):
        if reason:
            # A rule's entry joins all its reasons with "; " (see comments.py); a moderator's is one.
            reasons[comment_id] = reason.split("; ") if actor_id is None else [reason]
    return reasons


# -- the audit log --------------------------------------------------------------------

def log_page(viewer: User, comment_id: int | None = None, user_id: int | None = None,
             actor_id: int | None = None, limit: int = 50,
             after: str | None = None) -> tuple[list[dict], str | None]:
    """Entries of the audit log, newest first (by id: the order they were written in)."""
    query = select(ModerationEvent).order_by(ModerationEvent.id.desc()).limit(limit + 1)
    for column, value in ((ModerationEvent.comment_id, comment_id), (ModerationEvent.user_id, user_id),
                          (ModerationEvent.actor_id, actor_id)):
        if value is not None:
            query = query.where(column == value)
    position = cursors.decode("log", after)
    if position is not None:
        if len(position) != 1 or not isinstance(position[0], int) or isinstance(position[0], bool):
            raise cursors.invalid()
        query = query.where(ModerationEvent.id < position[0])
    rows = list(db.session.scalars(query))
    page = rows[:limit]
    actor_ids = {event.actor_id for event in page if event.actor_id is not None}
    actors = ({user.id: user for user in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
              if actor_ids else {})
    entries = [{
        "id": event.id,
        "at": isoformat(event.at),
        "actor": user_json(actors[event.actor_id], viewer) if event.actor_id in actors else None,
        "action": event.action,
        "comment_id": event.comment_id,
        "user_id": event.user_id,
        "from": event.from_status,
        "to": event.to_status,
        "reason": event.reason,
    } for event in page]
    next_cursor = cursors.encode("log", page[-1].id) if len(rows) > limit else None
    return entries, next_cursor
